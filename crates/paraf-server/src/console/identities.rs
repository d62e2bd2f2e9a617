//! `/console/identities`: the organisation's signing identities with their status at the
//! server's "now", a registration form (name, e-mail, NIK) and per-identity actions — verify
//! (sends the activation mail), suspend, reinstate, revoke, renew — all through
//! [`crate::identities::IdentityService`].

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use paraf_domain::{Identity, IdentityId, IdentityStatus};
use serde::Deserialize;

use super::html::{self, esc, Nav};
use super::{done_notice, internal, not_found, see_other, CsrfOnly, Session};
use paraf_core::audit::AuditAction;
use paraf_http::state::AppState;

const DONE: [(&str, &str); 6] = [
    ("registered", "Identitas terdaftar (menunggu verifikasi)."),
    ("verify", "Identitas diverifikasi; email aktivasi dikirim."),
    ("suspend", "Identitas di-suspend."),
    ("reinstate", "Identitas diaktifkan kembali."),
    ("revoke", "Sertifikat identitas dicabut (revoke)."),
    ("renew", "Pembaruan dimulai; email aktivasi dikirim."),
];

/// `?done=` after a redirect.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: Option<String>,
}

/// The registration form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    name: String,
    email: String,
    nik: String,
    csrf: Option<String>,
}

/// The actions an identity in `status` offers (the service decides in the end).
fn actions_for(status: IdentityStatus) -> &'static [&'static str] {
    match status {
        IdentityStatus::WaitingForVerification
        | IdentityStatus::New
        | IdentityStatus::NoCertificate => &["verify", "revoke"],
        IdentityStatus::Issue => &["suspend", "renew", "revoke"],
        IdentityStatus::Expired => &["renew", "revoke"],
        IdentityStatus::Suspend => &["reinstate", "revoke"],
        IdentityStatus::Renew => &["renew", "suspend", "revoke"],
        IdentityStatus::Revoke | IdentityStatus::NotRegistered => &[],
    }
}

/// Which form field an error message names (`invalid email: …`).
fn field_of(message: &str) -> Option<&'static str> {
    let rest = message.strip_prefix("invalid ")?;
    ["name", "email", "nik"]
        .into_iter()
        .find(|f| rest.starts_with(f))
}

struct View<'a> {
    notice: String,
    form: &'a RegisterForm,
    form_error: Option<String>,
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    view: View<'_>,
) -> Response {
    let identities = match state.store.list_identities(session.org.id).await {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let now = state.clock.now();
    let mut body = format!("<h1>Identitas</h1>{}", view.notice);
    if identities.is_empty() {
        body.push_str("<div class=\"card muted\">Belum ada identitas terdaftar.</div>");
    } else {
        body.push_str(
            "<table id=\"identities\"><thead><tr><th>Nama</th><th>Email</th><th>NIK</th>\
             <th>Status</th><th>Sertifikat</th><th>Aksi</th></tr></thead><tbody>",
        );
        for i in &identities {
            row(&mut body, session, i, now);
        }
        body.push_str("</tbody></table>");
    }
    let err_field = view.form_error.as_deref().and_then(field_of);
    let field_err = |f: &str| {
        if err_field == Some(f) {
            view.form_error.as_deref()
        } else {
            None
        }
    };
    let general = match (&view.form_error, err_field) {
        (Some(e), None) => html::error(e),
        _ => String::new(),
    };
    let _ = write!(
        body,
        "<h2>Daftarkan identitas</h2><div class=\"card\">{general}\
         <form method=\"post\" action=\"/console/identities\" id=\"register-form\">{}{}{}{}\
         <p class=\"muted\">Email atau NIK wajib diisi; identitas menunggu verifikasi.</p>\
         <button type=\"submit\" id=\"register\">Daftarkan</button></form></div>",
        html::csrf_field(&session.csrf),
        html::input(
            "text",
            "name",
            "Nama",
            &view.form.name,
            field_err("name"),
            " required"
        ),
        html::input(
            "email",
            "email",
            "Email",
            &view.form.email,
            field_err("email"),
            ""
        ),
        html::input(
            "text",
            "nik",
            "NIK",
            &view.form.nik,
            field_err("nik"),
            " inputmode=\"numeric\" maxlength=\"16\""
        ),
    );
    session.page(status, "Identitas", Nav::Identities, &body)
}

fn row(body: &mut String, session: &Session, i: &Identity, now: paraf_domain::Timestamp) {
    let status = i.status_at(now);
    let cert = match (&i.cert_serial, i.cert_not_after) {
        (Some(s), Some(t)) => format!(
            "<code>{}</code><div class=\"muted\">s.d. {}</div>",
            esc(s),
            html::time(t)
        ),
        (Some(s), None) => format!("<code>{}</code>", esc(s)),
        _ => "-".to_string(),
    };
    let mut actions = String::new();
    for a in actions_for(status) {
        let class = if matches!(*a, "revoke" | "suspend") {
            "danger"
        } else {
            ""
        };
        actions.push_str(&html::button_form(
            &format!("/console/identities/{}/{a}", i.id),
            &session.csrf,
            a,
            class,
        ));
    }
    let _ = write!(
        body,
        "<tr id=\"identity-{id}\"><td>{name}</td><td>{email}</td><td>{nik}</td>\
         <td><span class=\"badge st\" title=\"{desc}\">{status}</span></td><td>{cert}</td>\
         <td class=\"actions\">{actions}</td></tr>",
        id = i.id,
        name = esc(i.name.as_str()),
        email = esc(i.email.as_ref().map_or("-", |e| e.as_str())),
        nik = esc(i.nik.as_ref().map_or("-", |n| n.as_str())),
        desc = esc(status.description_id()),
        status = esc(status.as_str()),
    );
}

/// `GET /console/identities`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    let form = RegisterForm::default();
    let view = View {
        notice: done_notice(q.done.as_deref(), &DONE),
        form: &form,
        form_error: None,
    };
    render(&state, &session, StatusCode::OK, view).await
}

