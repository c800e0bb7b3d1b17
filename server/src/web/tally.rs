//! Counting refusals between audit rows, so that a flood does not become a row per refusal:
//! the first refusal of a kind is written at once (the caller does that when [`Tallies::note`]
//! says so), the ones that follow are counted, and [`Tallies::due`] hands over one row's worth
//! per kind at the end of each interval. A kind that stayed quiet for a whole interval is
//! forgotten, so that its next refusal is written at once again.
//!
//! Shared by the refused requests (`web::refusals`) and the refused handshakes
//! (`web::handshake_refusals`).

use std::{collections::HashMap, future::Future, hash::Hash, time::Duration};

/// Samples kept per kind and interval (identifiers asked for, certificate hashes): enough to
/// see what was probed.
const MAX_SAMPLES: usize = 10;
/// Kinds tallied at once; refusals of further kinds are only counted, in one overflow figure.
/// It bounds the rows an interval writes however many sources a flood comes from: at most
/// this many written at once, as many at the interval's end, and one for the overflow (under
/// the 1,000 a 30-second flood may write).
const MAX_KINDS: usize = 400;

/// One kind's refusals since its last row.
#[derive(Debug)]
pub struct Due<K, F> {
    pub kind: K,
    /// What the kind's first refusal carried (the certificate, what was presented).
    pub first: F,
    pub count: u64,
    pub samples: Vec<String>,
}

#[derive(Debug)]
struct Tally<F> {
    first: F,
    count: u64,
    samples: Vec<String>,
}

#[derive(Debug)]
pub struct Tallies<K, F> {
    kinds: HashMap<K, Tally<F>>,
    overflow: u64,
}

impl<K, F> Default for Tallies<K, F> {
    fn default() -> Self {
        Self {
            kinds: HashMap::new(),
            overflow: 0,
        }
    }
}

impl<K: Clone + Eq + Hash, F: Clone> Tallies<K, F> {
    /// Notes one refusal of `kind`. True when it is the first since the kind was last quiet:
    /// the caller writes it at once (with a count of one and `sample`).
    pub fn note(&mut self, kind: &K, first: impl FnOnce() -> F, sample: Option<&str>) -> bool {
        let full = self.kinds.len() >= MAX_KINDS;
        match self.kinds.get_mut(kind) {
            Some(tally) => {
                tally.count += 1;
                if let Some(sample) = sample
                    && tally.samples.len() < MAX_SAMPLES
                    && !tally.samples.iter().any(|known| known == sample)
                {
                    tally.samples.push(sample.to_owned());
                }
                false
            }
            None if full => {
                self.overflow += 1;
                false
            }
            None => {
                self.kinds.insert(
                    kind.clone(),
                    Tally {
                        first: first(),
                        count: 0,
                        samples: Vec::new(),
                    },
                );
                true
            }
        }
    }

    /// The rows due at the end of an interval (kinds refused again since their last row) and
    /// the overflow count; quiet kinds are forgotten.
    pub fn due(&mut self) -> (Vec<Due<K, F>>, u64) {
        self.kinds.retain(|_, tally| tally.count > 0);
        let due = self
            .kinds
            .iter_mut()
            .map(|(kind, tally)| Due {
                kind: kind.clone(),
                first: tally.first.clone(),
                count: std::mem::take(&mut tally.count),
                samples: std::mem::take(&mut tally.samples),
            })
            .collect();
        (due, std::mem::take(&mut self.overflow))
    }
}

/// A refusal log that writes what its tallies hold when asked.
pub trait Flush: Clone + Send + Sync + 'static {
    fn flush(&self) -> impl Future<Output = ()> + Send;
}

/// Flushes `log` every `interval` (not at once) until the returned task is aborted.
pub fn spawn_flushing<L: Flush>(log: &L, interval: Duration) -> tokio::task::JoinHandle<()> {
    let log = log.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            log.flush().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::Tallies;

    #[test]
    fn the_first_of_a_kind_at_once_the_rest_counted_quiet_kinds_forgotten() {
        let mut tallies: Tallies<&str, u8> = Tallies::default();
        assert!(tallies.note(&"a", || 1, Some("x")));
        for n in 0..12 {
            assert!(!tallies.note(&"a", || 2, Some(&format!("s{n}"))));
        }
        assert!(tallies.note(&"b", || 3, None));
        let (due, overflow) = tallies.due();
        assert_eq!(overflow, 0);
        // b had only its first refusal, already written: nothing is due, and it is forgotten.
        assert_eq!(due.len(), 1, "{due:?}");
        let a = &due[0];
        assert_eq!(
            (a.kind, a.first, a.count, a.samples.len()),
            ("a", 1, 12, 10)
        );
        assert!(tallies.note(&"b", || 3, None), "b again: at once");
        // a was quiet for a whole interval now.
        let (due, _) = tallies.due();
        assert!(due.is_empty(), "{due:?}");
        assert!(tallies.note(&"a", || 4, None), "a again: at once");
    }

    #[test]
    fn kinds_past_the_limit_are_only_counted_so_the_rows_stay_bounded() {
        let mut tallies: Tallies<usize, ()> = Tallies::default();
        let at_once = (0..super::MAX_KINDS + 50)
            .filter(|kind| tallies.note(kind, || (), None))
            .count();
        assert_eq!(at_once, super::MAX_KINDS);
        let (due, overflow) = tallies.due();
        assert!(due.is_empty(), "each was refused once, and written at once");
        assert_eq!(overflow, 50);
    }
}
