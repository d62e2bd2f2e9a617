//! BSrE API v2 (seed 001 §6): JSON bodies with base64 files. Bulk signing
//! (`/api/v2/sign/pdf`), e-mailed one-time codes (`/api/v2/sign/get/totp`), organisation seals
//! (`/api/v2/seal/*`), user status and registration. `/api/v2/verify/pdf` is in
//! [`crate::verify`].
//!
//! Bodies are read as JSON values and checked field by field, so every mistake names its
//! field the way the seed spells it (`signatureProperties[1].originX`, `file[2]`).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine;
use paraf_domain::{IdentityStatus, OtpPurpose, Principal, Seal, Timestamp};
use serde_json::{json, Value};

use crate::error::{BsreError, Code, Lang};
use crate::v1::is_jpeg_or_png;
use paraf_core::audit::AuditAction;
use paraf_core::error::KeyRefusal;
use paraf_core::signing::{self as sign, FileJob, Look, PageSel, Place, Proof};
use paraf_core::CoreError;
use paraf_http::request_id::ClientIp;
use paraf_http::state::AppState;

/// Most files in one bulk request.
pub const MAX_FILES: usize = 1000;

/// The v2 routes (verify excepted).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/sign/pdf", post(sign_pdf))
        .route("/api/v2/sign/get/totp", post(sign_totp))
        .route("/api/v2/seal/get/activation", post(seal_activation))
        .route("/api/v2/seal/revoke/activation", post(seal_revoke))
        .route("/api/v2/seal/get/totp", post(seal_totp))
        .route("/api/v2/seal/pdf", post(seal_pdf))
        .route("/api/v2/user/check/status", post(check_status))
        .route("/api/v2/user/registration", post(registration))
}

// ---------------------------------------------------------------- field access

fn text<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, BsreError> {
    match body.get(name) {
        None | Some(Value::Null) => Err(BsreError::missing(name)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(BsreError::missing(name)),
        Some(Value::String(s)) => Ok(s.trim()),
        Some(_) => Err(BsreError::invalid(name, "must be a string")),
    }
}

/// A number given as a JSON number or a numeric string.
fn number(v: Option<&Value>, name: &str) -> Result<Option<f64>, BsreError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| BsreError::invalid(name, "not a finite number")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| BsreError::invalid(name, format!("{s:?} is not a number"))),
        Some(_) => Err(BsreError::invalid(name, "must be a number")),
    }
}

/// The `data` count of files (1…[`MAX_FILES`]).
fn file_count(body: &Value) -> Result<u64, BsreError> {
    let n = number(body.get("data"), "data")?.ok_or_else(|| BsreError::missing("data"))?;
    if n.fract() != 0.0 || n < 1.0 || n > MAX_FILES as f64 {
        return Err(BsreError::invalid(
            "data",
            format!("must be a whole number of files from 1 to {MAX_FILES}"),
        ));
    }
    Ok(n as u64)
}

/// Decodes base64 (standard or URL-safe alphabet, padding optional, whitespace and a
/// `data:…;base64,` prefix tolerated).
pub fn decode_base64(s: &str, field: &str) -> Result<Vec<u8>, BsreError> {
    let s = match s.find(";base64,") {
        Some(i) if s.starts_with("data:") => &s[i + 8..],
        _ => s,
    };
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let clean = clean.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(clean)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(clean))
        .map_err(|_| BsreError::new(Code::InvalidBase64).arg("field", field))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `2023-08-07T04:24:40.927+0000`, as the seed writes expiry times.
