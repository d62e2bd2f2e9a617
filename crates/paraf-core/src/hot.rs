//! The hot path of authenticated API requests, kept mostly in memory so that one instance
//! answers tens of thousands of them a second (docs/benchmarks.md, "Alphasign API"):
//!
//! - [`TtlCache`]: API-token principals, users and organisations for `cache_ttl_ms` (1 s by default;
//!   a revocation, a disabled user or a plan change made by *another* process applies within
//!   that time; made through this one's core, at once — it drops what it changes);
//! - [`RateLeases`]: the plan's rate-limit counters stay in the database, shared by every
//!   instance, but an instance reserves them in blocks when a window has plenty left (a block
//!   is 1/64 of what remains, at most 64), so most requests count in memory. Near a limit the
//!   blocks are single hits, so the limit itself is exact across instances; a window known to
//!   be full answers refusals without the database until it ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use paraf_domain::{RateWindow, Timestamp};

/// Entries kept before old ones are swept.
const MAX_ENTRIES: usize = 50_000;

/// A small map whose entries expire after `ttl`.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `k`, if cached less than `ttl` ago.
    pub fn get(&self, k: &K) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(k)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, k: K, v: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(k, (Instant::now(), v));
    }

    /// Forgets every entry (something they were made from changed).
    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// One window's counter as this instance knows it.
#[derive(Debug, Clone, Copy, Default)]
struct Lease {
    /// The database's count after this instance's last reservation.
    counted: u64,
    /// Hits reserved in the database and not yet used here.
    left: u64,
}

type LeaseKey = (String, RateWindow, Timestamp);

/// Rate-limit counters reserved in blocks (see the module's documentation).
#[derive(Debug, Default)]
pub struct RateLeases {
    map: Mutex<HashMap<LeaseKey, Lease>>,
}

/// What [`RateLeases::take`] says to do.
pub enum Take {
    /// Counted from a reservation: this request's count in the window.
    Counted(u64),
    /// Reserve `block` hits in the database first, then call [`RateLeases::reserved`].
    Reserve(u64),
}

impl RateLeases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LeaseKey, Lease>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a hit from this instance's reservation, or says how many to reserve.
    pub fn take(&self, key: &str, w: RateWindow, start: Timestamp, limit: u64) -> Take {
        let mut map = self.lock();
        let k = (key.to_string(), w, start);
        match map.get_mut(&k) {
            Some(l) if l.left > 0 => {
                l.left -= 1;
                Take::Counted(l.counted - l.left)
            }
            // Known to be full: counts only grow within a window, so it stays full.
            Some(l) if l.counted >= limit => Take::Counted(l.counted + 1),
            known => {
                let counted = known.map_or(0, |l| l.counted);
                let block = (limit.saturating_sub(counted) / 64).clamp(1, 64);
                Take::Reserve(block)
            }
        }
    }

    /// Records a reservation of `block` hits that brought the database's count to `count`;
    /// the request's own count (the first of the block).
    pub fn reserved(
        &self,
        key: &str,
        w: RateWindow,
        start: Timestamp,
        block: u64,
        count: u64,
    ) -> u64 {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            // Windows of the past are done with.
            let newest = map.keys().map(|(_, _, s)| *s).max();
            map.retain(|(_, _, s), _| Some(*s) == newest);
        }
        let l = map.entry((key.to_string(), w, start)).or_default();
        // Another task of this instance may have reserved meanwhile: keep the larger count and
        // add this block's unused hits.
        l.counted = l.counted.max(count);
        l.left += block.saturating_sub(1);
        count + 1 - block
    }

    /// This instance's view of a window's count (for windows only read), if it has one.
    pub fn known(&self, key: &str, w: RateWindow, start: Timestamp) -> Option<u64> {
        self.lock()
            .get(&(key.to_string(), w, start))
            .map(|l| l.counted - l.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default()
    }

    /// Plays `n` hits on one instance against a shared counter; the counts it answered.
    fn hits(leases: &RateLeases, db: &mut u64, limit: u64, n: usize) -> Vec<u64> {
        (0..n)
            .map(
                |_| match leases.take("k", RateWindow::Minute, t0(), limit) {
                    Take::Counted(c) => c,
                    Take::Reserve(block) => {
                        *db += block;
                        leases.reserved("k", RateWindow::Minute, t0(), block, *db)
                    }
                },
            )
            .collect()
    }

    #[test]
    fn small_limits_count_every_hit_in_the_database() {
        let (a, b) = (RateLeases::default(), RateLeases::default());
        let mut db = 0;
        let mut seen = Vec::new();
        for i in 0..60 {
            let on = if i % 2 == 0 { &a } else { &b };
            seen.extend(hits(on, &mut db, 60, 1));
        }
        assert_eq!(seen, (1..=60).collect::<Vec<_>>());
        assert_eq!(hits(&a, &mut db, 60, 1), [61]);
        assert_eq!(db, 61);
        // Known full: refused from memory.
        assert_eq!(hits(&a, &mut db, 60, 3), [62, 62, 62]);
        assert_eq!(db, 61);
    }

    #[test]
    fn large_limits_reserve_blocks_and_never_admit_more_than_the_limit() {
        let (a, b) = (RateLeases::default(), RateLeases::default());
        let mut db = 0;
        let mut admitted = 0;
        for i in 0..3000 {
            let on = if i % 3 == 0 { &a } else { &b };
            if hits(on, &mut db, 600, 1)[0] <= 600 {
                admitted += 1;
            }
        }
        assert!(admitted <= 600, "{admitted}");
        assert!(
            admitted >= 600 - 64,
            "{admitted}: reservations left unused are bounded"
        );
        assert!(db < 700, "{db}: the database was written in blocks");
    }
}
