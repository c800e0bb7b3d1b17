//! Admission at accept time, before any TLS work: a flood of connections from one address or
//! one network must cost us a `close`, not a handshake. Caps on open connections (per address,
//! per network, in total) and on new connections a second (per address and per network, GCRA),
//! and a bound on handshakes in progress, which the accept loop waits for within the handshake
//! deadline. A network is a /24 for IPv4 and a /56 for IPv6 (what one site or one subscriber
//! usually holds).
//!
//! At the total cap, the connection that has been idle the longest (between requests, its TLS
//! handshake done) is closed to make room, as a keep-alive timeout would close it, so that
//! idle connections held open by an attacker cannot lock archivists out. Only when none is idle
//! is the new connection closed instead. A connection counts as busy from a request's arrival
//! until its response has been sent whole ([`Activity`]).

use std::{
    collections::{BTreeMap, HashMap},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    num::NonZeroU32,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{Notify, Semaphore};

use settings::ConnectionSettings;

/// Why a connection was closed at accept time; stable codes for the metric's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The address opened connections faster than its rate.
    AddressRate,
    /// The network opened connections faster than its rate.
    NetworkRate,
    /// The address holds as many open connections as it may.
    AddressOpen,
    /// The network holds as many open connections as it may.
    NetworkOpen,
    /// The server holds as many open connections as it may.
    TotalOpen,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::AddressRate => "address_rate",
            Self::NetworkRate => "network_rate",
            Self::AddressOpen => "address_open",
            Self::NetworkOpen => "network_open",
            Self::TotalOpen => "total_open",
        }
    }
}

/// The network an address belongs to for the per-network caps.
pub fn network_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xffff_ff00)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6) & !((1u128 << (128 - 56)) - 1),
        )),
    }
}

#[derive(Default)]
struct Open {
    total: usize,
    per_address: HashMap<IpAddr, u32>,
    per_network: HashMap<IpAddr, u32>,
    /// Numbers connections and orders the moments they went idle.
    sequence: u64,
    /// Requests in flight on each connection whose handshake is done.
    in_flight: HashMap<u64, usize>,
    /// Idle connections by (when they went idle, connection), oldest first, with the signal that
    /// closes each.
    idle: BTreeMap<(u64, u64), Arc<Notify>>,
    /// When each idle connection went idle: its key in `idle`.
    idle_since: HashMap<u64, u64>,
}

impl Open {
    fn next(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    fn set_idle(&mut self, id: u64, close: &Arc<Notify>) {
        let since = self.next();
        self.idle.insert((since, id), close.clone());
        self.idle_since.insert(id, since);
    }

    fn not_idle(&mut self, id: u64) {
        if let Some(since) = self.idle_since.remove(&id) {
            self.idle.remove(&(since, id));
        }
    }
}

pub struct Admission {
    settings: ConnectionSettings,
    open: Mutex<Open>,
    new_per_address: DefaultKeyedRateLimiter<IpAddr>,
    new_per_network: DefaultKeyedRateLimiter<IpAddr>,
    handshakes: Arc<Semaphore>,
}

fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    // A burst of a few seconds' worth: a browser opens several connections at once.
    let burst = NonZeroU32::new(per_second.saturating_mul(4)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl Admission {
    pub fn new(settings: &ConnectionSettings) -> Arc<Self> {
        let handshakes = match settings.max_concurrent_handshakes {
            0 => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                cores * 64
            }
            n => n as usize,
        };
        let admission = Arc::new(Self {
            settings: settings.clone(),
            open: Mutex::default(),
            new_per_address: RateLimiter::keyed(quota(settings.new_per_second_per_address)),
            new_per_network: RateLimiter::keyed(quota(settings.new_per_second_per_network)),
            handshakes: Arc::new(Semaphore::new(handshakes)),
        });
        every_minute_while_alive(&admission, |admission| {
            admission.new_per_address.retain_recent();
            admission.new_per_network.retain_recent();
        });
        admission
    }

    /// Handshakes in progress at most; the accept loop takes a permit for each.
    pub fn handshakes(&self) -> &Arc<Semaphore> {
        &self.handshakes
    }

    /// Admits a connection from `address` or says why not. The ticket counts the connection
    /// as open until it is dropped.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Ticket, Refusal> {
        let address = address.to_canonical();
        let network = network_of(address);
        let s = &self.settings;
        let mut open = self.lock();
        if open.total >= s.max_open as usize {
            // The connection idle the longest makes room; it still counts until its task has
            // closed it, a moment later.
            let Some(((_, id), close)) = open.idle.pop_first() else {
                return Err(Refusal::TotalOpen);
            };
            open.idle_since.remove(&id);
            // Its requests are no longer counted: it is never chosen twice.
            open.in_flight.remove(&id);
            close.notify_one();
            crate::monitoring::idle_connection_closed();
        }
        if open.per_address.get(&address).copied().unwrap_or(0) >= s.max_open_per_address {
            return Err(Refusal::AddressOpen);
        }
        if open.per_network.get(&network).copied().unwrap_or(0) >= s.max_open_per_network {
            return Err(Refusal::NetworkOpen);
        }
        // Rates last, so that a connection refused for the caps above does not use up the rate.
        if self.new_per_address.check_key(&address).is_err() {
            return Err(Refusal::AddressRate);
        }
        if self.new_per_network.check_key(&network).is_err() {
            return Err(Refusal::NetworkRate);
        }
        open.total += 1;
        *open.per_address.entry(address).or_default() += 1;
        *open.per_network.entry(network).or_default() += 1;
        let id = open.next();
        Ok(Ticket {
            admission: self.clone(),
            address,
            network,
            id,
            close: Arc::new(Notify::new()),
        })
    }

