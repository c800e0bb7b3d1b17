//! The server functions the pages call, one module per feature. Each opens with
//! `ssr::serve`, which resolves the caller and the server's services; the answers are the types
//! of [`crate::model`].

pub mod access;
pub mod admin;
pub mod client;
pub mod compare;
pub mod deployment;
pub mod documents;
pub mod identity;
pub mod search;
