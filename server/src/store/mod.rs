//! The one home of SQL. Writing to the archive (`archive`), the operators' lookups
//! (`operator`), the retention rules, card links (`cards`), controllers and their deployment
//! tests as administrators manage them, the notices to archivists, and the archivists' reads and checks within a
//! controller scope (`scoped`) live here; nothing else talks to the database about client data.

pub mod archive;
pub mod cards;
pub mod controllers;
pub mod deployment_test;
pub mod notices;
pub mod operator;
pub mod retention;
pub mod scoped;

pub use archive::{ArchiveError, ArchiveStore, Archived};
