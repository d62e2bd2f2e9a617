//! `GET /console`: the dashboard — applications connected (enabled / total) and, per
//! application and day over the last 14 days, requests and signatures: two stacked bar
//! charts drawn as inline SVG, and the same numbers in tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use paraf_domain::{AppCredential, AppUsageDay};

use super::html::{esc, Nav};
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

/// A stacked bar chart (one bar per day, one colour per application) as inline SVG.
fn bar_chart(
    id: &str,
    label: &str,
    unit: &str,
    days: &[String],
    data: &[(&str, &[u64])],
) -> String {
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
    let mut svg = format!(
        "<svg id=\"{id}\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(label)
    );
    for k in 0..=5u64 {
        let v = max / 5 * k;
        let yy = y(v);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e4e7eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = slot * 0.62;
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut base = 0u64;
        for (j, (name, values)) in data.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let top = y(base + v);
            let h = y(base) - top;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\">\
                 <title>{} · {}: {v} {}</title></rect>",
                COLOURS[j % COLOURS.len()],
                esc(day),
                esc(name),
                esc(unit)
            );
            base += v;
        }
        // DD/MM, as dates are written in Indonesia.
        let short = match (day.get(8..10), day.get(5..7)) {
            (Some(d), Some(m)) => format!("{d}/{m}"),
            _ => day.clone(),
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LEFT + slot * i as f64 + slot / 2.0,
            H - 10.0,
            esc(&short)
        );
    }
    if totals.iter().all(|t| *t == 0) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Belum ada data</text>",
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#9aa5b1\"/></svg>",
        TOP + plot_h
    );
    svg
}

fn legend(names: &[&str]) -> String {
    let mut out = String::from("<p class=\"muted\">");
    for (j, n) in names.iter().enumerate() {
        let _ = write!(
            out,
            "<svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{}\"/></svg> {} &nbsp; ",
            COLOURS[j % COLOURS.len()],
            esc(n)
        );
    }
    out.push_str("</p>");
    out
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
    // The counters are written every half second: write what is pending first.
    state.usage.flush().await;
    let (creds, usage) = match tokio::try_join!(
        state.store.list_app_credentials(org),
        state.store.app_usage(org, since)
    ) {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let series = series(&days, &usage, &creds);
    let enabled = creds.iter().filter(|c| c.enabled).count();
    let total_requests: u64 = series.iter().flat_map(|s| &s.requests).sum();
    let total_signatures: u64 = series.iter().flat_map(|s| &s.signatures).sum();

    let mut body = String::from("<h1>Dashboard</h1><div class=\"cards\">");
    let _ = write!(
        body,
        "<div class=\"card\"><div class=\"muted\">Aplikasi terhubung</div>\
         <div class=\"big\" id=\"apps-connected\">{enabled} / {}</div>\
         <div class=\"muted\">Enable / total kredensial</div></div>\
         <div class=\"card\"><div class=\"muted\">Permintaan ({DAYS} hari)</div>\
         <div class=\"big\" id=\"requests-total\">{total_requests}</div></div>\
         <div class=\"card\"><div class=\"muted\">Tanda tangan ({DAYS} hari)</div>\
         <div class=\"big\" id=\"signatures-total\">{total_signatures}</div></div></div>",
        creds.len()
    );
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    let req: Vec<(&str, &[u64])> = series
        .iter()
        .map(|s| (s.name.as_str(), s.requests.as_slice()))
        .collect();
    let sig: Vec<(&str, &[u64])> = series
        .iter()
        .map(|s| (s.name.as_str(), s.signatures.as_slice()))
        .collect();
    let _ = write!(
        body,
        "<div class=\"card\"><h2>Permintaan per aplikasi per hari</h2>{}{}</div>\
         <div class=\"card\"><h2>Tanda tangan per aplikasi per hari</h2>{}{}</div>",
        bar_chart(
            "chart-requests",
            "Permintaan per hari",
            "permintaan",
            &days,
            &req
        ),
        legend(&names),
        bar_chart(
            "chart-signatures",
            "Tanda tangan per hari",
            "tanda tangan",
            &days,
            &sig
        ),
        legend(&names),
    );

    body.push_str(
        "<h2>Per aplikasi</h2><table id=\"apps\"><thead><tr><th>Aplikasi</th><th>Status</th>\
         <th class=\"num\">Permintaan</th><th class=\"num\">Tanda tangan</th></tr></thead><tbody>",
    );
    for c in &creds {
        let key = format!("app_credential:{}", c.id);
        let (r, s): (u64, u64) = usage
            .iter()
            .filter(|u| u.credential_key == key && days.contains(&u.day))
            .fold((0, 0), |(r, s), u| (r + u.requests, s + u.signatures));
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{r}</td><td class=\"num\">{s}</td></tr>",
            esc(&c.username),
            if c.enabled { "Enable" } else { "Disable" }
        );
    }
    if creds.is_empty() {
        body.push_str(
            "<tr><td colspan=\"4\" class=\"muted\">Belum ada kredensial. \
             <a href=\"/console/credentials/new\">Tambah API</a></td></tr>",
        );
    }
    body.push_str("</tbody></table>");

    body.push_str(
        "<h2>Rincian harian</h2><table id=\"usage\"><thead><tr><th>Tanggal</th><th>Aplikasi</th>\
         <th class=\"num\">Permintaan</th><th class=\"num\">Tanda tangan</th></tr></thead><tbody>",
    );
    let mut rows = 0;
    for (i, day) in days.iter().enumerate().rev() {
        for s in &series {
            let (r, g) = (s.requests[i], s.signatures[i]);
            if r == 0 && g == 0 {
                continue;
            }
            rows += 1;
            let _ = write!(
                body,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{r}</td><td class=\"num\">{g}</td></tr>",
                esc(day),
                esc(&s.name)
            );
        }
    }
    if rows == 0 {
        let _ = write!(
            body,
            "<tr><td colspan=\"4\" class=\"muted\">Tidak ada permintaan dalam {DAYS} hari terakhir.</td></tr>"
        );
    }
    body.push_str("</tbody></table>");
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
        let svg = bar_chart("c", "x", "permintaan", &days, &[("a<b", &[3, 2])]);
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }
}
