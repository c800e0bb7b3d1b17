//! The server functions the pages call, one module per feature. Each opens with
//! `ssr::serve`, which finds the services of the request (bound to its caller); the answers
//! are the types of [`crate::model`].

pub mod access;
pub mod admin;
pub mod client;
pub mod compare;
pub mod deployment_test;
pub mod document;
pub mod identity;
pub mod notices;
pub mod search;
