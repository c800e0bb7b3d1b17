//! Why the server could not answer: the one error type of every server function, typed on both
//! sides of the wire. The server sends it as JSON (`{"error":"invalid","code":"card_number"}`)
//! with the matching HTTP status, and the pages match on its variants, never on message text.

use std::borrow::Cow;

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// The message of each variant is for logs and for the person at the screen: it never holds
/// internals, which go to the server's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "code", rename_all = "snake_case")]
pub enum ServiceError {
    #[error("the service is temporarily unavailable; try again in a moment")]
    Unavailable,
    /// The same answer for "does not exist" and "belongs to a controller you are not linked
    /// to", so that the second cannot be told from the first.
    #[error("not found")]
    NotFound,
    /// The request has no signed-in session (it ended, or this page never starts one).
    #[error("no session")]
    NoSession,
    /// The connection presented no verified client certificate.
    #[error("the connection has no verified client certificate")]
    NoCertificate,
    /// Input that cannot be used; the code names the field (`card_number`, `from`, …) for the
    /// page to explain in the reader's language.
    #[error("invalid:{0}")]
    Invalid(Cow<'static, str>),
    /// The request is well formed but the state does not allow it now (a deployment test that
    /// is already confirmed, …); the code names the state for the page to explain.
    #[error("conflict:{0}")]
    Conflict(Cow<'static, str>),
    /// Stored bytes no longer match the SHA-256 recorded when they were archived: nothing is
    /// shown, the error is logged and audited.
    #[error("integrity")]
    Integrity,
    /// The database stopped the work at its statement timeout (an expensive search): nothing
    /// was wrong with the request, but it asked for more than is done at once.
    #[error("the request took too long and was stopped")]
    TookTooLong,
    /// The request or its answer could not be carried or read (the network, a request the
    /// server function could not decode): the server function framework's own errors. Their
    /// text names internal fields, so it is not carried.
    #[error("the request could not be sent or read")]
    Request,
}

impl ServiceError {
    /// Invalid input in the field (or of the kind) `code`.
    pub const fn invalid(code: &'static str) -> Self {
        Self::Invalid(Cow::Borrowed(code))
    }

    /// A state that refuses the request, named by `code`.
    pub const fn conflict(code: &'static str) -> Self {
        Self::Conflict(Cow::Borrowed(code))
    }

    /// Whether this is invalid input in the field `code`.
    pub fn is_invalid(&self, code: &str) -> bool {
        matches!(self, Self::Invalid(c) if c == code)
    }

    /// The code of invalid input or of a conflict, which the pages explain.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Invalid(code) | Self::Conflict(code) => Some(code),
            _ => None,
        }
    }

    /// The HTTP status a server function answers with.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::Unavailable | Self::TookTooLong => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::NoSession | Self::NoCertificate => StatusCode::UNAUTHORIZED,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Integrity => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Request => StatusCode::BAD_REQUEST,
        }
    }
}

impl FromServerFnError for ServiceError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(_: ServerFnErrorErr) -> Self {
        // On the server this is a request the function could not read: 400, not the
        // framework's 500.
        #[cfg(feature = "ssr")]
        return crate::ssr::refused(Self::Request);
        #[cfg(not(feature = "ssr"))]
        Self::Request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_names_the_kind_and_the_code() {
        let json = |e: &ServiceError| serde_json::to_string(e).expect("serializes");
        assert_eq!(
            json(&ServiceError::invalid("card_number")),
            r#"{"error":"invalid","code":"card_number"}"#
        );
        assert_eq!(json(&ServiceError::NotFound), r#"{"error":"not_found"}"#);
        assert_eq!(
            json(&ServiceError::TookTooLong),
            r#"{"error":"took_too_long"}"#
        );
        let back: ServiceError =
            serde_json::from_str(r#"{"error":"conflict","code":"test_confirmed"}"#)
                .expect("deserializes");
        assert_eq!(back, ServiceError::conflict("test_confirmed"));
        assert_eq!(back.code(), Some("test_confirmed"));
        assert!(ServiceError::invalid("from").is_invalid("from"));
        assert!(!ServiceError::invalid("from").is_invalid("until"));
    }
}
