//! `/console/app-keys`: the application keys of the external API (`/ext/v1`, seed 004) — make
//! one (a name, whether every request must be signed; its `x-app-key` and Ed25519 private key
//! shown once), enable or disable, rotate the key pair (the new private key shown once; the
//! `x-app-key` stays), delete (its users' tokens stop). Everything goes through the core's
//! `app_keys`, as `paraf admin app-key` does.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use paraf_core::domain::GatewayAppId;
use serde::Deserialize;

use super::html::{self, Nav};
use super::{
    internal, not_found, see_other, user_message, ActionForm, Done, Session, SessionForm, WithCsrf,
};
use paraf_http::state::AppState;

const DONE: [(&str, &str); 3] = [
    ("enable", "Kunci aplikasi diaktifkan."),
    ("disable", "Kunci aplikasi dinonaktifkan."),
    (
        "delete",
        "Kunci aplikasi dihapus; token penggunanya tidak berlaku lagi.",
    ),
];

impl WithCsrf for AppKeyForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The "make a key" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppKeyForm {
    name: String,
    /// The checkbox: present when ticked.
    require_signature: Option<String>,
    csrf: Option<String>,
}

struct KeyRow {
    id: i64,
    name: String,
    app_key: String,
    signed: bool,
    enabled: bool,
    created: String,
    actions: Vec<html::RowAction>,
}

/// A key to show once.
struct Issued {
    app_key: String,
    pem: String,
}

#[derive(Template)]
#[template(path = "app_keys.html")]
struct AppKeysPage<'a> {
    notice: Option<(bool, String)>,
    issued: Option<Issued>,
    csrf: &'a str,
    keys: Vec<KeyRow>,
    form: &'a AppKeyForm,
    form_error: Option<String>,
}

/// What the page says at the top.
struct Shown {
    status: StatusCode,
    notice: Option<(bool, String)>,
    issued: Option<Issued>,
    form_error: Option<String>,
}

async fn render(state: &AppState, session: &Session, shown: Shown, form: &AppKeyForm) -> Response {
    let keys = match state.core.app_keys(session.org.id).await {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    let keys = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.0,
            name: k.name.clone(),
            app_key: k.app_key.clone(),
            signed: k.require_signature,
            enabled: k.enabled,
            created: html::time(k.created_at),
            actions: html::toggle_rotate_delete("/console/app-keys", k.id.0, k.enabled),
        })
        .collect();
    let page = AppKeysPage {
        notice: shown.notice,
        issued: shown.issued,
        csrf: &session.csrf,
        keys,
        form,
        form_error: shown.form_error,
    };
    let body = crate::render::fragment(&page);
    session.page(shown.status, "Kunci aplikasi", Nav::AppKeys, &body)
}

/// `GET /console/app-keys`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    let shown = Shown {
        status: StatusCode::OK,
        notice: q.notice(&DONE),
        issued: None,
        form_error: None,
    };
    render(&state, &session, shown, &AppKeyForm::default()).await
}

const SHOWN_ONCE: &str =
    "Simpan kunci privat ini sekarang (mis. erp.pem): tidak akan ditampilkan lagi.";

/// `POST /console/app-keys`: makes a key and shows its private key once.
pub async fn create(
    State(state): State<AppState>,
    SessionForm { session, form: f }: SessionForm<AppKeyForm>,
) -> Response {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        let shown = Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            notice: None,
            issued: None,
            form_error: Some("Nama wajib diisi (paling banyak 100 karakter).".into()),
        };
        return render(&state, &session, shown, &f).await;
    }
    let made = state
        .core
        .create_app_key(
            session.org.id,
            name,
            f.require_signature.is_some(),
            &session.actor(),
        )
        .await;
    match made {
        Ok(k) => {
            let shown = Shown {
                status: StatusCode::CREATED,
                notice: Some((
                    true,
                    format!("Kunci aplikasi {} dibuat. {SHOWN_ONCE}", k.app.name),
                )),
                issued: Some(Issued {
                    app_key: k.app.app_key.clone(),
                    pem: k.private_key_pem.expose().to_string(),
                }),
                form_error: None,
            };
            render(&state, &session, shown, &AppKeyForm::default()).await
        }
        Err(e) => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                notice: None,
                issued: None,
                form_error: Some(user_message(&e)),
            };
            render(&state, &session, shown, &f).await
        }
    }
}

/// `POST /console/app-keys/{id}/{action}`: enable, disable, rotate (shows the new private key
/// once), delete.
pub async fn act(State(state): State<AppState>, form: ActionForm) -> Response {
    let ActionForm {
        session,
        id,
        action,
    } = form;
    let (org, actor, id) = (session.org.id, session.actor(), GatewayAppId(id));
    let core = &state.core;
    let result = match action.as_str() {
        "enable" | "disable" => core
            .set_app_key_enabled(org, id, action == "enable", &actor)
            .await
            .map(|()| None),
        "rotate" => core.rotate_app_key(org, id, &actor).await.map(Some),
        "delete" => core.delete_app_key(org, id, &actor).await.map(|()| None),
        _ => return not_found(&session),
    };
    match result {
        Ok(None) => see_other(&format!("/console/app-keys?done={action}")),
        Ok(Some(k)) => {
            let shown = Shown {
                status: StatusCode::OK,
                notice: Some((
                    true,
                    format!("Pasangan kunci baru untuk {}; kunci privat lama tidak berlaku lagi. {SHOWN_ONCE}", k.app.name),
                )),
                issued: Some(Issued {
                    app_key: k.app.app_key.clone(),
                    pem: k.private_key_pem.expose().to_string(),
                }),
                form_error: None,
            };
            render(&state, &session, shown, &AppKeyForm::default()).await
        }
        Err(e) if e.is_not_found() => not_found(&session),
        Err(e) => internal(e),
    }
}
