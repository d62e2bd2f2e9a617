//! `GET /console/audit[?before=<seq>]`: the organisation's audit log, newest first, 50 records
//! a page. The chain is append-only with contiguous sequence numbers, so a page is "the 50
//! records before `seq`", stable while new records arrive.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use paraf_domain::OrgId;
use paraf_store::Store;
use serde::Deserialize;

use super::html::{self, esc, Nav};
use super::{internal, Session};
use paraf_http::state::AppState;

/// Records per page.
pub const PAGE: i64 = 50;

/// The page cursor.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Cursor {
    before: Option<String>,
}

/// The newest sequence number of the organisation's chain (0 when empty): an exponential
/// then binary search over `audit_records`, O(log n) indexed reads.
async fn newest_seq(store: &Store, org: OrgId) -> Result<i64, paraf_store::StoreError> {
    let exists = |seq: i64| async move {
        Ok::<_, paraf_store::StoreError>(!store.audit_records(org, seq - 1, 1).await?.is_empty())
    };
    if !exists(1).await? {
        return Ok(0);
    }
    // Invariant: `lo` exists, `hi` does not.
    let mut lo = 1i64;
    let mut hi = 2i64;
    while exists(hi).await? {
        lo = hi;
        hi = hi.saturating_mul(2);
        if hi == i64::MAX {
            break;
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if exists(mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// `GET /console/audit`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(c): Query<Cursor>,
) -> Response {
    let org = session.org.id;
    let before = match c.before.as_deref().map(str::parse::<i64>) {
        Some(Ok(b)) if b > 0 => b,
        _ => match newest_seq(&state.store, org).await {
            Ok(n) => n + 1,
            Err(e) => return internal(e),
        },
    };
    let after = (before - 1 - PAGE).max(0);
    let limit = u32::try_from((before - 1 - after).max(0)).unwrap_or(0);
    let mut records = if limit == 0 {
        Vec::new()
    } else {
        match state.store.audit_records(org, after, limit).await {
            Ok(r) => r,
            Err(e) => return internal(e),
        }
    };
    records.reverse();
    let mut body = String::from("<h1>Audit</h1>");
    if records.is_empty() {
        body.push_str("<div class=\"card muted\">Tidak ada catatan.</div>");
    } else {
        body.push_str(
            "<table id=\"audit\"><thead><tr><th>#</th><th>Waktu</th><th>Aktor</th><th>Aksi</th>\
             <th>Target</th><th>IP</th><th>Detail</th></tr></thead><tbody>",
        );
        for r in &records {
            let _ = write!(
                body,
                "<tr><td>{seq}</td><td>{at}</td><td><code>{actor}</code></td><td><code>{action}</code></td>\
                 <td><code>{target}</code></td><td>{ip}</td><td><code>{details}</code>{ua}</td></tr>",
                seq = r.seq,
                at = html::time(r.at),
                actor = esc(&r.actor),
                action = esc(&r.action),
                target = esc(r.target.as_deref().unwrap_or("-")),
                ip = esc(r.ip.as_deref().unwrap_or("-")),
                details = esc(&r.details),
                ua = r
                    .user_agent
                    .as_deref()
                    .map(|u| format!("<div class=\"muted\">{}</div>", esc(u)))
                    .unwrap_or_default(),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<div class=\"pager\">");
    let newest_shown = records.first().map_or(before - 1, |r| r.seq);
    if c.before.is_some() {
        let _ = write!(
            body,
            "<a href=\"/console/audit?before={}\">« Lebih baru</a>",
            newest_shown + PAGE + 1
        );
    }
    if after > 0 {
        let _ = write!(
            body,
            "<a href=\"/console/audit?before={}\" id=\"older\">Lebih lama »</a>",
            after + 1
        );
    }
    body.push_str("</div>");
    session.page(StatusCode::OK, "Audit", Nav::Audit, &body)
}
