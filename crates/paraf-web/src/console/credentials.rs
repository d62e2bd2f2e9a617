//! API Credentials (seed 001, "PEMBUATAN CREDENTIAL"): the organisation's Basic-auth
//! application credentials — list, "Tambah API" (Username, Password, IP Endpoint, Deskripsi,
//! Enable/Disable, Save), edit and delete. Validation errors show the form again with the
//! message under the field.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use paraf_core::domain::{
    AppCredential, AppCredentialId, DomainError, IpAllowList, NewAppCredential, Password,
};
use serde::Deserialize;

use super::html::{self, Nav};
use super::{done_notice, internal, not_found, see_other, CsrfOnly, Done, Session};
use paraf_core::credentials::CredentialChanges;
use paraf_http::state::AppState;

/// Longest description accepted.
const MAX_DESCRIPTION: usize = 500;

const DONE: [(&str, &str); 3] = [
    ("created", "Kredensial tersimpan."),
    ("updated", "Perubahan kredensial tersimpan."),
    ("deleted", "Kredensial dihapus."),
];

/// The add and edit form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CredentialForm {
    username: String,
    password: String,
    allowed_ips: String,
    description: String,
    status: String,
    csrf: Option<String>,
}

#[derive(Debug, Default)]
struct Errors {
    username: Option<String>,
    password: Option<String>,
    allowed_ips: Option<String>,
    description: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.username.is_some()
            || self.password.is_some()
            || self.allowed_ips.is_some()
            || self.description.is_some()
    }
}

/// Splits an IP Endpoint field (commas, spaces or new lines between entries) into an
/// allow-list; the error names the first bad entry.
pub(crate) fn parse_ips(text: &str) -> Result<IpAllowList, String> {
    let entries: Vec<&str> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    for e in &entries {
        if IpAllowList::parse_one(e).is_err() {
            return Err(format!(
                "\"{e}\" bukan alamat IP atau CIDR (contoh: 192.0.2.10 atau 10.0.0.0/8)."
            ));
        }
    }
    IpAllowList::parse(&entries).map_err(|e| e.to_string())
}

fn parse_enabled(status: &str) -> bool {
    !status.trim().eq_ignore_ascii_case("disable")
}

fn check_description(d: &str, errors: &mut Errors) {
    if d.trim().chars().count() > MAX_DESCRIPTION {
        errors.description = Some(format!(
            "Deskripsi paling banyak {MAX_DESCRIPTION} karakter."
        ));
    }
}

fn check_password(p: &str, errors: &mut Errors) -> Option<Password> {
    match Password::parse(p) {
        Ok(p) => Some(p),
        Err(_) => {
            errors.password = Some("Password 8 sampai 1024 karakter.".into());
            None
        }
    }
}

fn check_ips(text: &str, errors: &mut Errors) -> Option<IpAllowList> {
    match parse_ips(text) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.allowed_ips = Some(e);
            None
        }
    }
}

fn ip_text(list: &IpAllowList) -> String {
    list.to_strings().join(", ")
}

/// One credential as the list shows it.
struct CredentialRow {
    id: i64,
    username: String,
    description: String,
    ips: String,
    enabled: bool,
    created: String,
    used: String,
}

#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    done: Option<&'static str>,
    creds: Vec<CredentialRow>,
}

#[derive(Template)]
#[template(path = "credential_form.html")]
struct CredentialFormPage<'a> {
    heading: &'a str,
    action: &'a str,
    csrf: &'a str,
    /// The username of the credential being edited (`None`: a new one).
    editing: Option<&'a str>,
    has_errors: bool,
    errors: &'a Errors,
    username: &'a str,
    allowed_ips: &'a str,
    description: &'a str,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "credential_delete.html")]
struct DeletePage<'a> {
    username: &'a str,
    action: &'a str,
    csrf: &'a str,
}

/// `GET /console/credentials`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    let creds = match state.app_credentials(session.org.id).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let page = CredentialsPage {
        done: done_notice(q.done.as_deref(), &DONE),
        creds: creds
            .iter()
            .map(|c| CredentialRow {
                id: c.id.0,
                username: c.username.clone(),
                description: c.description.clone(),
                ips: ip_text(&c.allowed_ips),
                enabled: c.enabled,
                created: html::time(c.created_at),
                used: html::time_opt(c.last_used_at),
            })
            .collect(),
    };
    let body = crate::render::fragment(&page);
    session.page(StatusCode::OK, "API Credentials", Nav::Credentials, &body)
}

fn form_page(
    session: &Session,
    status: StatusCode,
    editing: Option<&AppCredential>,
    v: &CredentialForm,
    errors: &Errors,
) -> Response {
    let (title, action) = match editing {
        None => ("Tambah API".to_string(), "/console/credentials".to_string()),
        Some(c) => (
            format!("Edit kredensial {}", c.username),
            format!("/console/credentials/{}", c.id),
        ),
    };
    let page = CredentialFormPage {
        heading: &title,
        action: &action,
        csrf: &session.csrf,
        editing: editing.map(|c| c.username.as_str()),
        has_errors: errors.any(),
        errors,
        username: &v.username,
        allowed_ips: &v.allowed_ips,
        description: &v.description,
        enabled: parse_enabled(&v.status),
    };
    let body = crate::render::fragment(&page);
    session.page(status, &title, Nav::Credentials, &body)
}

