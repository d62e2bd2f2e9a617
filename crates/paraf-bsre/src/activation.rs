//! The activation page a signer reaches from the activation mail: `GET /aktivasi/{secret}`
//! shows a form to choose the passphrase; `POST /aktivasi/{secret}` generates the key, has the
//! CA issue the certificate and seals the key under the passphrase. The link is single-use and
//! expires; the secret in the path is the only credential (no cookie, so no CSRF surface).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use paraf_core::CoreError;
use paraf_domain::DomainError;
use paraf_http::state::AppState;

/// The public activation routes (no API credential: the link's secret authenticates).
pub fn routes() -> Router<AppState> {
    Router::new().route("/aktivasi/{secret}", get(page).post(submit))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:3rem auto;padding:0 1rem;color:#222}}label{{display:block;margin:.8rem 0 .2rem}}\
         input[type=password]{{width:100%;padding:.5rem}}button{{margin-top:1rem;padding:.6rem 1.2rem}}\
         .err{{color:#b00020}}.ok{{color:#0a6b2d}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    ))
}

fn gone() -> Response {
    (
        StatusCode::NOT_FOUND,
        layout(
            "Tautan tidak berlaku",
            "<p class=\"err\">Tautan aktivasi ini tidak dikenal, sudah dipakai, atau sudah \
             kedaluwarsa. Hubungi administrator untuk tautan baru.</p>\
             <p>This activation link is unknown, used or expired.</p>",
        ),
    )
        .into_response()
}

fn form_html(name: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| format!("<p class=\"err\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "<p>Halo <strong>{name}</strong>. Pilih passphrase untuk sertifikat elektronik Anda. \
         Kunci privat Anda dibuat sekarang dan disimpan terenkripsi dengan passphrase ini: \
         tanpa passphrase, tidak ada yang dapat menandatangani atas nama Anda — termasuk server \
         ini. Passphrase tidak dapat dipulihkan.</p>{err}\
         <form method=\"post\"><label for=\"passphrase\">Passphrase (minimal 8 karakter)</label>\
         <input type=\"password\" id=\"passphrase\" name=\"passphrase\" minlength=\"8\" required \
         autocomplete=\"new-password\"><label for=\"confirm\">Ulangi passphrase</label>\
         <input type=\"password\" id=\"confirm\" name=\"confirm\" minlength=\"8\" required \
         autocomplete=\"new-password\"><label><input type=\"checkbox\" name=\"allow_otp\" \
         value=\"1\"> Izinkan tanda tangan dengan kode TOTP yang dikirim ke email saya (server \
         lalu menyimpan salinan kunci yang dienkripsi dengan kunci server)</label>\
         <button type=\"submit\">Aktifkan</button></form>",
        name = esc(name)
    )
}

async fn page(State(state): State<AppState>, Path(secret): Path<String>) -> Response {
    match state.identities().pending_activation(&secret).await {
        Ok(identity) => layout(
            "Aktivasi sertifikat elektronik",
            &form_html(identity.name.as_str(), None),
        )
        .into_response(),
        Err(_) => gone(),
    }
}

/// The form.
#[derive(Deserialize)]
struct ActivationForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    allow_otp: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<ActivationForm>,
) -> Response {
    let svc = state.identities();
    let Ok(identity) = svc.pending_activation(&secret).await else {
        return gone();
    };
    let again = |msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            layout(
                "Aktivasi sertifikat elektronik",
                &form_html(identity.name.as_str(), Some(msg)),
            ),
        )
            .into_response()
    };
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
        Ok(done) => (
            [(header::CACHE_CONTROL, "no-store")],
            layout(
                "Sertifikat aktif",
                &format!(
                    "<p class=\"ok\">Sertifikat elektronik Anda aktif (status ISSUE). Nomor seri: \
                     <code>{}</code>.</p><p>Your certificate is active.</p>",
                    esc(done.cert_serial.as_deref().unwrap_or(""))
                ),
            ),
        )
            .into_response(),
        Err(CoreError::Domain(DomainError::Invalid { reason, .. })) => again(&reason),
        Err(e) => {
            tracing::error!(error = %e, "activation failed");
            gone()
        }
    }
}
