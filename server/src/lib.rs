//! The `archivist` server: our own mutual-TLS accept loop in front of the Leptos application,
//! the PostgreSQL schema and audit log, and the operator commands.

// Request paths and commands report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

pub mod admin_commands;
pub mod administration;
pub mod archive;
pub mod audit;
pub mod audit_commands;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod db;
pub mod demo;
pub mod import;
pub mod monitoring;
pub mod notice_commands;
pub mod notices;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod web;
