//! `GET /console/audit[?before=<seq>]`: the organisation's audit log, newest first, 50 records
//! a page. The chain is append-only with contiguous sequence numbers, so a page is "the 50
//! records before `seq`", stable while new records arrive.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::html::{self, Nav};
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

/// `GET /console/audit`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(c): Query<Cursor>,
) -> Response {
    let org = session.org.id;
    let before = match c.before.as_deref().map(str::parse::<i64>) {
        Some(Ok(b)) if b > 0 => b,
        _ => match state.newest_audit_seq(org).await {
            Ok(n) => n + 1,
            Err(e) => return internal(e),
        },
    };
    let after = (before - 1 - PAGE).max(0);
    let limit = u32::try_from((before - 1 - after).max(0)).unwrap_or(0);
    let mut records = if limit == 0 {
        Vec::new()
    } else {
        match state.audit_records(org, after, limit).await {
            Ok(r) => r,
            Err(e) => return internal(e),
        }
    };
    records.reverse();
    let newest_shown = records.first().map_or(before - 1, |r| r.seq);
    let page = AuditPage {
        records: records
            .iter()
            .map(|r| AuditRow {
                seq: r.seq,
                at: html::time(r.at),
                actor: r.actor.clone(),
                action: r.action.clone(),
                target: r.target.clone().unwrap_or_else(|| "-".into()),
                ip: r.ip.clone().unwrap_or_else(|| "-".into()),
                details: r.details.clone(),
                user_agent: r.user_agent.clone(),
            })
            .collect(),
        newer: c.before.is_some().then_some(newest_shown + PAGE + 1),
        older: (after > 0).then_some(after + 1),
    };
    let body = crate::render::fragment(&page);
    session.page(StatusCode::OK, "Audit", Nav::Audit, &body)
}

/// One record as the page shows it.
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    ip: String,
    details: String,
    user_agent: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    records: Vec<AuditRow>,
    /// `before` of the newer page, when this is not the newest.
    newer: Option<i64>,
    /// `before` of the older page, when there is one.
    older: Option<i64>,
}
