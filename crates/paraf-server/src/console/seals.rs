//! `GET /console/seals`: the organisation's seals (BSrE `idSubscriber`): name, e-mail,
//! certificate serial and end of validity, and whether an activation is in force.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::html::{self, esc, Nav};
use super::{internal, Session};
use paraf_http::state::AppState;

/// `GET /console/seals`.
pub async fn list(State(state): State<AppState>, session: Session) -> Response {
    let seals = match state.store.list_seals(session.org.id).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let now = state.clock.now();
    let mut body = String::from("<h1>Segel</h1>");
    if seals.is_empty() {
        body.push_str(
            "<div class=\"card muted\">Belum ada segel. Segel dibuat dengan \
             <code>paraf admin</code>.</div>",
        );
    } else {
        body.push_str(
            "<table id=\"seals\"><thead><tr><th>ID Subscriber</th><th>Nama</th><th>Email</th>\
             <th>Serial sertifikat</th><th>Berlaku s.d.</th><th>Aktivasi</th></tr></thead><tbody>",
        );
        for s in &seals {
            let expired = s.cert_not_after <= now;
            let activated = if s.activated(now) {
                format!(
                    "<span class=\"badge on-badge\">aktif</span><div class=\"muted\">s.d. {}</div>",
                    html::time_opt(s.activation_expires_at)
                )
            } else {
                "<span class=\"badge off-badge\">tidak aktif</span>".to_string()
            };
            let _ = write!(
                body,
                "<tr id=\"seal-{id}\"><td><code>{sub}</code></td><td>{name}</td><td>{email}</td>\
                 <td><code>{serial}</code></td><td>{until}{exp}</td><td>{activated}</td></tr>",
                id = s.id,
                sub = esc(&s.id_subscriber),
                name = esc(&s.name),
                email = esc(s.email.as_str()),
                serial = esc(&s.cert_serial),
                until = html::time(s.cert_not_after),
                exp = if expired {
                    " <span class=\"badge off-badge\">kedaluwarsa</span>"
                } else {
                    ""
                },
            );
        }
        body.push_str("</tbody></table>");
    }
    session.page(StatusCode::OK, "Segel", Nav::Seals, &body)
}
