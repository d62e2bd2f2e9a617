//! `GET/POST /console/login` and `POST /console/logout`.
//!
//! The login form is protected by a double-submit token: `GET` sets a random value in the
//! cookie `paraf_console_login` (HttpOnly, SameSite=Strict, path `/console/login`) and in the
//! form; `POST` accepts only when both are present and equal. Failed password checks count
//! towards the shared per-IP login throttling (`ratelimit::login_guard`).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use paraf_core::domain::{Email, Organisation};
use serde::Deserialize;

use super::html::{self, Nav};
use paraf_core::secret::constant_time_eq as ct_eq;

use super::{internal, see_other, Client, CsrfOnly, Session};
use paraf_core::login::{login_org, LoginOrgError};
use paraf_core::sessions::SignIn;
use paraf_http::auth::SESSION_COOKIE;
use paraf_http::ratelimit;
use paraf_http::routes::LOGIN_FAILURES_PER_MINUTE;
use paraf_http::state::AppState;

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "paraf_console_login";

fn secure(state: &AppState) -> &'static str {
    if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_session_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("paraf_session=; Path=/; Max-Age=0"))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    token: &'a str,
    email: &'a str,
    message: Option<&'a str>,
    no_error: Option<&'a str>,
}

fn login_page(status: StatusCode, token: &str, email: &str, message: Option<&str>) -> Response {
    let body = crate::render::fragment(&LoginPage {
        token,
        email,
        message,
        no_error: None,
    });
    html::page(status, "Login", Nav::None, None, &body)
}

fn with_login_cookie(state: &AppState, mut resp: Response, token: &str) -> Response {
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/console/login; Max-Age=3600; HttpOnly; SameSite=Strict{}",
        secure(state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /console/login`.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = match paraf_http::auth::cookie(&headers, LOGIN_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t,
        _ => {
            let mut b = [0u8; 32];
            if let Err(e) = state.entropy.fill(&mut b) {
                return internal(e);
            }
            hex::encode(b)
        }
    };
    let resp = login_page(StatusCode::OK, &token, "", None);
    with_login_cookie(&state, resp, &token)
}

/// The login form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: Option<String>,
}

/// Finds the organisation of a login (`paraf_core::login`); `Ok(None)` when there is none to
/// be found (refused like a wrong password), `Err` an error page.
async fn organisation(
    state: &AppState,
    login: &str,
) -> Result<Option<(Organisation, Email)>, Response> {
    match login_org(state, login, None).await {
        Ok(v) => Ok(Some(v)),
        Err(LoginOrgError::Unknown | LoginOrgError::Ambiguous) => Ok(None),
        Err(LoginOrgError::Core(e)) => Err(internal(e)),
    }
}

/// `POST /console/login`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Form(f): Form<LoginForm>,
) -> Response {
    let cookie = paraf_http::auth::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let presented = f.csrf.unwrap_or_default();
    if cookie.is_empty() || !ct_eq(cookie.as_bytes(), presented.trim().as_bytes()) {
        return super::forbidden(
            "Token formulir (CSRF) tidak ada atau tidak sah. Buka kembali halaman login.",
        );
    }
    let ip = client.ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    match ratelimit::login_guard(&state, ip, LOGIN_FAILURES_PER_MINUTE).await {
        Ok(()) => {}
        Err(e) if e.status() != StatusCode::TOO_MANY_REQUESTS => return internal(e.status()),
        Err(_) => {
            return login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &cookie,
                &f.email,
                Some("Terlalu banyak percobaan login gagal. Coba lagi dalam satu menit."),
            )
        }
    }
    let several = f.email.contains('/');
    let wrong = "Email atau password salah.";
    let Some((org, email)) = (match organisation(&state, &f.email).await {
        Ok(v) => v,
        Err(r) => return r,
    }) else {
        ratelimit::login_failed(&state, ip).await;
        let msg = if several {
            wrong.to_string()
        } else {
            format!("{wrong} Jika ada beberapa organisasi, tulis slug/email.")
        };
        return login_page(StatusCode::UNAUTHORIZED, &cookie, &f.email, Some(&msg));
    };
    let now = state.clock.now();
    let signed_in = state
        .console_sign_in(&org, &email, &f.password, &client.actor(String::new()))
        .await;
    let session = match signed_in {
        Ok(SignIn::Started { session, .. }) => session,
        Ok(SignIn::Refused) => {
            ratelimit::login_failed(&state, ip).await;
            return login_page(StatusCode::UNAUTHORIZED, &cookie, &f.email, Some(wrong));
        }
        Ok(SignIn::NotAdmin) => {
            return login_page(
                StatusCode::FORBIDDEN,
                &cookie,
                &f.email,
                Some("Console hanya untuk administrator organisasi."),
            )
        }
        Err(e) => return internal(e),
    };
    let max_age = (session.expires_at - now).num_seconds().max(0);
    let mut resp = see_other("/console");
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        session.secret.expose(),
        secure(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    let clear = format!(
        "{LOGIN_COOKIE}=; Path=/console/login; Max-Age=0; HttpOnly; SameSite=Strict{}",
        secure(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /console/logout`: ends the session (its token family is revoked).
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = session.csrf_refusal(f.csrf.as_deref()) {
        return r;
    }
    if let Err(e) = state
        .console_sign_out(&session.org, session.secret(), &session.actor())
        .await
    {
        return internal(e);
    }
    let mut resp = see_other("/console/login");
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie(&state));
    resp
}
