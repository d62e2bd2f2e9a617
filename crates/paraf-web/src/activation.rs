//! The activation page a signer reaches from the activation mail: `GET /aktivasi/{secret}`
//! shows a form to choose the passphrase; `POST /aktivasi/{secret}` generates the key, has the
//! CA issue the certificate and seals the key under the passphrase. The link is single-use and
//! expires; the secret in the path is the only credential (no cookie, so no CSRF surface).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use paraf_core::domain::DomainError;
use paraf_core::CoreError;
use paraf_http::state::AppState;

/// The public activation routes (no API credential: the link's secret authenticates).
pub fn routes() -> Router<AppState> {
    Router::new().route("/aktivasi/{secret}", get(page).post(submit))
}

/// What the activation page shows.
enum ActivationView<'a> {
    /// The passphrase form, with the last attempt's error.
    Form {
        name: &'a str,
        error: Option<&'a str>,
    },
    /// Activated.
    Done { serial: &'a str },
    /// Unknown, used or expired link.
    Gone,
}

#[derive(Template)]
#[template(path = "activation.html")]
struct ActivationPage<'a> {
    title: &'a str,
    css: &'static str,
    view: ActivationView<'a>,
}

fn render(status: StatusCode, title: &str, view: ActivationView<'_>) -> Response {
    let page = ActivationPage {
        title,
        css: ACTIVATION_CSS,
        view,
    };
    crate::render::html(status, &page)
}

const ACTIVATION_CSS: &str = include_str!("../static/activation.css");

fn gone() -> Response {
    render(
        StatusCode::NOT_FOUND,
        "Tautan tidak berlaku",
        ActivationView::Gone,
    )
}

fn form(status: StatusCode, name: &str, error: Option<&str>) -> Response {
    render(
        status,
        "Aktivasi sertifikat elektronik",
        ActivationView::Form { name, error },
    )
}

/// The activation link's secret.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct Secret {
    /// The secret of the activation link mailed to the signer (single use, 7 days).
    secret: String,
}

/// `GET /aktivasi/{secret}`: the form.
#[utoipa::path(get, path = "/aktivasi/{secret}", tag = "Activation", params(Secret),
    summary = "Activation page: the form to choose a passphrase",
    description = "Public: the link's secret is the credential.",
    responses((status = 200, description = "The form.", content_type = "text/html", body = String),
        (status = 404, description = "Unknown, used or expired link.", content_type = "text/html", body = String)))]
pub(crate) async fn page(State(state): State<AppState>, Path(secret): Path<String>) -> Response {
    match state.identities().pending_activation(&secret).await {
        Ok(identity) => form(StatusCode::OK, identity.name.as_str(), None),
        Err(_) => gone(),
    }
}

/// The form.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ActivationForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    allow_otp: Option<String>,
}

/// `POST /aktivasi/{secret}`: activate.
#[utoipa::path(post, path = "/aktivasi/{secret}", tag = "Activation", params(Secret),
    summary = "Activate: generate the key, issue the certificate, seal the key under the passphrase",
    description = "Public: the link's secret is the credential. The identity becomes ISSUE. `allow_otp` (any value) also allows signing with e-mailed codes (a second copy of the key sealed under the server master key).",
    request_body(content = ActivationForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Activated: the certificate serial.", content_type = "text/html", body = String),
        (status = 400, description = "The form again, with the problem (passphrases differ, too short).", content_type = "text/html", body = String),
        (status = 404, description = "Unknown, used or expired link.", content_type = "text/html", body = String)))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<ActivationForm>,
) -> Response {
    let svc = state.identities();
    let Ok(identity) = svc.pending_activation(&secret).await else {
        return gone();
    };
    let again = |msg: &str| form(StatusCode::BAD_REQUEST, identity.name.as_str(), Some(msg));
    if f.passphrase != f.confirm {
        return again("Kedua passphrase tidak sama.");
    }
    if f.passphrase.chars().count() < 8 {
        return again("Passphrase minimal 8 karakter.");
    }
    match svc
        .activate(&secret, &f.passphrase, f.allow_otp.is_some())
        .await
    {
        Ok(done) => {
            let mut resp = render(
                StatusCode::OK,
                "Sertifikat aktif",
                ActivationView::Done {
                    serial: done.cert_serial.as_deref().unwrap_or(""),
                },
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(CoreError::Domain(DomainError::Invalid { reason, .. })) => again(&reason),
        Err(e) => {
            tracing::error!(error = %e, "activation failed");
            gone()
        }
    }
}

/// The activation page's OpenAPI paths (public: `security: []`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, submit))]
struct ActivationApi;

/// Adds the activation page and the signer page (public pages reached from a mailed link) to
/// the OpenAPI document.
pub fn add_to(doc: &mut paraf_http::openapi::OpenApi) {
    use utoipa::OpenApi as _;
    merge_public(
        doc,
        serde_json::to_value(ActivationApi::openapi()).unwrap_or_default(),
    );
    merge_public(
        doc,
        serde_json::to_value(crate::signer::SignerApi::openapi()).unwrap_or_default(),
    );
    merge_public(
        doc,
        serde_json::to_value(crate::invitation::InvitationApi::openapi()).unwrap_or_default(),
    );
    merge_public(
        doc,
        serde_json::to_value(crate::verify::VerifyApi::openapi()).unwrap_or_default(),
    );
    merge_public(
        doc,
        serde_json::to_value(crate::password::PasswordApi::openapi()).unwrap_or_default(),
    );
}

/// Merges a derived document's paths (with no security: the link is the credential) and
/// schemas.
fn merge_public(doc: &mut paraf_http::openapi::OpenApi, mut v: serde_json::Value) {
    if let Some(paths) = v["paths"].as_object_mut() {
        for op in paths.values_mut().filter_map(|p| p.as_object_mut()) {
            for o in op.values_mut().filter_map(|o| o.as_object_mut()) {
                o.insert("security".into(), serde_json::json!([]));
            }
        }
    }
    if let serde_json::Value::Object(p) = v["paths"].take() {
        doc.merge_paths(p);
    }
    if let serde_json::Value::Object(s) = v["components"]["schemas"].take() {
        doc.merge_schemas(s);
    }
}