/// `GET /console/credentials/new`: the "Tambah API" form.
pub async fn new_form(session: Session) -> Response {
    let v = CredentialForm {
        status: "enable".into(),
        ..CredentialForm::default()
    };
    form_page(&session, StatusCode::OK, None, &v, &Errors::default())
}

/// `POST /console/credentials`: creates a credential.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<CredentialForm>,
) -> Response {
    if let Some(r) = session.csrf_refusal(f.csrf.as_deref()) {
        return r;
    }
    let mut errors = Errors::default();
    let username = match NewAppCredential::parse_username(&f.username) {
        Ok(u) => Some(u),
        Err(_) => {
            errors.username =
                Some("Username 1 sampai 100 karakter, tanpa titik dua (:) atau spasi.".into());
            None
        }
    };
    let password = check_password(&f.password, &mut errors);
    let ips = check_ips(&f.allowed_ips, &mut errors);
    check_description(&f.description, &mut errors);
    let (Some(username), Some(password), Some(ips), false) =
        (username, password, ips, errors.any())
    else {
        return form_page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            &f,
            &errors,
        );
    };
    let enabled = parse_enabled(&f.status);
    let new = NewAppCredential {
        org: session.org.id,
        username: username.clone(),
        password,
        description: f.description.trim().to_string(),
        allowed_ips: ips,
    };
    match state
        .create_app_credential(&new, enabled, &session.actor())
        .await
    {
        Ok(_) => see_other("/console/credentials?done=created"),
        Err(e) if matches!(e.domain(), Some(DomainError::AlreadyExists { .. })) => {
            errors.username = Some("Username ini sudah dipakai.".into());
            form_page(
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &f,
                &errors,
            )
        }
        Err(e) => internal(e),
    }
}

async fn load(state: &AppState, session: &Session, id: &str) -> Result<AppCredential, Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found(session));
    };
    match state
        .app_credential(session.org.id, AppCredentialId(id))
        .await
    {
        Ok(c) => Ok(c),
        Err(e) if e.is_not_found() => Err(not_found(session)),
        Err(e) => Err(internal(e)),
    }
}

/// The credential a form posts to, once the form's CSRF token is checked.
async fn load_checked(
    state: &AppState,
    session: &Session,
    id: &str,
    csrf: Option<&str>,
) -> Result<AppCredential, Response> {
    if let Some(r) = session.csrf_refusal(csrf) {
        return Err(r);
    }
    load(state, session, id).await
}

/// `GET /console/credentials/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let cred = load(&state, &session, &id).await?;
    let v = CredentialForm {
        username: cred.username.clone(),
        allowed_ips: ip_text(&cred.allowed_ips),
        description: cred.description.clone(),
        status: if cred.enabled { "enable" } else { "disable" }.into(),
        ..CredentialForm::default()
    };
    Ok(form_page(
        &session,
        StatusCode::OK,
        Some(&cred),
        &v,
        &Errors::default(),
    ))
}

/// `POST /console/credentials/{id}`: saves the edit form.
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<CredentialForm>,
) -> Result<Response, Response> {
    let cred = load_checked(&state, &session, &id, f.csrf.as_deref()).await?;
    let mut errors = Errors::default();
    let password = if f.password.is_empty() {
        None
    } else {
        check_password(&f.password, &mut errors)
    };
    let ips = check_ips(&f.allowed_ips, &mut errors);
    check_description(&f.description, &mut errors);
    let (Some(ips), false) = (ips, errors.any()) else {
        return Ok(form_page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&cred),
            &f,
            &errors,
        ));
    };
    let changes = CredentialChanges {
        description: f.description.trim().to_string(),
        allowed_ips: ips,
        enabled: parse_enabled(&f.status),
        password,
    };
    match state
        .update_app_credential(&cred, &changes, &session.actor())
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Err(not_found(&session)),
        Err(e) => return Err(internal(e)),
    }
    Ok(see_other("/console/credentials?done=updated"))
}

/// `GET /console/credentials/{id}/delete`: asks for confirmation (no JavaScript dialogs).
pub async fn delete_confirm(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let cred = load(&state, &session, &id).await?;
    let action = format!("/console/credentials/{}/delete", cred.id);
    let body = crate::render::fragment(&DeletePage {
        username: &cred.username,
        action: &action,
        csrf: &session.csrf,
    });
    Ok(session.page(StatusCode::OK, "Hapus kredensial", Nav::Credentials, &body))
}

/// `POST /console/credentials/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let cred = match load_checked(&state, &session, &id, f.csrf.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match state.delete_app_credential(&cred, &session.actor()).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return not_found(&session),
        Err(e) => return internal(e),
    }
    see_other("/console/credentials?done=deleted")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ip_endpoints_split_on_commas_and_spaces() {
        let l = parse_ips("127.0.0.1/32, 10.0.0.0/8  192.0.2.7\n2001:db8::/32").unwrap();
        assert_eq!(
            l.to_strings(),
            [
                "127.0.0.1/32",
                "10.0.0.0/8",
                "192.0.2.7/32",
                "2001:db8::/32"
            ]
        );
        assert!(parse_ips("").unwrap().is_empty());
        let e = parse_ips("10.0.0.1, nope").unwrap_err();
        assert!(e.contains("\"nope\""), "{e}");
    }

    #[test]
    fn status_is_enable_unless_disable() {
        assert!(parse_enabled("enable"));
        assert!(parse_enabled(""));
        assert!(!parse_enabled("disable"));
    }
}
