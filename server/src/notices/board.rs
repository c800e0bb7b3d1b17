//! What an instance shows: the stored notices not yet over, read again every few seconds
//! (`ops.notice_refresh_secs`) so that a change made anywhere reaches every instance, and the
//! operator's notice file, read again when it changes. When the database cannot be read the last
//! notices read stay up; the file needs no database at all. Whether a notice shows and whether a
//! window closes the service are decided at each request from the times, so a window opens and
//! closes on the second, not at the next read.

use std::{
    path::PathBuf,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration as StdDuration, SystemTime},
};

use app::model::notices::{NoticeKind, NoticeView};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::{Notice, file};
use crate::store::notices;

#[derive(Clone)]
pub struct NoticeBoard(Arc<Inner>);

struct Inner {
    pool: PgPool,
    file: Option<PathBuf>,
    /// How long ahead of its window a maintenance notice shows.
    lead: Duration,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    stored: Arc<[Notice]>,
    from_file: Option<Notice>,
    /// The notice file's modification time and length when last read; `None`: no file.
    file_stamp: Option<(SystemTime, u64)>,
    file_broken: bool,
    database_failing: bool,
}

/// What the monitoring reads of the board.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardHealth {
    pub shown: [usize; 3],
    pub closed: bool,
    pub database_failing: bool,
    pub file_broken: bool,
}

impl NoticeBoard {
    pub fn new(pool: PgPool, file: Option<PathBuf>, lead: Duration) -> Self {
        Self(Arc::new(Inner {
            pool,
            file,
            lead,
            state: RwLock::new(State::default()),
        }))
    }

    /// Reads the stored notices and the notice file again.
    pub async fn refresh(&self) {
        let stored = notices::not_ended(&self.0.pool).await;
        let mut state = self.write();
        match stored {
            Ok(list) => {
                if state.database_failing {
                    tracing::info!("the notices are read from the database again");
                }
                state.stored = list.into();
                state.database_failing = false;
            }
            Err(error) => {
                if !state.database_failing {
                    tracing::warn!(%error, "cannot read the notices; the last ones read stay up");
                }
                state.database_failing = true;
            }
        }
        self.refresh_file(&mut state);
    }

    fn refresh_file(&self, state: &mut State) {
        let Some(path) = &self.0.file else {
            return;
        };
        let stamp = std::fs::metadata(path).ok().map(|meta| {
            (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            )
        });
        if stamp == state.file_stamp {
            return;
        }
        state.file_stamp = stamp;
        let Some((modified, _)) = stamp else {
            if state.from_file.take().is_some() || state.file_broken {
                tracing::info!(path = %path.display(), "the notice file is gone; its notice is down");
            }
            state.file_broken = false;
            return;
        };
        match file::read(path, OffsetDateTime::from(modified)) {
            Ok(notice) => {
                tracing::info!(path = %path.display(), kind = notice.kind.code(), "notice file read");
                state.from_file = Some(notice);
                state.file_broken = false;
            }
            Err(error) => {
                tracing::error!(%error, "the notice file is not used; the notice read from it before stays up");
                state.file_broken = true;
            }
        }
    }

    /// Reads again every `every`, for as long as the server runs.
    pub async fn run(self, every: StdDuration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.refresh().await;
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock leaves a consistent state (each field is replaced
        // whole), so a poisoned lock is used as it is.
        self.0.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.0.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn all(&self) -> Vec<Notice> {
        let state = self.read();
        state
            .stored
            .iter()
            .chain(state.from_file.as_ref())
            .cloned()
            .collect()
    }

    /// The notices the banner shows at `now`: the most pressing kind first, then by start.
    pub fn shown(&self, now: OffsetDateTime) -> Vec<NoticeView> {
        let mut shown: Vec<Notice> = self
            .all()
            .into_iter()
            .filter(|notice| notice.is_shown(now, self.0.lead))
            .collect();
        shown.sort_by_key(|notice| (urgency(notice, now), notice.starts_at));
        shown.iter().map(Notice::view).collect()
    }

    /// The maintenance window closing the service at `now`, the one that ends last when
    /// windows overlap.
    pub fn closing(&self, now: OffsetDateTime) -> Option<Notice> {
        self.all()
            .into_iter()
            .filter(|notice| notice.closes_service_at(now))
            .max_by_key(|notice| notice.ends_at)
    }

    /// The notices not over at `now`, current and coming, by start: what the feeds publish.
    pub fn not_ended(&self, now: OffsetDateTime) -> Vec<Notice> {
        let mut notices: Vec<Notice> = self
            .all()
            .into_iter()
            .filter(|notice| !notice.has_ended(now))
            .collect();
        notices.sort_by_key(|notice| notice.starts_at);
        notices
    }

    pub fn health(&self, now: OffsetDateTime) -> BoardHealth {
        let mut shown = [0; 3];
        for notice in self.all() {
            if notice.is_shown(now, self.0.lead) {
                shown[kind_index(notice.kind)] += 1;
            }
        }
        let closed = self.closing(now).is_some();
        let state = self.read();
        BoardHealth {
            shown,
            closed,
            database_failing: state.database_failing,
            file_broken: state.file_broken,
        }
    }
}

pub fn kind_index(kind: NoticeKind) -> usize {
    match kind {
        NoticeKind::Disruption => 0,
        NoticeKind::Maintenance => 1,
        NoticeKind::Information => 2,
    }
}

/// A window closing the service now first, then disruptions, maintenance, information.
fn urgency(notice: &Notice, now: OffsetDateTime) -> u8 {
    if notice.closes_service_at(now) {
        0
    } else {
        1 + kind_index(notice.kind) as u8
    }
}
