//! What the pages show, as plain data: the shapes of the server's answers, shared by the
//! server (which fills them) and the browser (which renders them). No server function and no
//! view lives here, so that `ssr` and the server depend on these types alone.

pub mod access;
pub mod admin;
pub mod client;
pub mod compare;
pub mod deployment_test;
pub mod document;
pub mod identity;
pub mod notices;
pub mod search;
