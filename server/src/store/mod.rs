//! The one home of SQL. Writing to the archive (`archive`), the operators' lookups
//! (`operator`) and the retention rules live here; nothing else talks to the database about
//! client data.

pub mod archive;
pub mod operator;
pub mod retention;

pub use archive::{ArchiveError, ArchiveStore, Archived};
