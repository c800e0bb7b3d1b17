//! Where sessions are kept: PostgreSQL, read from the pool archivists' reads use and written
//! to the primary. Through a failover a signed-in archivist's session is still found (on the
//! standby) while nothing is written; sign-in, renewal and sign-out need the primary.

use async_trait::async_trait;
use sqlx::PgPool;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};
use tower_sessions_sqlx_store::PostgresStore;

#[derive(Clone, Debug)]
pub struct SplitStore {
    writes: PostgresStore,
    reads: PostgresStore,
}

impl SplitStore {
    /// `reads` may be the same pool as `writes` (no `database.read_url`).
    pub fn new(writes: PgPool, reads: PgPool) -> Self {
        Self {
            writes: PostgresStore::new(writes),
            reads: PostgresStore::new(reads),
        }
    }
}

#[async_trait]
impl SessionStore for SplitStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.writes.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.writes.save(record).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.reads.load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.writes.delete(session_id).await
    }
}
