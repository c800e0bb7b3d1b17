//! One card asking too much: a GCRA limit per card (the verified certificate's key), so that a
//! stolen or scripted card cannot take the service's capacity from everyone else. It applies
//! before the session is read or anything is asked of the database; the site's own files are
//! not counted (a page needs several, and they cost nothing). Over the limit the answer is 429
//! with `Retry-After` and the trilingual page, and the refusal goes to the audit log like other
//! refused requests: the first of a burst at once, the rest counted into one row an interval.

use std::{num::NonZeroU32, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use super::{context::RequestContext, is_public, notices::shown, refusals::RefusalLog};

/// The route name refusals are audited under.
pub const ROUTE: &str = "card_rate_limit";
/// The refusal's reason code.
pub const REASON: &str = "rate_limited";

#[derive(Clone)]
pub struct CardLimit {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    refusals: RefusalLog,
}

impl CardLimit {
    pub fn new(per_second: u32, burst: u32, refusals: RefusalLog) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(
            Quota::per_second(per_second).allow_burst(burst),
        ));
        // The limiter keeps a state per card: forget the cards that have been quiet.
        crate::tls::admission::every_minute_while_alive(&limiter, |limiter| {
            limiter.retain_recent()
        });
        Self { limiter, refusals }
    }
}

/// Middleware inside [`super::context::attach`]: requests without a verified card (public
/// assets) and the site's own files pass uncounted.
pub async fn limit(State(state): State<CardLimit>, request: Request, next: Next) -> Response {
    let Some(context) = request.extensions().get::<RequestContext>().cloned() else {
        return next.run(request).await;
    };
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let key = &context.client().identity().public_key_sha256;
    match state.limiter.check_key(key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up: a client that waits that long is let through.
            let wait_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let wait_secs = wait_secs.max(1);
            state.refusals.record(&context, ROUTE, REASON, None).await;
            crate::monitoring::card_rate_limited();
            too_many(wait_secs)
        }
    }
}

fn too_many(wait_secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait_secs.to_string())],
        Html(app::status_pages::too_many_requests(wait_secs, &shown())),
    )
        .into_response()
}
