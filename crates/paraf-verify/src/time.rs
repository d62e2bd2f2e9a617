//! Times: RFC 3339 formatting for the report and parsing of PDF date strings (§7.9.4).
//! No clock here: the validation time is always passed in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Days-from-civil inverse (Howard Hinnant's algorithm), UTC.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (every part after the year optional).
pub fn parse_pdf_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let b = s.as_bytes();
    let num = |from: usize, len: usize, default: i64| -> Option<i64> {
        match b.get(from..from + len) {
            Some(part) if part.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(part).ok()?.parse().ok()
            }
            Some(_) => None,
            None => Some(default),
        }
    };
    if b.len() < 4 {
        return None;
    }
    let y = num(0, 4, 0)?;
    let mo = num(4, 2, 1)?.clamp(1, 12);
    let d = num(6, 2, 1)?.clamp(1, 31);
    let h = num(8, 2, 0)?.clamp(0, 23);
    let mi = num(10, 2, 0)?.clamp(0, 59);
    let se = num(12, 2, 0)?.clamp(0, 59);
    let mut offset = 0i64;
    if let Some(&sign) = b.get(14) {
        if sign == b'+' || sign == b'-' {
            let oh = num(15, 2, 0).unwrap_or(0);
            let om = num(18, 2, 0).unwrap_or(0);
            offset = (oh * 3600 + om * 60) * if sign == b'-' { -1 } else { 1 };
        }
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_roundtrip() {
        let t = parse_pdf_date("D:20261217081320Z").unwrap();
        assert_eq!(rfc3339(t), "2026-12-17T08:13:20Z");
        let t = parse_pdf_date("D:20261217151320+07'00'").unwrap();
        assert_eq!(rfc3339(t), "2026-12-17T08:13:20Z");
        assert!(parse_pdf_date("D:20").is_none());
        assert_eq!(
            rfc3339(parse_pdf_date("2024").unwrap()),
            "2024-01-01T00:00:00Z"
        );
    }
}