pub fn seed_time(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// The files and their properties: one property for all, or one per file.
fn jobs_of(body: &Value) -> Result<Vec<FileJob>, BsreError> {
    let files = match body.get("file") {
        None | Some(Value::Null) => return Err(BsreError::missing("file")),
        Some(Value::Array(a)) if a.is_empty() => return Err(BsreError::missing("file")),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => vec![Value::String(s.clone())],
        Some(_) => {
            return Err(BsreError::invalid(
                "file",
                "must be an array of base64 strings",
            ))
        }
    };
    if files.len() > MAX_FILES {
        return Err(BsreError::invalid(
            "file",
            format!("at most {MAX_FILES} files per request"),
        ));
    }
    let props = match body.get("signatureProperties") {
        None | Some(Value::Null) => return Err(BsreError::missing("signatureProperties")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(BsreError::missing("signatureProperties"))
        }
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(_)) => vec![body["signatureProperties"].clone()],
        Some(_) => {
            return Err(BsreError::invalid(
                "signatureProperties",
                "must be an array of objects",
            ))
        }
    };
    if props.len() != 1 && props.len() != files.len() {
        return Err(BsreError::new(Code::PropertiesCountMismatch)
            .arg("count", props.len())
            .arg("files", files.len()));
    }
    let mut jobs = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let field = format!("file[{i}]");
        let Some(s) = f.as_str().filter(|s| !s.trim().is_empty()) else {
            return Err(BsreError::missing(&field));
        };
        let pdf = decode_base64(s, &field)?;
        let pi = if props.len() == 1 { 0 } else { i };
        let prop = &props[pi];
        let pname = format!("signatureProperties[{pi}]");
        if !prop.is_object() {
            return Err(BsreError::invalid(&pname, "must be an object"));
        }
        jobs.push(FileJob {
            pdf,
            field,
            pdf_password: prop
                .get("pdfPassword")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            look: look_of(prop, &pname)?,
            reason: text(prop, "reason").map(str::to_string),
            location: text(prop, "location").map(str::to_string),
        });
    }
    Ok(jobs)
}

fn look_of(prop: &Value, pname: &str) -> Result<Look, BsreError> {
    let f = |n: &str| format!("{pname}.{n}");
    let tampilan = match prop.get("tampilan") {
        None | Some(Value::Null) => return Err(BsreError::missing(&f("tampilan"))),
        Some(v) => v.as_str().unwrap_or("").trim().to_ascii_uppercase(),
    };
    match tampilan.as_str() {
        "INVISIBLE" => return Ok(Look::Invisible),
        "VISIBLE" => {}
        "" => return Err(BsreError::missing(&f("tampilan"))),
        other => {
            return Err(BsreError::invalid(
                &f("tampilan"),
                format!("{other:?}: expected VISIBLE or INVISIBLE"),
            ))
        }
    }
    let image = match text(prop, "imageBase64") {
        Some(s) => {
            let bytes = decode_base64(s, &f("imageBase64"))?;
            if !is_jpeg_or_png(&bytes) {
                return Err(BsreError::new(Code::InvalidImage)
                    .arg("field", f("imageBase64"))
                    .arg("detail", "not a JPG, JPEG or PNG image"));
            }
            Some(bytes)
        }
        None => None,
    };
    let width =
        number(prop.get("width"), &f("width"))?.ok_or_else(|| BsreError::missing(&f("width")))?;
    let height = number(prop.get("height"), &f("height"))?
        .ok_or_else(|| BsreError::missing(&f("height")))?;
    for (n, v) in [("width", width), ("height", height)] {
        if v <= 0.0 {
            return Err(BsreError::invalid(&f(n), "must be greater than 0"));
        }
    }
    let place = if let Some(tag) = text(prop, "tag_koordinat") {
        Place::Tag {
            tag: tag.to_string(),
            width,
            height,
        }
    } else {
        let page =
            number(prop.get("page"), &f("page"))?.ok_or_else(|| BsreError::missing(&f("page")))?;
        if page.fract() != 0.0 || page < 0.0 {
            return Err(BsreError::invalid(&f("page"), "must be a page number"));
        }
        Place::Rect {
            page: PageSel::Number(page as usize),
            x: number(prop.get("originX"), &f("originX"))?
                .ok_or_else(|| BsreError::missing(&f("originX")))?,
            y: number(prop.get("originY"), &f("originY"))?
                .ok_or_else(|| BsreError::missing(&f("originY")))?,
            width,
            height,
        }
    };
    Ok(Look::Visible {
        place,
        image,
        qr: None,
        text: None,
    })
}

/// The seed's acknowledgement shape: `{"success": true, "message": …, "data": …}`.
fn success(message: Value, data: Value) -> Response {
    Json(json!({"success": true, "message": message, "data": data})).into_response()
}

fn signed_reply(started: Instant, files: Vec<Vec<u8>>) -> Response {
    Json(json!({
        "time": started.elapsed().as_millis() as u64,
        "file": files.iter().map(|f| b64(f)).collect::<Vec<_>>(),
    }))
    .into_response()
}

// ---------------------------------------------------------------- signing

