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

/// The page's words in one language.
struct Words {
    lang: &'static str,
    title: &'static str,
    /// Before the username.
    choose: &'static str,
    password: &'static str,
    confirm: &'static str,
    save: &'static str,
    differ: &'static str,
    /// Before `username@domain`.
    done: &'static str,
    gone: &'static str,
}

const WORDS: &[Words] = &[
    Words {
        lang: "en",
        title: "Password",
        choose: "Choose the password of",
        password: "Password (at least 8 characters)",
        confirm: "Confirmation",
        save: "Save",
        differ: "The passwords differ.",
        done: "Saved. Log in with your new password as",
        gone: "This link is unknown, already used or expired.",
    },
    Words {
        lang: "it",
        title: "Password",
        choose: "Scegli la password di",
        password: "Password (almeno 8 caratteri)",
        confirm: "Conferma",
        save: "Salva",
        differ: "Le password sono diverse.",
        done: "Salvata. Accedi con la nuova password come",
        gone: "Questo link è sconosciuto, già usato o scaduto.",
    },
    Words {
        lang: "fr",
        title: "Mot de passe",
        choose: "Choisissez le mot de passe de",
        password: "Mot de passe (8 caractères au moins)",
        confirm: "Confirmation",
        save: "Enregistrer",
        differ: "Les mots de passe diffèrent.",
        done: "Enregistré. Connectez-vous avec votre nouveau mot de passe en tant que",
        gone: "Ce lien est inconnu, déjà utilisé ou expiré.",
    },
    Words {
        lang: "es",
        title: "Contraseña",
        choose: "Elija la contraseña de",
        password: "Contraseña (al menos 8 caracteres)",
        confirm: "Confirmación",
        save: "Guardar",
        differ: "Las contraseñas no coinciden.",
        done: "Guardada. Inicie sesión con su nueva contraseña como",
        gone: "Este enlace es desconocido, ya se usó o caducó.",
    },
    Words {
        lang: "id",
        title: "Kata sandi",
        choose: "Pilih kata sandi untuk",
        password: "Kata sandi (minimal 8 karakter)",
        confirm: "Konfirmasi",
        save: "Simpan",
        differ: "Kata sandi tidak sama.",
        done: "Tersimpan. Masuk dengan kata sandi baru sebagai",
        gone: "Tautan ini tidak dikenal, sudah dipakai, atau kedaluwarsa.",
    },
];

/// The words of the user's language (English when not spoken).
fn words(lang: Option<&str>) -> &'static Words {
    WORDS
        .iter()
        .find(|w| Some(w.lang) == lang)
        .unwrap_or(&WORDS[0])
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
    w: &'static Words,
    view: PasswordView,
}

fn render(status: StatusCode, w: &'static Words, view: PasswordView) -> Response {
    let page = PasswordPage {
        css: include_str!("../static/activation.css"),
        w,
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
            words(u.profile.language.as_deref()),
            PasswordView::Form {
                username: u.login_name().to_string(),
                error: None,
            },
        ),
        Err(_) => render(StatusCode::NOT_FOUND, words(None), PasswordView::Gone),
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
        return render(StatusCode::NOT_FOUND, words(None), PasswordView::Gone);
    };
    let w = words(user.profile.language.as_deref());
    let again = |error: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            w,
            PasswordView::Form {
                username: user.login_name().to_string(),
                error: Some(error),
            },
        )
    };
    if f.password != f.password_confirmation {
        return again(w.differ.into());
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
                w,
                PasswordView::Done {
                    username: u.login_name().to_string(),
                    domain,
                },
            )
        }
        Err(e) if e.is_not_found() => render(StatusCode::NOT_FOUND, w, PasswordView::Gone),
        Err(e) => {
            if matches!(e, paraf_core::CoreError::Internal(_)) {
                tracing::error!(error = %e, "setting a password failed");
                return again("Internal error.".into());
            }
            again(e.to_string())
        }
    }
}
