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
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use paraf_core::domain::{IdentityStatus, OtpPurpose, Principal, Seal, Timestamp};
use serde_json::{json, Value};

use crate::wire::{
    self, num, required, text, Ack, CodeReply, CodeSent, Errors, Language, Num, OneOrMany,
    Registered, RegistrationRequest, SealActivationRequest, SealCodeRequest, SealRequest,
    SignCodeRequest, SignRequest, SignatureProperties, SignedFiles, UserRef, UserStatus,
};
use crate::Caller;

use crate::error::{BsreError, Code, Lang};
use crate::v1::is_jpeg_or_png;
use paraf_core::audit::AuditAction;
use paraf_core::error::KeyRefusal;
use paraf_core::signing::{self as sign, FileJob, Look, PageSel, Place, Proof};
use paraf_core::CoreError;
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

/// The `data` count of files (1…[`MAX_FILES`]).
fn file_count(data: &Option<Num>) -> Result<u64, BsreError> {
    let n = num(data, "data")?.ok_or_else(|| BsreError::missing("data"))?;
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
fn jobs_of(
    file: Option<OneOrMany<Value>>,
    properties: Option<OneOrMany<Value>>,
) -> Result<Vec<FileJob>, BsreError> {
    let files = file.map(OneOrMany::into_vec).unwrap_or_default();
    if files.is_empty() {
        return Err(BsreError::missing("file"));
    }
    if files.len() > MAX_FILES {
        return Err(BsreError::invalid(
            "file",
            format!("at most {MAX_FILES} files per request"),
        ));
    }
    let props = properties.map(OneOrMany::into_vec).unwrap_or_default();
    if props.is_empty() {
        return Err(BsreError::missing("signatureProperties"));
    }
    if props.len() != 1 && props.len() != files.len() {
        return Err(BsreError::new(Code::PropertiesCountMismatch)
            .arg("count", props.len())
            .arg("files", files.len()));
    }
    let mut parsed = Vec::with_capacity(props.len());
    for (i, prop) in props.into_iter().enumerate() {
        let pname = format!("signatureProperties[{i}]");
        if !prop.is_object() {
            return Err(BsreError::invalid(&pname, "must be an object"));
        }
        let prop: SignatureProperties = wire::parse(prop).map_err(|e| e.within(&pname))?;
        parsed.push((pname, prop));
    }
    let mut jobs = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let field = format!("file[{i}]");
        let Some(s) = f.as_str().filter(|s| !s.trim().is_empty()) else {
            return Err(BsreError::missing(&field));
        };
        let pdf = decode_base64(s, &field)?;
        let (pname, prop) = &parsed[if parsed.len() == 1 { 0 } else { i }];
        jobs.push(FileJob {
            pdf,
            field,
            pdf_password: prop
                .pdf_password
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            look: look_of(prop, pname)?,
            reason: text(&prop.reason).map(str::to_string),
            location: text(&prop.location).map(str::to_string),
            field_name: None,
        });
    }
    Ok(jobs)
}

