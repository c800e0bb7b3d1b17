//! Integration tests: the real server on an ephemeral port, its own PostgreSQL database, and a
//! rustls client presenting the demo card certificates. One test binary, so it links once.

mod helpers;

mod access;
mod administration;
mod architecture;
mod archive;
mod audit_integrity;
mod audit_spool;
mod card_status;
mod deployment_test;
mod documents;
mod enrolment;
mod forwarded;
mod harness;
mod identity;
mod limits;
mod monitoring;
mod notices;
mod operator_commands;
mod proxy_protocol;
mod readiness;
mod refusals;
mod resilience;
mod revocation;
mod sessions;
mod startup_errors;
