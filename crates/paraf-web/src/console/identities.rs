//! `/console/identities`: the organisation's signing identities with their status at the
//! server's "now", a registration form (name, e-mail, NIK) and per-identity actions — verify
//! (sends the activation mail), suspend, reinstate, revoke, renew — all through
//! `paraf_core::IdentityService`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use paraf_core::domain::{Identity, IdentityId, IdentityStatus};
use serde::Deserialize;

use super::html::{self, Nav};
use super::{internal, not_found, see_other, Done, Session};
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
    notice: Option<(bool, String)>,
    form: &'a RegisterForm,
    form_error: Option<String>,
}

/// One action button of a row.
struct ActionButton {
    path: String,
    name: &'static str,
    class: &'static str,
}

/// One identity as the page shows it.
struct IdentityRow {
    id: i64,
    name: String,
    email: String,
    nik: String,
    status: &'static str,
    description: &'static str,
    serial: Option<String>,
    until: Option<String>,
    actions: Vec<ActionButton>,
}

#[derive(Template)]
#[template(path = "identities.html")]
struct IdentitiesPage<'a> {
    notice: Option<(bool, String)>,
    rows: Vec<IdentityRow>,
    csrf: &'a str,
    general_error: Option<&'a str>,
    form_name: &'a str,
    form_email: &'a str,
    form_nik: &'a str,
    name_error: Option<&'a str>,
    email_error: Option<&'a str>,
    nik_error: Option<&'a str>,
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    view: View<'_>,
) -> Response {
    let identities = match state.identities_of(session.org.id).await {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let now = state.clock.now();
    let err_field = view.form_error.as_deref().and_then(field_of);
    let field_err = |f: &str| {
        if err_field == Some(f) {
            view.form_error.as_deref()
        } else {
            None
        }
    };
    let page = IdentitiesPage {
        notice: view.notice,
        rows: identities.iter().map(|i| row(i, now)).collect(),
        csrf: &session.csrf,
        general_error: view.form_error.as_deref().filter(|_| err_field.is_none()),
        form_name: &view.form.name,
        form_email: &view.form.email,
        form_nik: &view.form.nik,
        name_error: field_err("name"),
        email_error: field_err("email"),
        nik_error: field_err("nik"),
    };
    let body = crate::render::fragment(&page);
    session.page(status, "Identitas", Nav::Identities, &body)
}

fn row(i: &Identity, now: paraf_core::domain::Timestamp) -> IdentityRow {
    let status = i.status_at(now);
    IdentityRow {
        id: i.id.0,
        name: i.name.as_str().to_string(),
        email: i.email.as_ref().map_or("-", |e| e.as_str()).to_string(),
        nik: i.nik.as_ref().map_or("-", |n| n.as_str()).to_string(),
        status: status.as_str(),
        description: status.description_id(),
        serial: i.cert_serial.clone(),
        until: i.cert_serial.as_ref().and(i.cert_not_after).map(html::time),
        actions: actions_for(status)
            .iter()
            .map(|a| ActionButton {
                path: format!("/console/identities/{}/{a}", i.id),
                name: a,
                class: if matches!(*a, "revoke" | "suspend") {
                    "danger"
                } else {
                    ""
                },
            })
            .collect(),
    }
}

/// `GET /console/identities`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    let form = RegisterForm::default();
    let view = View {
        notice: q.notice(&DONE),
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
                notice: None,
                form: &f,
                form_error: Some(super::user_message(&e)),
            };
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
    }
}

/// `POST /console/identities/{id}/{action}`: verify, suspend, reinstate, revoke or renew.
pub async fn act(State(state): State<AppState>, form: super::ActionForm) -> Response {
    let super::ActionForm {
        session,
        id,
        action,
    } = form;
    let id = IdentityId(id);
    let org = session.org.id;
    // Scoped to the session's organisation before anything else.
    let has_email = match state.identity(org, id).await {
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
                notice: Some((
                    true,
                    format!(
                        "Identitas tidak memiliki email: serahkan tautan aktivasi ini kepada \
                         pemiliknya (sekali pakai, ditampilkan sekali): {}",
                        link.url
                    ),
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
                notice: Some((
                    false,
                    format!("Aksi {action} gagal: {}", super::user_message(&e)),
                )),
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