fn look_of(prop: &SignatureProperties, pname: &str) -> Result<Look, BsreError> {
    let f = |n: &str| format!("{pname}.{n}");
    let tampilan = match &prop.tampilan {
        None => return Err(BsreError::missing(&f("tampilan"))),
        Some(v) => v.trim().to_ascii_uppercase(),
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
    let image = match text(&prop.image_base64) {
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
    let need = |v: &Option<Num>, n: &str| -> Result<f64, BsreError> {
        num(v, &f(n))?.ok_or_else(|| BsreError::missing(&f(n)))
    };
    let width = need(&prop.width, "width")?;
    let height = need(&prop.height, "height")?;
    for (n, v) in [("width", width), ("height", height)] {
        if v <= 0.0 {
            return Err(BsreError::invalid(&f(n), "must be greater than 0"));
        }
    }
    let place = if let Some(tag) = text(&prop.tag_koordinat) {
        Place::Tag {
            tag: tag.to_string(),
            width,
            height,
        }
    } else {
        let page = need(&prop.page, "page")?;
        if page.fract() != 0.0 || page < 0.0 {
            return Err(BsreError::invalid(&f("page"), "must be a page number"));
        }
        Place::Rect {
            page: PageSel::Number(page as usize),
            x: need(&prop.origin_x, "originX")?,
            y: need(&prop.origin_y, "originY")?,
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

/// The seed's acknowledgement without data, in the caller's language.
fn acknowledged(lang: Lang, id: &str, en: &str) -> Response {
    let message = if lang == Lang::En { en } else { id };
    Json(Ack::<()>::new(Some(message), None)).into_response()
}

fn signed_reply(started: Instant, files: Vec<Vec<u8>>) -> Response {
    Json(SignedFiles {
        time: started.elapsed().as_millis() as u64,
        file: files.iter().map(|f| b64(f)).collect(),
    })
    .into_response()
}

// ---------------------------------------------------------------- signing

/// `POST /api/v2/sign/pdf`.
#[utoipa::path(post, path = "/api/v2/sign/pdf", tag = "BSrE v2", params(Language),
    summary = "Sign PDFs (base64, bulk)",
    description = "Signs every file with the identity named by `nik` or `email` (NIK wins), unlocked by `passphrase` (wins) or a one-time `totp`. All or nothing.",
    request_body = SignRequest, responses(Errors, (status = 200, description = "The signed files, in request order.", body = SignedFiles)))]
pub(crate) async fn sign_pdf(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let started = Instant::now();
    let req: SignRequest = wire::parse(body)?;
    let jobs = jobs_of(req.file, req.signature_properties)?;
    let passphrase = req.passphrase.as_deref().filter(|s| !s.is_empty());
    let totp = text(&req.totp).or_else(|| text(&req.otp));
    let proof = match (passphrase, totp) {
        (Some(pass), _) => Proof::Passphrase(pass),
        (None, Some(code)) => Proof::Totp {
            code,
            files: jobs.len() as u64,
        },
        (None, None) => return Err(BsreError::new(Code::MissingCredential)),
    };
    let identity = crate::find_identity(&state, &c.p, text(&req.nik), text(&req.email)).await?;
    let (signer, otp) = sign::unlock_identity(&state, &identity, proof).await?;
    let n = jobs.len() as u64;
    let signed = sign::sign_all(&state, c.p.org, Arc::new(signer), jobs).await?;
    if let Some(otp) = otp {
        otp.spend(&state).await?;
    }
    crate::audit_signature(
        &state,
        &c.p,
        AuditAction::DocumentSigned,
        format!("identity:{}", identity.id),
        json!({"files": n, "api": "v2"}),
    )
    .await;
    Ok(crate::with_signatures(signed_reply(started, signed), n))
}

/// `POST /api/v2/sign/get/totp`: mails a code for `data` files, valid a few minutes, once.
#[utoipa::path(post, path = "/api/v2/sign/get/totp", tag = "BSrE v2", params(Language),
    summary = "Mail a one-time signing code to the signer",
    description = "Sends a 6-digit code to the identity's e-mail, valid 5 minutes, for one `POST /api/v2/sign/pdf` of at most `data` files. Refused unless the identity allowed code signing.",
    request_body = SignCodeRequest, responses(Errors, (status = 200, description = "The code was mailed.", body = Ack<CodeSent>)))]
pub(crate) async fn sign_totp(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: SignCodeRequest = wire::parse(body)?;
    let identity = crate::find_identity(&state, &c.p, text(&req.nik), text(&req.email)).await?;
    let files = file_count(&req.data)?;
    let expires = state.send_signing_code(&identity, files).await?;
    let subject = format!("identity:{}", identity.id);
    crate::audit(
        &state,
        &c.p,
        AuditAction::IdentityCodeSent,
        subject,
        json!({"data": files}),
    );
    let message = match c.lang {
        Lang::Id => "TOTP berhasil dikirim ke email pengguna",
        Lang::En => "The TOTP was sent to the user's e-mail",
    };
    Ok(Json(Ack::new(
        Some(message),
        Some(CodeSent {
            expires: seed_time(expires),
            data: files,
        }),
    ))
    .into_response())
}

// ---------------------------------------------------------------- seals

async fn seal_of(
    state: &AppState,
    p: &Principal,
    id_subscriber: &Option<String>,
) -> Result<Seal, BsreError> {
    let id = required(id_subscriber, "idSubscriber")?;
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
#[utoipa::path(post, path = "/api/v2/seal/get/activation", tag = "BSrE v2", params(Language),
    summary = "Send or extend a seal activation code",
    description = "Without `totp`: mails a new activation code (valid 30 days) to the seal's address. With the current `totp`: extends it (`data` then carries it). Ten wrong codes revoke the activation.",
    request_body = SealActivationRequest, responses(Errors, (status = 200, description = "Sent (`data` null) or extended.", body = Ack<CodeReply>)))]