/// `POST /api/v2/sign/pdf`.
async fn sign_pdf(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let started = Instant::now();
    if !body.is_object() {
        return Err(BsreError::invalid("body", "must be a JSON object"));
    }
    let jobs = jobs_of(&body)?;
    let passphrase = body
        .get("passphrase")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let totp = text(&body, "totp").or_else(|| text(&body, "otp"));
    let proof = match (passphrase, totp) {
        (Some(pass), _) => Proof::Passphrase(pass),
        (None, Some(code)) => Proof::Totp {
            code,
            files: jobs.len() as u64,
        },
        (None, None) => return Err(BsreError::new(Code::MissingCredential)),
    };
    let identity =
        crate::find_identity(&state, &p, text(&body, "nik"), text(&body, "email")).await?;
    let (signer, otp) = sign::unlock_identity(&state, &identity, proof).await?;
    let n = jobs.len() as u64;
    let signed = sign::sign_all(&state, Arc::new(signer), jobs).await?;
    if let Some(otp) = otp {
        otp.spend(&state).await?;
    }
    crate::audit_signature(
        &state,
        &p,
        AuditAction::DocumentSigned,
        format!("identity:{}", identity.id),
        json!({"files": n, "api": "v2"}),
    )
    .await;
    Ok(crate::with_signatures(signed_reply(started, signed), n))
}

/// `POST /api/v2/sign/get/totp`: mails a code for `data` files, valid a few minutes, once.
async fn sign_totp(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let identity =
        crate::find_identity(&state, &p, text(&body, "nik"), text(&body, "email")).await?;
    let files = file_count(&body)?;
    let expires = state.send_signing_code(&identity, files).await?;
    let subject = format!("identity:{}", identity.id);
    crate::audit(
        &state,
        &p,
        AuditAction::IdentityCodeSent,
        subject,
        json!({"data": files}),
    );
    let message = match Lang::of(&headers) {
        Lang::Id => "TOTP berhasil dikirim ke email pengguna",
        Lang::En => "The TOTP was sent to the user's e-mail",
    };
    Ok(success(
        json!(message),
        json!({"expires": seed_time(expires), "data": files}),
    ))
}

// ---------------------------------------------------------------- seals

async fn seal_of(state: &AppState, p: &Principal, body: &Value) -> Result<Seal, BsreError> {
    let id = required(body, "idSubscriber")?;
    state.seal_by_subscriber(p.org, id).await.map_err(|e| {
        if e.is_not_found() {
            BsreError::new(Code::SealNotFound)
        } else {
            e.into()
        }
    })
}

/// Checks the activation TOTP of `seal`; a wrong one counts as a failed login from the IP.
async fn check_activation(
    state: &AppState,
    seal: &Seal,
    code: &str,
    ip: std::net::IpAddr,
) -> Result<(), BsreError> {
    paraf_http::ratelimit::login_guard(state, ip, paraf_http::routes::LOGIN_FAILURES_PER_MINUTE)
        .await
        .map_err(|_| {
            BsreError::new(Code::InvalidTotp).cause("too many wrong codes from this IP")
        })?;
    match state.check_seal_activation(seal, code).await {
        Err(CoreError::Key(KeyRefusal::InvalidCode)) => {
            paraf_http::ratelimit::login_failed(state, ip).await;
            Err(BsreError::new(Code::InvalidTotp))
        }
        r => Ok(r?),
    }
}

/// `POST /api/v2/seal/get/activation`: without `totp`, mails a new activation TOTP to the
/// seal's address; with the current `totp`, extends it.
async fn seal_activation(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let seal = seal_of(&state, &p, &body).await?;
    let subject = format!("seal:{}", seal.id);
    let en = Lang::of(&headers) == Lang::En;
    if let Some(code) = text(&body, "totp") {
        check_activation(&state, &seal, code, ip.0).await?;
        let expires = state.refresh_seal_activation(&seal, code).await?;
        crate::audit(
            &state,
            &p,
            AuditAction::SealActivationRefreshed,
            subject,
            json!({}),
        );
        return Ok(success(
            json!(null),
            json!({
                "message": if en { "The activation TOTP is still valid" } else { "TOTP Aktivasi masih berlaku" },
                "totp": code,
                "expires": seed_time(expires),
                "result": true,
            }),
        ));
    }
    state.send_seal_activation(&seal).await?;
    crate::audit(
        &state,
        &p,
        AuditAction::SealActivationSent,
        subject,
        json!({}),
    );
    Ok(success(
        json!(if en {
            "The activation TOTP was sent"
        } else {
            "TOTP Aktivasi berhasil dikirim"
        }),
        json!(null),
    ))
}

