//! Load shedding: at most `connections.max_requests_in_flight` requests are worked on at once,
//! and the next one is answered 503 with `Retry-After` at once. Queueing it instead would only
//! make it wait for a database connection that the requests ahead of it hold, until every
//! request in the queue times out together; a fast 503 lets the browser, or the load balancer,
//! try again when there is room.
//!
//! `/healthz` and `/readyz` are behind the same bound: an instance that is shedding answers its
//! health checks 503 too, so the load balancer sends new connections to the other instance until it recovers.

use std::convert::Infallible;

use axum::{BoxError, error_handling::HandleErrorLayer, response::Response};
use tower::{
    ServiceBuilder,
    layer::util::{Identity, Stack},
    limit::GlobalConcurrencyLimitLayer,
    load_shed::{LoadShedLayer, error::Overloaded},
};

/// The layer that bounds the requests in flight (one bound for every route together).
pub type Layer = ServiceBuilder<
    Stack<
        GlobalConcurrencyLimitLayer,
        Stack<LoadShedLayer, Stack<HandleErrorLayer<Shed, ()>, Identity>>,
    >,
>;

/// What a request that found no room is answered.
pub type Shed = fn(BoxError) -> std::future::Ready<Result<Response, Infallible>>;

pub fn layer(max_in_flight: u32) -> Layer {
    ServiceBuilder::new()
        .layer(HandleErrorLayer::new(shed as Shed))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(max_in_flight as usize))
}

fn shed(error: BoxError) -> std::future::Ready<Result<Response, Infallible>> {
    if !error.is::<Overloaded>() {
        // The routes cannot fail (their error type is `Infallible`): only the shedding can.
        tracing::error!(%error, "a request failed below the load-shedding layer");
    }
    crate::monitoring::request_shed();
    std::future::ready(Ok(super::errors::unavailable()))
}
