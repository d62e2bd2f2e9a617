//! `/console/tokens`: the signed-in administrator's personal API tokens (GesDocs' "Mon compte,
//! Mes tokens API") — create one by name (its secret shown once), list them with their
//! prefix and last use, revoke. Through `paraf_core::accounts` like `POST /api/tokens`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use paraf_core::domain::ApiTokenId;
use serde::Deserialize;

use super::html::{self, Nav};
use super::{
    internal, not_found, see_other, user_message, ActionForm, Done, Session, SessionForm, WithCsrf,
};
use paraf_http::state::AppState;

const DONE: [(&str, &str); 1] = [("revoke", "Token dicabut.")];

impl WithCsrf for TokenForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The "new token" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    csrf: Option<String>,
}

struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    used: String,
    revoked: bool,
    revoke: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage<'a> {
    notice: Option<(bool, String)>,
    secret: Option<String>,
    csrf: &'a str,
    rows: Vec<TokenRow>,
    form_name: &'a str,
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    notice: Option<(bool, String)>,
    secret: Option<String>,
    name: &str,
) -> Response {
    let tokens = match state.personal_tokens(session.org.id, session.user.id).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let rows = tokens
        .iter()
        .map(|t| TokenRow {
            id: t.id.0,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created: html::time(t.created_at),
            used: html::time_opt(t.last_used_at),
            revoked: t.revoked_at.is_some(),
            revoke: format!("/console/tokens/{}/revoke", t.id),
        })
        .collect();
    let page = TokensPage {
        notice,
        secret,
        csrf: &session.csrf,
        rows,
        form_name: name,
    };
    let body = crate::render::fragment(&page);
    session.page(status, "Token API", Nav::Tokens, &body)
}

/// `GET /console/tokens`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    render(&state, &session, StatusCode::OK, q.notice(&DONE), None, "").await
}

/// `POST /console/tokens`: a new token, its secret shown once.
pub async fn create(
    State(state): State<AppState>,
    SessionForm { session, form: f }: SessionForm<TokenForm>,
) -> Response {
    match state
        .create_personal_token(session.org.id, session.user.id, &f.name, &session.actor())
        .await
    {
        Ok((t, secret)) => {
            let notice = Some((
                true,
                format!(
                    "Token \"{}\" dibuat. Simpan sekarang: tidak akan ditampilkan lagi.",
                    t.name
                ),
            ));
            let secret = Some(secret.expose().to_string());
            render(&state, &session, StatusCode::CREATED, notice, secret, "").await
        }
        Err(e) => {
            let notice = Some((false, user_message(&e)));
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                notice,
                None,
                &f.name,
            )
            .await
        }
    }
}

/// `POST /console/tokens/{id}/revoke`.
pub async fn revoke(State(state): State<AppState>, form: ActionForm) -> Response {
    let session = form.session;
    match state
        .revoke_personal_token(
            session.org.id,
            session.user.id,
            ApiTokenId(form.id),
            &session.actor(),
        )
        .await
    {
        Ok(()) => see_other("/console/tokens?done=revoke"),
        Err(e) if e.is_not_found() => not_found(&session),
        Err(e) => internal(e),
    }
}
