//! `GET /console`: the dashboard — applications connected (enabled / total) and, per
//! application and day over the last 14 days, requests and signatures: two stacked bar
//! charts drawn as inline SVG, and the same numbers in tables.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use paraf_core::domain::{AppCredential, AppUsageDay};
use std::collections::BTreeMap;

use super::html::Nav;
use super::{internal, Session};
use paraf_http::state::AppState;

/// Days shown, today included.
pub const DAYS: i64 = 14;

const COLOURS: [&str; 8] = [
    "#1f6feb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#84cc16", "#ec4899",
];

/// One application's daily numbers.
struct Series {
    name: String,
    requests: Vec<u64>,
    signatures: Vec<u64>,
}

/// The label of a usage key: the credential's username, or what is left of it.
fn app_name(key: &str, creds: &[AppCredential]) -> String {
    key.strip_prefix("app_credential:")
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| creds.iter().find(|c| c.id.0 == id))
        .map(|c| c.username.clone())
        .unwrap_or_else(|| match key.strip_prefix("app_credential:") {
            Some(id) => format!("(dihapus) #{id}"),
            None => key.to_string(),
        })
}

/// Groups the usage rows by application over `days` (oldest first).
fn series(days: &[String], usage: &[AppUsageDay], creds: &[AppCredential]) -> Vec<Series> {
    let mut by_key: BTreeMap<&str, Series> = BTreeMap::new();
    for u in usage {
        let Some(i) = days.iter().position(|d| *d == u.day) else {
            continue;
        };
        let s = by_key
            .entry(u.credential_key.as_str())
            .or_insert_with(|| Series {
                name: app_name(&u.credential_key, creds),
                requests: vec![0; days.len()],
                signatures: vec![0; days.len()],
            });
        s.requests[i] += u.requests;
        s.signatures[i] += u.signatures;
    }
    let mut out: Vec<Series> = by_key.into_values().collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The smallest of 5, 10, 20, 50, 100, 200, 500… at least `v` (5 grid steps of whole numbers).
fn nice_max(v: u64) -> u64 {
    let mut base = 1u64;
    loop {
        for f in [5, 10, 20] {
            let c = base.saturating_mul(f);
            if c >= v {
                return c;
            }
        }
        if base > u64::MAX / 100 {
            return u64::MAX;
        }
        base *= 10;
    }
}

/// A horizontal grid line with its value.
struct GridLine {
    y: String,
    text_y: String,
    value: u64,
}

/// One application's part of one day's bar.
struct Bar {
    x: String,
    y: String,
    w: String,
    h: String,
    colour: &'static str,
    title: String,
}

/// A text at a point.
struct Label {
    x: String,
    y: String,
    text: String,
}

/// Where "no data" is written on an empty chart.
struct Point {
    x: String,
    y: String,
}

/// A stacked bar chart's geometry (one bar per day, one colour per application).
struct Chart {
    id: &'static str,
    label: &'static str,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: String,
    tick_x: f64,
    grid: Vec<GridLine>,
    bars: Vec<Bar>,
    labels: Vec<Label>,
    empty: Option<Point>,
}

/// A legend entry.
struct LegendItem {
    colour: &'static str,
    name: String,
}

#[derive(Template)]
#[template(path = "chart.html")]
struct ChartView<'a> {
    chart: Chart,
    legend: &'a [LegendItem],
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The geometry of a stacked bar chart of `data` over `days` (`unit` names the values).
fn bar_chart(
    id: &'static str,
    label: &'static str,
    unit: &str,
    days: &[String],
    data: &[(&str, &[u64])],
) -> Chart {
    const W: f64 = 720.0;
    const H: f64 = 230.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 28.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let totals: Vec<u64> = (0..days.len())
        .map(|i| {
            data.iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = nice_max(totals.iter().copied().max().unwrap_or(0));
    let y = |v: u64| TOP + plot_h - (v as f64 / max as f64) * plot_h;
    let grid = (0..=5u64)
        .map(|k| {
            let v = max / 5 * k;
            GridLine {
                y: f1(y(v)),
                text_y: f1(y(v) + 4.0),
                value: v,
            }
        })
        .collect();
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = slot * 0.62;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut base = 0u64;
        for (j, (name, values)) in data.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let top = y(base + v);
            bars.push(Bar {
                x: f1(x),
                y: f1(top),
                w: f1(bar_w),
                h: f1(y(base) - top),
                colour: COLOURS[j % COLOURS.len()],
                title: format!("{day} · {name}: {v} {unit}"),
            });
            base += v;
        }
        // DD/MM, as dates are written in Indonesia.
        let short = match (day.get(8..10), day.get(5..7)) {
            (Some(d), Some(m)) => format!("{d}/{m}"),
            _ => day.clone(),
        };
        labels.push(Label {
            x: f1(LEFT + slot * i as f64 + slot / 2.0),
            y: f1(H - 10.0),
            text: short,
        });
    }
    Chart {
        id,
        label,
        width: W,
        height: H,
        left: LEFT,
        right: W - RIGHT,
        top: TOP,
        bottom: f1(TOP + plot_h),
        tick_x: LEFT - 6.0,
        grid,
        bars,
        labels,
        empty: totals.iter().all(|t| *t == 0).then(|| Point {
            x: f1(LEFT + plot_w / 2.0),
            y: f1(TOP + plot_h / 2.0),
        }),
    }
}

/// One application's totals.
struct AppRow {
    name: String,
    enabled: bool,
    requests: u64,
    signatures: u64,
}

/// One application's numbers on one day.
struct DayRow {
    day: String,
    name: String,
    requests: u64,
    signatures: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    days: i64,
    enabled: usize,
    total: usize,
    total_requests: u64,
    total_signatures: u64,
    requests_chart: String,
    signatures_chart: String,
    apps: Vec<AppRow>,
    daily: Vec<DayRow>,
}

/// `GET /console`.
pub async fn show(State(state): State<AppState>, session: Session) -> Response {
    let org = session.org.id;
    let now = state.clock.now();
    let today = now.date_naive();
    let first = today - Duration::days(DAYS - 1);
    let since = first
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    let days: Vec<String> = (0..DAYS)
        .map(|i| (first + Duration::days(i)).format("%Y-%m-%d").to_string())
        .collect();
    let (creds, usage) =
        match tokio::try_join!(state.app_credentials(org), state.app_usage(org, since)) {
            Ok(v) => v,
            Err(e) => return internal(e),
        };
    let series = series(&days, &usage, &creds);
    let enabled = creds.iter().filter(|c| c.enabled).count();
    let total_requests: u64 = series.iter().flat_map(|s| &s.requests).sum();
    let total_signatures: u64 = series.iter().flat_map(|s| &s.signatures).sum();

    let legend: Vec<LegendItem> = series
        .iter()
        .enumerate()
        .map(|(j, s)| LegendItem {
            colour: COLOURS[j % COLOURS.len()],
            name: s.name.clone(),
        })
        .collect();
    let req: Vec<(&str, &[u64])> = series
        .iter()
        .map(|s| (s.name.as_str(), s.requests.as_slice()))
        .collect();
    let sig: Vec<(&str, &[u64])> = series
        .iter()
        .map(|s| (s.name.as_str(), s.signatures.as_slice()))
        .collect();
    let chart = |chart| {
        crate::render::fragment(&ChartView {
            chart,
            legend: &legend,
        })
    };
    let apps = creds
        .iter()
        .map(|c| {
            let key = format!("app_credential:{}", c.id);
            let (requests, signatures) = usage
                .iter()
                .filter(|u| u.credential_key == key && days.contains(&u.day))
                .fold((0, 0), |(r, s), u| (r + u.requests, s + u.signatures));
            AppRow {
                name: c.username.clone(),
                enabled: c.enabled,
                requests,
                signatures,
            }
        })
        .collect();
    let mut daily = Vec::new();
    for (i, day) in days.iter().enumerate().rev() {
        for s in &series {
            let (requests, signatures) = (s.requests[i], s.signatures[i]);
            if requests != 0 || signatures != 0 {
                daily.push(DayRow {
                    day: day.clone(),
                    name: s.name.clone(),
                    requests,
                    signatures,
                });
            }
        }
    }
    let page = DashboardPage {
        days: DAYS,
        enabled,
        total: creds.len(),
        total_requests,
        total_signatures,
        requests_chart: chart(bar_chart(
            "chart-requests",
            "Permintaan per hari",
            "permintaan",
            &days,
            &req,
        )),
        signatures_chart: chart(bar_chart(
            "chart-signatures",
            "Tanda tangan per hari",
            "tanda tangan",
            &days,
            &sig,
        )),
        apps,
        daily,
    };
    let body = crate::render::fragment(&page);
    session.page(StatusCode::OK, "Dashboard", Nav::Dashboard, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0), 5);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(6), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(21), 50);
        assert_eq!(nice_max(51), 100);
        assert_eq!(nice_max(4999), 5000);
    }

    #[test]
    fn usage_is_grouped_per_application_and_day() {
        let days = vec!["2024-05-01".to_string(), "2024-05-02".to_string()];
        let u = |k: &str, d: &str, r, s| AppUsageDay {
            credential_key: k.into(),
            day: d.into(),
            requests: r,
            signatures: s,
        };
        let usage = vec![
            u("app_credential:7", "2024-05-01", 3, 1),
            u("app_credential:7", "2024-05-02", 2, 0),
            u("app_credential:9", "2024-05-02", 5, 5),
            u("app_credential:7", "2024-04-30", 100, 0),
        ];
        let s = series(&days, &usage, &[]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "(dihapus) #7");
        assert_eq!(s[0].requests, [3, 2]);
        assert_eq!(s[1].signatures, [0, 5]);
        let legend = [LegendItem {
            colour: COLOURS[0],
            name: "a<b".into(),
        }];
        let chart = bar_chart("c", "x", "permintaan", &days, &[("a<b", &[3, 2])]);
        let svg = crate::render::fragment(&ChartView {
            chart,
            legend: &legend,
        });
        assert!(svg.contains("a&#60;b") && !svg.contains("a<b"), "{svg}");
        assert_eq!(svg.matches("<rect x=").count(), 2);
    }
}
