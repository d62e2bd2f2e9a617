//! Rate-limit windows and decisions. Counting happens in the store (shared by all server
//! instances); this module says where a window starts, when it resets, and what to answer.
//!
//! Windows are fixed and aligned in UTC: a minute starts at :00, a day at 00:00, a month on
//! the 1st at 00:00. A request is allowed while the window's count (including itself) is at
//! most the limit.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// The three windows of seed 000's plan table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateWindow {
    Minute,
    Day,
    Month,
}

impl RateWindow {
    /// All windows, shortest first.
    pub const ALL: [RateWindow; 3] = [RateWindow::Minute, RateWindow::Day, RateWindow::Month];

    /// Name stored in the database (`minute`, `day`, `month`).
    pub fn as_str(self) -> &'static str {
        match self {
            RateWindow::Minute => "minute",
            RateWindow::Day => "day",
            RateWindow::Month => "month",
        }
    }

    /// The start of the window containing `now`.
    pub fn start(self, now: Timestamp) -> Timestamp {
        let date = now.date_naive();
        match self {
            RateWindow::Minute => {
                let secs = now.timestamp() - i64::from(now.second());
                chrono::DateTime::from_timestamp(secs, 0).unwrap_or(now)
            }
            RateWindow::Day => midnight(date),
            RateWindow::Month => midnight(date.with_day(1).unwrap_or(date)),
        }
    }

    /// The end (exclusive) of the window containing `now`: when its counter resets.
    pub fn end(self, now: Timestamp) -> Timestamp {
        let start = self.start(now);
        match self {
            RateWindow::Minute => start + Duration::minutes(1),
            RateWindow::Day => start + Duration::days(1),
            RateWindow::Month => {
                let d = start.date_naive();
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
                    .map(midnight)
                    .unwrap_or(start + Duration::days(31))
            }
        }
    }
}

fn midnight(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

impl fmt::Display for RateWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer for one window after counting a request: what to put in `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining` and (when refused) `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateDecision {
    pub window: RateWindow,
    pub limit: u64,
    /// Requests counted in this window, this one included.
    pub count: u64,
    /// `limit - count`, never negative.
    pub remaining: u64,
    pub allowed: bool,
    /// When the window resets.
    pub reset_at: Timestamp,
    /// Whole seconds until the reset, at least 1 (for `Retry-After`).
    pub retry_after_secs: u64,
}

impl RateDecision {
    /// Decides for a window whose counter now stands at `count`.
    pub fn evaluate(window: RateWindow, limit: u64, count: u64, now: Timestamp) -> RateDecision {
        let reset_at = window.end(now);
        let micros = (reset_at - now)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .max(0) as u64;
        let retry_after_secs = micros.div_ceil(1_000_000).max(1);
        RateDecision {
            window,
            limit,
            count,
            remaining: limit.saturating_sub(count),
            allowed: count <= limit,
            reset_at,
            retry_after_secs,
        }
    }

    /// Of several windows' decisions, the one to report: the refusing one that resets last
    /// if any refuses, otherwise the one with the fewest remaining requests.
    pub fn most_restrictive(decisions: &[RateDecision]) -> Option<RateDecision> {
        let refused = decisions
            .iter()
            .filter(|d| !d.allowed)
            .max_by_key(|d| d.reset_at);
        refused
            .or_else(|| decisions.iter().min_by_key(|d| d.remaining))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn windows_align_in_utc() {
        let now = t("2024-12-31T23:59:30.5Z");
        assert_eq!(RateWindow::Minute.start(now), t("2024-12-31T23:59:00Z"));
        assert_eq!(RateWindow::Minute.end(now), t("2025-01-01T00:00:00Z"));
        assert_eq!(RateWindow::Day.start(now), t("2024-12-31T00:00:00Z"));
        assert_eq!(RateWindow::Month.start(now), t("2024-12-01T00:00:00Z"));
        assert_eq!(RateWindow::Month.end(now), t("2025-01-01T00:00:00Z"));
    }

    #[test]
    fn decision_at_the_boundary() {
        let now = t("2024-05-01T10:00:15Z");
        let ok = RateDecision::evaluate(RateWindow::Minute, 60, 60, now);
        assert!(ok.allowed);
        assert_eq!(ok.remaining, 0);
        let refused = RateDecision::evaluate(RateWindow::Minute, 60, 61, now);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 45);
        let day = RateDecision::evaluate(RateWindow::Day, 1000, 61, now);
        assert_eq!(
            RateDecision::most_restrictive(&[refused, day]).map(|d| d.window),
            Some(RateWindow::Minute)
        );
    }
}
