//! Time as an injected service: [`SystemClock`] in production, [`ManualClock`] in tests.
//!
//! **Invariant**: `SystemClock::now` is the only call to the operating system's clock in the
//! domain and store layers; everything else takes a `now: Timestamp` argument.
//! Timestamps are UTC with microsecond precision (the store keeps microseconds since the Unix
//! epoch), so a value read back from the store equals the value written.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A point in time, UTC, microsecond precision.
pub type Timestamp = DateTime<Utc>;

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, truncated to microseconds.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to: fixed at a start time, then [`ManualClock::set`] or
/// [`ManualClock::advance`]. Shareable (`Arc<ManualClock>`) between a test and a server.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock standing at `start` (truncated to microseconds).
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            now: Mutex::new(start.trunc_subsecs(6)),
        }
    }

    /// A clock standing at the given Unix time in seconds (handy in tests); the epoch if out
    /// of range.
    pub fn at_unix(secs: i64) -> ManualClock {
        ManualClock::new(DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        *self.lock() = t.trunc_subsecs(6);
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut guard = self.lock();
        *guard = (*guard + by).trunc_subsecs(6);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A poisoned lock still holds a valid timestamp.
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

/// Microseconds since the Unix epoch (the store's encoding of a [`Timestamp`]).
pub fn to_micros(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`to_micros`]; the epoch for values out of chrono's range.
pub fn from_micros(us: i64) -> Timestamp {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}
