//! `archivist-card`: reads a DVV professional card in a local reader, says in plain words why
//! sign-in would fail, and writes enrolment records. It sends the card only SELECT and READ
//! BINARY; the PIN is asked for only with `--pkcs11-module` and goes only to that module.
//!
//! The certificate checks, the card number rule and the settings are the server's own (the
//! `identity` and `settings` crates, which the server is built on too); this crate adds only
//! the card reading and the messages, and does not link the server.

// Request paths and commands report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

pub mod checks;
pub mod enrol;
pub mod failure;
pub mod fineid;
pub mod lang;
pub mod pkcs11;
pub mod reader;
pub mod report;
pub mod server_query;

pub use failure::Failure;
pub use lang::Lang;