    /// The counts are plain numbers, consistent after every statement: a panic elsewhere while
    /// the lock was held leaves nothing half-done to guard against.
    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn release(&self, ticket: &Ticket) {
        let mut guard = self.lock();
        let open = &mut *guard;
        let (address, network) = (ticket.address, ticket.network);
        open.not_idle(ticket.id);
        open.in_flight.remove(&ticket.id);
        open.total = open.total.saturating_sub(1);
        for (map, key) in [
            (&mut open.per_address, address),
            (&mut open.per_network, network),
        ] {
            if let Some(count) = map.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

/// Calls `tidy` on `shared` once a minute for as long as anything else holds it (a limiter's
/// state per key grows with every key seen until the quiet ones are forgotten). The web's
/// limiters use it too.
pub fn every_minute_while_alive<T: Send + Sync + 'static>(
    shared: &Arc<T>,
    tidy: impl Fn(&T) + Send + 'static,
) {
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let Some(shared) = weak.upgrade() else { break };
            tidy(&shared);
        }
    });
}

/// An admitted connection, counted as open until dropped.
pub struct Ticket {
    admission: Arc<Admission>,
    address: IpAddr,
    network: IpAddr,
    id: u64,
    close: Arc<Notify>,
}

impl Ticket {
    /// The handshake is done: from now on the connection is idle between requests, and may be
    /// closed to make room. Its requests are counted through the returned [`Activity`].
    pub fn ready(&self) -> Arc<Activity> {
        let mut open = self.admission.lock();
        open.in_flight.insert(self.id, 0);
        open.set_idle(self.id, &self.close);
        Arc::new(Activity {
            admission: self.admission.clone(),
            id: self.id,
            close: self.close.clone(),
        })
    }

    /// Completes when the connection was chosen to be closed to make room.
    pub async fn closed_to_make_room(&self) {
        self.close.notified().await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self);
    }
}

/// Counts one connection's requests in flight.
pub struct Activity {
    admission: Arc<Admission>,
    id: u64,
    close: Arc<Notify>,
}

impl Activity {
    /// A request arrived; the connection is busy until every [`Busy`] is dropped.
    pub fn start(self: &Arc<Self>) -> Busy {
        let mut open = self.admission.lock();
        open.not_idle(self.id);
        if let Some(count) = open.in_flight.get_mut(&self.id) {
            *count += 1;
        }
        Busy {
            activity: self.clone(),
        }
    }
}