/// `POST /api/v2/seal/revoke/activation`.
async fn seal_revoke(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let seal = seal_of(&state, &p, &body).await?;
    let code = required(&body, "totp")?;
    check_activation(&state, &seal, code, ip.0).await?;
    state.revoke_seal_activation(&seal).await?;
    crate::audit(
        &state,
        &p,
        AuditAction::SealActivationRevoked,
        format!("seal:{}", seal.id),
        json!({}),
    );
    let en = Lang::of(&headers) == Lang::En;
    Ok(success(
        json!(if en {
            "The activation TOTP was revoked"
        } else {
            "TOTP Aktivasi berhasil dicabut"
        }),
        json!(null),
    ))
}

/// `POST /api/v2/seal/get/totp`: a sealing OTP for `data` files, in the reply.
async fn seal_totp(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let seal = seal_of(&state, &p, &body).await?;
    let files = file_count(&body)?;
    let code = required(&body, "totp")?;
    check_activation(&state, &seal, code, ip.0).await?;
    let (otp, expires) = state.issue_seal_code(&seal, files).await?;
    let subject = format!("seal:{}", seal.id);
    crate::audit(
        &state,
        &p,
        AuditAction::SealCodeIssued,
        subject,
        json!({"data": files}),
    );
    let en = Lang::of(&headers) == Lang::En;
    Ok(Json(json!({
        "message": if en { "TOTP created" } else { "TOTP berhasil dibuat" },
        "totp": otp,
        "expires": seed_time(expires),
        "result": true,
    }))
    .into_response())
}

/// `POST /api/v2/seal/pdf`.
async fn seal_pdf(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let started = Instant::now();
    if !body.is_object() {
        return Err(BsreError::invalid("body", "must be a JSON object"));
    }
    let seal = seal_of(&state, &p, &body).await?;
    let code = text(&body, "totp").ok_or_else(|| BsreError::missing("totp"))?;
    let jobs = jobs_of(&body)?;
    let now = state.clock.now();
    if !seal.activated(now) {
        return Err(BsreError::new(Code::SealNotActivated));
    }
    if seal.cert_not_after <= now {
        return Err(BsreError::new(Code::CertificateExpired));
    }
    let subject = format!("seal:{}", seal.id);
    let otp = sign::OneTimeCode::new(
        p.org,
        subject.clone(),
        OtpPurpose::Seal,
        code,
        jobs.len() as u64,
    );
    otp.check(&state).await?;
    let signer = state.seal_keys.signer(&state, &seal).await?;
    let n = jobs.len() as u64;
    let signed = sign::sign_all(&state, signer, jobs).await?;
    otp.spend(&state).await?;
    crate::audit_signature(
        &state,
        &p,
        AuditAction::DocumentSealed,
        subject,
        json!({"files": n}),
    )
    .await;
    Ok(crate::with_signatures(signed_reply(started, signed), n))
}

// ---------------------------------------------------------------- users

/// `POST /api/v2/user/check/status`.
async fn check_status(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let found = crate::find_identity(&state, &p, text(&body, "nik"), text(&body, "email")).await;
    let (status, identity) = match found {
        Ok(i) => (i.status_at(state.clock.now()), Some(i)),
        Err(e) if e.code == Code::UserNotRegistered => (IdentityStatus::NotRegistered, None),
        Err(e) => return Err(e),
    };
    let message = match Lang::of(&headers) {
        Lang::Id => status.description_id(),
        Lang::En => status.description_en(),
    };
    Ok(Json(json!({
        "status": status.as_str(),
        "message": message,
        "nik": identity.as_ref().and_then(|i| i.nik.as_ref()).map(|n| n.as_str()),
        "email": identity.as_ref().and_then(|i| i.email.as_ref()).map(|e| e.as_str()),
        "certificate_expires": identity.and_then(|i| i.cert_not_after).map(seed_time),
    }))
    .into_response())
}

/// `POST /api/v2/user/registration`: WAITING_FOR_VERIFICATION until an administrator verifies.
async fn registration(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let nama = required(&body, "nama")?;
    let email = required(&body, "email")?;
    let identity = state
        .identities()
        .register(
            p.org,
            nama,
            Some(email),
            text(&body, "nik"),
            &crate::actor(&p),
        )
        .await?;
    let en = Lang::of(&headers) == Lang::En;
    Ok(success(
        json!(if en {
            "Registration received: waiting for verification"
        } else {
            "Registrasi berhasil, menunggu verifikasi"
        }),
        json!({
            "nama": identity.name.as_str(),
            "email": identity.email.as_ref().map(|e| e.as_str()),
            "status": identity.status_at(state.clock.now()).as_str(),
        }),
    ))
}
