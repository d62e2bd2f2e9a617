//! Fixed instants for deterministic tests.

use chrono::{DateTime, Utc};
use paraf_domain::Timestamp;

/// 2024-05-01T10:00:00Z plus `secs`.
pub fn t(secs: i64) -> Timestamp {
    DateTime::<Utc>::from_timestamp(1_714_557_600 + secs, 0).expect("time")
}

/// "Now", truncated to microseconds (what both databases store).
pub fn now_utc() -> Timestamp {
    let t: DateTime<Utc> = std::time::SystemTime::now().into();
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("time")
}
