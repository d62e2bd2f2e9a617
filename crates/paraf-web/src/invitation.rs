//! The page a colleague reaches from an invitation mail: `GET /invitation/{token}` shows a
//! form to choose a name and a password; `POST` makes them a user of the organisation. The
//! link is single-use and expires; the token in the path is the only credential (no cookie,
//! so no CSRF surface). French and English, as GesDocs accounts are.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use paraf_core::audit::{Actor, Face};
use paraf_http::state::AppState;

/// The public invitation routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/invitation/{invitation}", get(page).post(submit))
}

/// What the page shows.
enum InvitationView<'a> {
    /// The form, with the last attempt's error.
    Form {
        org: &'a str,
        email: &'a str,
        error: Option<String>,
    },
    /// Joined.
    Done { org: &'a str, email: &'a str },
    /// Unknown, used or expired link.
    Gone,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage<'a> {
    css: &'static str,
    view: InvitationView<'a>,
}

fn render(status: StatusCode, view: InvitationView<'_>) -> Response {
    let page = InvitationPage {
        css: include_str!("../static/activation.css"),
        view,
    };
    crate::render::html(status, &page)
}

/// The invitation link's token.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct InvitationParams {
    /// The token of the link mailed to the colleague (single use, 7 days).
    invitation: String,
}

/// The invitation page in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, submit))]
pub(crate) struct InvitationApi;

/// `GET /invitation/{token}`: the form.
#[utoipa::path(get, path = "/invitation/{invitation}", tag = "Invitation", params(InvitationParams),
    summary = "Invitation page: the form to join an organisation (name, password)",
    description = "Public: the link's token is the credential.",
    responses((status = 200, description = "The form.", content_type = "text/html", body = String),
        (status = 404, description = "Unknown, used or expired link.", content_type = "text/html", body = String)))]
async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.core.invitation(&token).await {
        Ok((org, email)) => render(
            StatusCode::OK,
            InvitationView::Form {
                org: org.name.as_str(),
                email: email.as_str(),
                error: None,
            },
        ),
        Err(_) => render(StatusCode::NOT_FOUND, InvitationView::Gone),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JoinForm {
    name: String,
    password: String,
    password_confirmation: String,
}

/// `POST /invitation/{token}`: join.
#[utoipa::path(post, path = "/invitation/{invitation}", tag = "Invitation", params(InvitationParams),
    summary = "Join: become a user of the organisation with this name and password",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`name`, `password`, `password_confirmation`"),
    responses((status = 200, description = "Joined.", content_type = "text/html", body = String),
        (status = 404, description = "Unknown, used or expired link.", content_type = "text/html", body = String),
        (status = 422, description = "The form again with the problem.", content_type = "text/html", body = String)))]
async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(f): Form<JoinForm>,
) -> Response {
    let Ok((org, email)) = state.core.invitation(&token).await else {
        return render(StatusCode::NOT_FOUND, InvitationView::Gone);
    };
    let again = |error: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            InvitationView::Form {
                org: org.name.as_str(),
                email: email.as_str(),
                error: Some(error),
            },
        )
    };
    if f.password != f.password_confirmation {
        return again("Les mots de passe diffèrent. / The passwords differ.".into());
    }
    let actor = Actor::new(format!("invitee:{}", email.as_str()), Face::Page);
    match state
        .core
        .accept_invitation(&token, &f.name, &f.password, &actor)
        .await
    {
        Ok(_) => render(
            StatusCode::OK,
            InvitationView::Done {
                org: org.name.as_str(),
                email: email.as_str(),
            },
        ),
        Err(e) if e.is_not_found() => render(StatusCode::NOT_FOUND, InvitationView::Gone),
        Err(e) => {
            if matches!(e, paraf_core::CoreError::Internal(_)) {
                tracing::error!(error = %e, "accepting an invitation failed");
                return again("Erreur interne. / Internal error.".into());
            }
            again(e.to_string())
        }
    }
}