pub(crate) async fn seal_activation(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: SealActivationRequest = wire::parse(body)?;
    let seal = seal_of(&state, &c.p, &req.id_subscriber).await?;
    let subject = format!("seal:{}", seal.id);
    let en = c.lang == Lang::En;
    if let Some(code) = text(&req.totp) {
        check_activation(&state, &seal, code, c.ip).await?;
        let expires = state.refresh_seal_activation(&seal, code).await?;
        crate::audit(
            &state,
            &c.p,
            AuditAction::SealActivationRefreshed,
            subject,
            json!({}),
        );
        let message = if en {
            "The activation TOTP is still valid"
        } else {
            "TOTP Aktivasi masih berlaku"
        };
        return Ok(Json(Ack::new(
            None,
            Some(CodeReply {
                message: message.to_string(),
                totp: code.to_string(),
                expires: seed_time(expires),
                result: true,
            }),
        ))
        .into_response());
    }
    state.send_seal_activation(&seal).await?;
    crate::audit(
        &state,
        &c.p,
        AuditAction::SealActivationSent,
        subject,
        json!({}),
    );
    Ok(acknowledged(
        c.lang,
        "TOTP Aktivasi berhasil dikirim",
        "The activation TOTP was sent",
    ))
}

/// `POST /api/v2/seal/revoke/activation`.
#[utoipa::path(post, path = "/api/v2/seal/revoke/activation", tag = "BSrE v2", params(Language),
    summary = "Revoke a seal activation",
    description = "Ends the activation proven by `totp`.",
    request_body = SealActivationRequest, responses(Errors, (status = 200, description = "Revoked (`data` null).", body = Ack<CodeReply>)))]
pub(crate) async fn seal_revoke(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: SealActivationRequest = wire::parse(body)?;
    let seal = seal_of(&state, &c.p, &req.id_subscriber).await?;
    let code = required(&req.totp, "totp")?;
    check_activation(&state, &seal, code, c.ip).await?;
    state.revoke_seal_activation(&seal).await?;
    crate::audit(
        &state,
        &c.p,
        AuditAction::SealActivationRevoked,
        format!("seal:{}", seal.id),
        json!({}),
    );
    Ok(acknowledged(
        c.lang,
        "TOTP Aktivasi berhasil dicabut",
        "The activation TOTP was revoked",
    ))
}

/// `POST /api/v2/seal/get/totp`: a sealing OTP for `data` files, in the reply.
#[utoipa::path(post, path = "/api/v2/seal/get/totp", tag = "BSrE v2", params(Language),
    summary = "Get a sealing code",
    description = "A 6-digit code for one `POST /api/v2/seal/pdf` of at most `data` files, valid 5 minutes, returned in the reply (the activation `totp` proves the caller).",
    request_body = SealCodeRequest, responses(Errors, (status = 200, description = "The code.", body = CodeReply)))]
pub(crate) async fn seal_totp(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: SealCodeRequest = wire::parse(body)?;
    let seal = seal_of(&state, &c.p, &req.id_subscriber).await?;
    let files = file_count(&req.data)?;
    let code = required(&req.totp, "totp")?;
    check_activation(&state, &seal, code, c.ip).await?;
    let (otp, expires) = state.issue_seal_code(&seal, files).await?;
    let subject = format!("seal:{}", seal.id);
    crate::audit(
        &state,
        &c.p,
        AuditAction::SealCodeIssued,
        subject,
        json!({"data": files}),
    );
    let en = c.lang == Lang::En;
    Ok(Json(CodeReply {
        message: if en {
            "TOTP created"
        } else {
            "TOTP berhasil dibuat"
        }
        .to_string(),
        totp: otp,
        expires: seed_time(expires),
        result: true,
    })
    .into_response())
}

/// `POST /api/v2/seal/pdf`.
#[utoipa::path(post, path = "/api/v2/seal/pdf", tag = "BSrE v2", params(Language),
    summary = "Seal PDFs with the organisation seal",
    description = "Seals every file with the seal `idSubscriber`, proven by a sealing code (`totp`). All or nothing.",
    request_body = SealRequest, responses(Errors, (status = 200, description = "The sealed files, in request order.", body = SignedFiles)))]
