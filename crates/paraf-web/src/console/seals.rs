//! `GET /console/seals`: the organisation's seals (BSrE `idSubscriber`): name, e-mail,
//! certificate serial and end of validity, and whether an activation is in force.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::html::{self, Nav};
use super::{internal, Session};
use paraf_http::state::AppState;

/// One seal as the page shows it.
struct SealRow {
    id: i64,
    id_subscriber: String,
    name: String,
    email: String,
    serial: String,
    until: String,
    expired: bool,
    activated_until: Option<String>,
}

#[derive(Template)]
#[template(path = "seals.html")]
struct SealsPage {
    seals: Vec<SealRow>,
}

/// `GET /console/seals`.
pub async fn list(State(state): State<AppState>, session: Session) -> Response {
    let seals = match state.seals_of(session.org.id).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let now = state.clock.now();
    let seals = seals
        .iter()
        .map(|s| SealRow {
            id: s.id.0,
            id_subscriber: s.id_subscriber.clone(),
            name: s.name.clone(),
            email: s.email.as_str().to_string(),
            serial: s.cert_serial.clone(),
            until: html::time(s.cert_not_after),
            expired: s.cert_not_after <= now,
            activated_until: s
                .activated(now)
                .then(|| html::time_opt(s.activation_expires_at)),
        })
        .collect();
    let body = crate::render::fragment(&SealsPage { seals });
    session.page(StatusCode::OK, "Segel", Nav::Seals, &body)
}
