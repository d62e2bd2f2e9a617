//! `/console/members`: the organisation's users and invitations; an administrator invites a
//! colleague by e-mail with a role (GesDocs: "colleagues join the account by invitation").

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use paraf_core::domain::Role;
use serde::Deserialize;

use super::html::{self, Nav};
use super::{internal, user_message, Session, SessionForm, WithCsrf};
use paraf_http::state::AppState;

impl WithCsrf for InviteForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The invitation form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    role: String,
    csrf: Option<String>,
}

struct MemberRow {
    email: String,
    name: String,
    role: &'static str,
}

struct InvitationRow {
    email: String,
    role: &'static str,
    state: &'static str,
    until: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage<'a> {
    notice: Option<(bool, String)>,
    csrf: &'a str,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    form_email: &'a str,
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    notice: Option<(bool, String)>,
    email: &str,
) -> Response {
    let (users, invitations) = match state.members(session.org.id).await {
        Ok(m) => m,
        Err(e) => return internal(e),
    };
    let now = state.now();
    let page = MembersPage {
        notice,
        csrf: &session.csrf,
        members: users
            .iter()
            .map(|u| MemberRow {
                email: u.email.as_str().to_string(),
                name: u.name.as_str().to_string(),
                role: u.role.as_str(),
            })
            .collect(),
        invitations: invitations
            .iter()
            .map(|i| InvitationRow {
                email: i.email.as_str().to_string(),
                role: i.role.as_str(),
                state: if i.accepted_at.is_some() {
                    "diterima"
                } else if i.expires_at <= now {
                    "kedaluwarsa"
                } else {
                    "menunggu"
                },
                until: html::time(i.expires_at),
            })
            .collect(),
        form_email: email,
    };
    let body = crate::render::fragment(&page);
    session.page(status, "Anggota", Nav::Members, &body)
}

/// `GET /console/members`.
pub async fn list(State(state): State<AppState>, session: Session) -> Response {
    render(&state, &session, StatusCode::OK, None, "").await
}

/// `POST /console/members`: invites a colleague.
pub async fn invite(
    State(state): State<AppState>,
    SessionForm { session, form: f }: SessionForm<InviteForm>,
) -> Response {
    let role = Role::parse(f.role.trim()).unwrap_or(Role::Signer);
    let (status, notice, kept) = match state
        .invite_member(session.org.id, f.email.trim(), role, &session.actor())
        .await
    {
        Ok(_) => (
            StatusCode::CREATED,
            (true, format!("Undangan dikirim ke {}.", f.email.trim())),
            "",
        ),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            (false, user_message(&e)),
            f.email.as_str(),
        ),
    };
    render(&state, &session, status, Some(notice), kept).await
}