/// `POST /console/identities`: registers an identity (WAITING_FOR_VERIFICATION).
pub async fn register(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<RegisterForm>,
) -> Response {
    if let Some(r) = session.csrf_refusal(f.csrf.as_deref()) {
        return r;
    }
    let service = state.identities();
    let email = Some(f.email.trim()).filter(|s| !s.is_empty());
    let nik = Some(f.nik.trim()).filter(|s| !s.is_empty());
    match service
        .register(session.org.id, f.name.trim(), email, nik, &session.actor())
        .await
    {
        Ok(_) => see_other("/console/identities?done=registered"),
        Err(e) => {
            let view = View {
                notice: String::new(),
                form: &f,
                form_error: Some(e.to_string()),
            };
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
    }
}

/// `POST /console/identities/{id}/{action}`: verify, suspend, reinstate, revoke or renew.
pub async fn act(
    State(state): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = session.csrf_refusal(f.csrf.as_deref()) {
        return r;
    }
    let Ok(id) = id.parse::<i64>().map(IdentityId) else {
        return not_found(&session);
    };
    let org = session.org.id;
    // Scoped to the session's organisation before anything else.
    let has_email = match state.store.identity(org, id).await {
        Ok(i) => i.email.is_some(),
        Err(e) if e.is_not_found() => return not_found(&session),
        Err(e) => return internal(e),
    };
    let service = state.identities();
    let actor = session.actor();
    let result = match action.as_str() {
        "verify" => service.verify(org, id, &actor).await.map(|(_, l)| Some(l)),
        "suspend" => service.suspend(org, id, &actor).await.map(|_| None),
        "reinstate" => service.reinstate(org, id, &actor).await.map(|_| None),
        "revoke" => service.revoke(org, id, &actor).await.map(|_| None),
        "renew" => service.renew(org, id, &actor).await.map(|(_, l)| Some(l)),
        _ => return not_found(&session),
    };
    match result {
        // Without an e-mail the link cannot be mailed: show it to the administrator, once,
        // to hand over to the signer.
        Ok(Some(link)) if !has_email => {
            session
                .audit(
                    &state,
                    AuditAction::ActivationLinkShown,
                    Some(format!("identity:{id}")),
                    serde_json::json!({}),
                )
                .await;
            let form = RegisterForm::default();
            let view = View {
                notice: html::ok(&format!(
                    "Identitas tidak memiliki email: serahkan tautan aktivasi ini kepada \
                     pemiliknya (sekali pakai, ditampilkan sekali): {}",
                    link.url
                )),
                form: &form,
                form_error: None,
            };
            render(&state, &session, StatusCode::OK, view).await
        }
        Ok(_) => see_other(&format!("/console/identities?done={action}")),
        Err(e) => {
            let form = RegisterForm::default();
            let view = View {
                notice: html::error(&format!("Aksi {action} gagal: {e}")),
                form: &form,
                form_error: None,
            };
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_their_field() {
        assert_eq!(field_of("invalid email: not an address"), Some("email"));
        assert_eq!(field_of("invalid nik: 16 digits"), Some("nik"));
        assert_eq!(field_of("identity already exists: x"), None);
    }

    #[test]
    fn revoked_identities_offer_nothing() {
        assert!(actions_for(IdentityStatus::Revoke).is_empty());
        assert!(actions_for(IdentityStatus::Issue).contains(&"revoke"));
    }
}