/// One request in flight, until its response has been sent (or abandoned).
pub struct Busy {
    activity: Arc<Activity>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut open = self.activity.admission.lock();
        let id = self.activity.id;
        // Absent once the connection has ended: nothing to mark.
        let Some(count) = open.in_flight.get_mut(&id) else {
            return;
        };
        *count = count.saturating_sub(1);
        if *count == 0 {
            open.set_idle(id, &self.activity.close);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ConnectionSettings {
        ConnectionSettings {
            max_open: 5,
            max_open_per_address: 2,
            max_open_per_network: 3,
            new_per_second_per_address: 1000,
            new_per_second_per_network: 1000,
            max_concurrent_handshakes: 4,
            ..ConnectionSettings::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[tokio::test]
    async fn open_connections_are_capped_per_address_network_and_in_all_and_released() {
        let admission = Admission::new(&settings());
        let a1 = admission.admit(ip("10.0.0.1")).expect("first");
        let _a2 = admission.admit(ip("10.0.0.1")).expect("second");
        assert_eq!(
            admission.admit(ip("10.0.0.1")).err(),
            Some(Refusal::AddressOpen)
        );
        let _b = admission
            .admit(ip("10.0.0.2"))
            .expect("same /24, other address");
        assert_eq!(
            admission.admit(ip("10.0.0.3")).err(),
            Some(Refusal::NetworkOpen)
        );
        let _c = admission.admit(ip("10.0.1.1")).expect("another /24");
        let _d = admission.admit(ip("10.0.2.1")).expect("and another");
        assert_eq!(
            admission.admit(ip("10.0.3.1")).err(),
            Some(Refusal::TotalOpen)
        );
        drop(a1);
        admission.admit(ip("10.0.0.1")).expect("a slot came free");
    }

    /// Whether the connection was chosen to be closed (without waiting for it).
    fn chosen(ticket: &Ticket) -> bool {
        futures::FutureExt::now_or_never(ticket.closed_to_make_room()).is_some()
    }

    #[tokio::test]
    async fn at_the_total_cap_the_connection_idle_longest_makes_room() {
        let admission = Admission::new(&ConnectionSettings {
            max_open: 3,
            ..settings()
        });
        let (a, b, c) = (
            admission.admit(ip("10.0.1.1")).expect("a"),
            admission.admit(ip("10.0.2.1")).expect("b"),
            admission.admit(ip("10.0.3.1")).expect("c"),
        );
        // Still in their handshakes: nothing is idle, and the next connection is refused.
        assert_eq!(
            admission.admit(ip("10.0.4.1")).err(),
            Some(Refusal::TotalOpen)
        );
        let (on_a, on_b, on_c) = (a.ready(), b.ready(), c.ready());
        // a is busy; c's request ended before b's, so c has been idle the longest.
        let request_a = on_a.start();
        drop(on_c.start());
        drop(on_b.start());
        let d = admission.admit(ip("10.0.4.1")).expect("room made");
        assert!(chosen(&c), "the connection idle the longest is closed");
        assert!(!chosen(&b));
        drop((on_c, c));
        let e = admission.admit(ip("10.0.5.1")).expect("room made again");
        assert!(chosen(&b));
        drop((on_b, b));
        // a is busy and d and e are in their handshakes: nothing can make room.
        assert_eq!(
            admission.admit(ip("10.0.6.1")).err(),
            Some(Refusal::TotalOpen)
        );
        assert!(!chosen(&a), "a busy connection is never chosen");
        drop((request_a, on_a, a, d, e));
        let open = admission.lock();
        assert_eq!(open.total, 0);
        assert!(open.idle.is_empty() && open.idle_since.is_empty() && open.in_flight.is_empty());
    }

    #[tokio::test]
    async fn new_connections_are_rate_limited_per_address() {
        let admission = Admission::new(&ConnectionSettings {
            max_open: 100,
            max_open_per_address: 100,
            max_open_per_network: 100,
            new_per_second_per_address: 1,
            new_per_second_per_network: 1000,
            max_concurrent_handshakes: 4,
            ..ConnectionSettings::default()
        });
        // A burst of four, then refused.
        for _ in 0..4 {
            drop(admission.admit(ip("10.0.0.1")).expect("within the burst"));
        }
        assert_eq!(
            admission.admit(ip("10.0.0.1")).err(),
            Some(Refusal::AddressRate)
        );
        admission.admit(ip("10.0.0.2")).expect("another address");
    }

    #[test]
    fn networks_are_slash_24_and_slash_56_and_mapped_addresses_are_ipv4() {
        assert_eq!(network_of(ip("192.0.2.77")), ip("192.0.2.0"));
        assert_eq!(network_of(ip("::ffff:192.0.2.77")), ip("192.0.2.0"));
        assert_eq!(
            network_of(ip("2001:db8:1234:56ff:1:2:3:4")),
            ip("2001:db8:1234:5600::")
        );
    }
}