pub(crate) async fn seal_pdf(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let started = Instant::now();
    let req: SealRequest = wire::parse(body)?;
    let seal = seal_of(&state, &c.p, &req.id_subscriber).await?;
    let code = required(&req.totp, "totp")?;
    let jobs = jobs_of(req.file, req.signature_properties)?;
    let now = state.clock.now();
    if !seal.activated(now) {
        return Err(BsreError::new(Code::SealNotActivated));
    }
    if seal.cert_not_after <= now {
        return Err(BsreError::new(Code::CertificateExpired));
    }
    let subject = format!("seal:{}", seal.id);
    let otp = sign::OneTimeCode::new(
        c.p.org,
        subject.clone(),
        OtpPurpose::Seal,
        code,
        jobs.len() as u64,
    );
    otp.check(&state).await?;
    let signer = state.seal_keys.signer(&state, &seal).await?;
    let n = jobs.len() as u64;
    let signed = sign::sign_all(&state, c.p.org, signer, jobs).await?;
    otp.spend(&state).await?;
    crate::audit_signature(
        &state,
        &c.p,
        AuditAction::DocumentSealed,
        subject,
        json!({"files": n}),
    )
    .await;
    Ok(crate::with_signatures(signed_reply(started, signed), n))
}

// ---------------------------------------------------------------- users

/// `POST /api/v2/user/check/status`.
#[utoipa::path(post, path = "/api/v2/user/check/status", tag = "BSrE v2", params(Language),
    summary = "A user's certificate status",
    description = "The status of the identity named by `nik` or `email` (NOT_REGISTERED when there is none).",
    request_body = UserRef, responses(Errors, (status = 200, description = "The status.", body = UserStatus)))]
pub(crate) async fn check_status(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: UserRef = wire::parse(body)?;
    let found = crate::find_identity(&state, &c.p, text(&req.nik), text(&req.email)).await;
    let (status, identity) = match found {
        Ok(i) => (i.status_at(state.clock.now()), Some(i)),
        Err(e) if e.code == Code::UserNotRegistered => (IdentityStatus::NotRegistered, None),
        Err(e) => return Err(e),
    };
    let message = match c.lang {
        Lang::Id => status.description_id(),
        Lang::En => status.description_en(),
    };
    Ok(Json(UserStatus {
        status: status.as_str().to_string(),
        message: message.to_string(),
        nik: identity
            .as_ref()
            .and_then(|i| i.nik.as_ref())
            .map(|n| n.as_str().to_string()),
        email: identity
            .as_ref()
            .and_then(|i| i.email.as_ref())
            .map(|e| e.as_str().to_string()),
        certificate_expires: identity.and_then(|i| i.cert_not_after).map(seed_time),
    })
    .into_response())
}

/// `POST /api/v2/user/registration`: WAITING_FOR_VERIFICATION until an administrator verifies.
#[utoipa::path(post, path = "/api/v2/user/registration", tag = "BSrE v2", params(Language),
    summary = "Register a user",
    description = "Registers an identity: WAITING_FOR_VERIFICATION until an administrator verifies it (console or `paraf admin`), which mails the activation link.",
    request_body = RegistrationRequest, responses(Errors, (status = 200, description = "Registered.", body = Ack<Registered>)))]
pub(crate) async fn registration(
    State(state): State<AppState>,
    c: Caller,
    Json(body): Json<Value>,
) -> Result<Response, BsreError> {
    let req: RegistrationRequest = wire::parse(body)?;
    let nama = required(&req.nama, "nama")?;
    let email = required(&req.email, "email")?;
    let identity = state
        .identities()
        .register(
            c.p.org,
            nama,
            Some(email),
            text(&req.nik),
            &crate::actor(&c.p),
        )
        .await?;
    let en = c.lang == Lang::En;
    let message = if en {
        "Registration received: waiting for verification"
    } else {
        "Registrasi berhasil, menunggu verifikasi"
    };
    Ok(Json(Ack::new(
        Some(message),
        Some(Registered {
            nama: identity.name.as_str().to_string(),
            email: identity.email.as_ref().map(|e| e.as_str().to_string()),
            status: identity.status_at(state.clock.now()).as_str().to_string(),
        }),
    ))
    .into_response())
}
