//! The page a user reaches from a password mail (a welcome link for a user made without a
//! password, a lost-password or reset link): `GET /password/{token}` shows a form to choose a
//! password; `POST` sets it. The link works once and expires; the token in the path is the
//! only credential (no cookie, so no CSRF surface).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use paraf_core::audit::{Actor, Face};
use paraf_http::state::AppState;

/// The public password routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/password/{token}", get(page).post(submit))
}

/// The form posted: the password, twice.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    password: String,
    password_confirmation: String,
}

/// What the page shows.
enum PasswordView {
    /// The form, with the last attempt's error.
    Form {
        username: String,
        error: Option<String>,
    },
    /// Set.
    Done { username: String, domain: String },
    /// Unknown, used or expired link.
    Gone,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    css: &'static str,
    view: PasswordView,
}

fn render(status: StatusCode, view: PasswordView) -> Response {
    let page = PasswordPage {
        css: include_str!("../static/activation.css"),
        view,
    };
    crate::render::html(status, &page)
}

/// The password link's token.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct PasswordParams {
    /// The token of the mailed link (single use; 7 days for a welcome, 1 hour for a reset).
    token: String,
}

/// The password page in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, submit))]
pub(crate) struct PasswordApi;

/// `GET /password/{token}`: the form.
#[utoipa::path(get, path = "/password/{token}", tag = "Password", params(PasswordParams),
    summary = "Password page: choose a password from a mailed link",
    description = "Public: the link's token is the credential.",
    responses((status = 200, description = "The form.", content_type = "text/html", body = String),
        (status = 404, description = "Unknown, used or expired link.", content_type = "text/html", body = String)))]
async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.core.password_token_user(&token).await {
        Ok(u) => render(
            StatusCode::OK,
            PasswordView::Form {
                username: u.login_name().to_string(),
                error: None,
            },
        ),
        Err(_) => render(StatusCode::NOT_FOUND, PasswordView::Gone),
    }
}

/// `POST /password/{token}`: set the password.
#[utoipa::path(post, path = "/password/{token}", tag = "Password", params(PasswordParams),
    summary = "Set the password chosen",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`password`, `password_confirmation`"),
    responses((status = 200, description = "Set.", content_type = "text/html", body = String),
        (status = 404, description = "The link is unknown, used or expired.", content_type = "text/html", body = String),
        (status = 422, description = "The form again, saying what is wrong.", content_type = "text/html", body = String)))]
async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let Ok(user) = state.core.password_token_user(&token).await else {
        return render(StatusCode::NOT_FOUND, PasswordView::Gone);
    };
    let again = |error: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            PasswordView::Form {
                username: user.login_name().to_string(),
                error: Some(error),
            },
        )
    };
    if f.password != f.password_confirmation {
        return again("The passwords differ.".into());
    }
    if let Err(e) = paraf_core::domain::Password::parse(&f.password) {
        return again(e.to_string());
    }
    let actor = Actor::new(format!("user:{}", user.id), Face::Page);
    match state
        .core
        .set_password_with_token(&token, &f.password, &actor)
        .await
    {
        Ok(u) => {
            let domain = match state.core.organisation(u.org).await {
                Ok(o) => o.slug.as_str().to_string(),
                Err(_) => String::new(),
            };
            render(
                StatusCode::OK,
                PasswordView::Done {
                    username: u.login_name().to_string(),
                    domain,
                },
            )
        }
        Err(e) if e.is_not_found() => render(StatusCode::NOT_FOUND, PasswordView::Gone),
        Err(e) => {
            if matches!(e, paraf_core::CoreError::Internal(_)) {
                tracing::error!(error = %e, "setting a password failed");
                return again("Internal error.".into());
            }
            again(e.to_string())
        }
    }
}
