//! At most `auth.card_downloads_at_once` downloads of stored bytes per card at a time. A large
//! PDF is read from the database a piece at a time for as long as its client takes to read it,
//! so one card opening many slow downloads could hold the connection pool; the per-card request
//! rate does not see that, because each download is a single request.
//!
//! A card's count lives only while it has downloads under way, in each instance's memory.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

/// The refusal's reason code on the audit log.
pub const REASON: &str = "too_many_downloads";

#[derive(Clone)]
pub struct DownloadSlots {
    per_card: u32,
    taken: Arc<Mutex<HashMap<String, u32>>>,
}

/// One download under way; the slot is given back when this is dropped (the whole body sent,
/// or the client gone).
pub struct Slot {
    key: String,
    taken: Arc<Mutex<HashMap<String, u32>>>,
}

impl DownloadSlots {
    pub fn new(per_card: u32) -> Self {
        Self {
            per_card: per_card.max(1),
            taken: Arc::default(),
        }
    }

    pub fn per_card(&self) -> u32 {
        self.per_card
    }

    /// A slot for the card with this key (its certificate key's SHA-256), or `None` when it has
    /// as many downloads under way as it may.
    pub fn take(&self, key: &str) -> Option<Slot> {
        // The map holds counts only, and no code panics while holding the lock.
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let count = taken.entry(key.to_owned()).or_insert(0);
        if *count >= self.per_card {
            return None;
        }
        *count += 1;
        Some(Slot {
            key: key.to_owned(),
            taken: self.taken.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = taken.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                taken.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_gets_its_slots_and_gets_them_back_and_others_have_their_own() {
        let slots = DownloadSlots::new(2);
        let first = slots.take("card-a").expect("first");
        let second = slots.take("card-a").expect("second");
        assert!(slots.take("card-a").is_none(), "a third at once is refused");
        assert!(
            slots.take("card-b").is_some(),
            "another card has slots of its own"
        );
        drop(first);
        let again = slots
            .take("card-a")
            .expect("a slot given back is taken again");
        drop((second, again));
        assert!(
            slots.taken.lock().expect("lock").is_empty(),
            "a card without downloads leaves nothing behind"
        );
    }
}
