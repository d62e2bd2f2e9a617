//! A user's identities (`GET /user/{id}/identities`) and each identity's signature appearance
//! (`GET|POST|DELETE /user/{id}/identity/{identity-id}/appearance`). Every user has the
//! built-in identity: the certificate the organisation's CA issues for each of their signatures
//! on the signer page (its appearance is the "saved signature" the page offers). The core's
//! identities registered with the user's e-mail (the built-in CA's long-lived certificates,
//! imported PKCS#12) follow. Ids are UUIDs carrying the number:
//! `00000000-0000-4000-9000-<user>` for the built-in one, `…-a000-<identity>` for the others.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::appearances::AppearanceOwner;
use paraf_core::domain::{Capability, Identity as CoreIdentity, IdentityId, IdentityStatus, User};
use paraf_core::engine::pki;
use paraf_http::state::AppState;
use serde_json::json;

use crate::error::StError;
use crate::wire::{Identity, Refused, Resource};
use crate::{time, user_of_uuid, user_uuid, Caller};

const BUILT_IN: &str = "00000000-0000-4000-9000-";
const REGISTERED: &str = "00000000-0000-4000-a000-";

/// The number a prefixed UUID carries.
fn number_of(id: &str, prefix: &str) -> Option<i64> {
    let n = id.trim().to_ascii_lowercase();
    let hex = n.strip_prefix(prefix)?;
    (hex.len() == 12)
        .then(|| i64::from_str_radix(hex, 16).ok())
        .flatten()
        .filter(|n| *n > 0)
}

/// The common names of a PEM certificate: (subject, issuer).
fn names(pem: &str) -> (Option<String>, Option<String>) {
    match pki::x509::certs_from_pem(pem.as_bytes()) {
        Ok(certs) => match certs.first() {
            Some(c) => (
                pki::x509::name_attribute(&c.tbs_certificate.subject, pki::oids::COMMON_NAME),
                pki::x509::name_attribute(&c.tbs_certificate.issuer, pki::oids::COMMON_NAME),
            ),
            None => (None, None),
        },
        Err(_) => (None, None),
    }
}

/// The user of the path: the caller, or another with `cap`.
async fn path_user(
    state: &AppState,
    caller: &Caller,
    id: &str,
    cap: Capability,
) -> Result<User, StError> {
    let uid = user_of_uuid(id).ok_or_else(|| StError::not_found("id", "user"))?;
    let u = state
        .core
        .user(caller.org, uid)
        .await
        .map_err(|_| StError::not_found("id", "user"))?;
    if u.id != caller.user {
        caller.require(cap)?;
    }
    Ok(u)
}

/// The core identities of `u` (registered with their e-mail).
async fn registered(state: &AppState, u: &User) -> Result<Vec<CoreIdentity>, StError> {
    Ok(state.core.identities_of_user(u).await?)
}

/// An appearance as the seed's resource.
fn resource(
    a: &paraf_core::appearances::Appearance,
    domain: &str,
    base: &str,
    path: &str,
) -> Resource {
    Resource {
        id: a.uuid.clone(),
        domain: domain.to_string(),
        kind: "Image".into(),
        dst_uuid: None,
        title: a.title.clone(),
        filename: a.filename.clone(),
        url: format!("{base}{path}"),
        size: Some(a.size),
        created_at: time(a.created_at),
        mimetype: a.mime.clone(),
        pages: 1,
        extra_data: json!({}),
    }
}

/// The identities of a user (the caller's own, or anyone's with `user.access.all`).
#[utoipa::path(get, path = "/api/user/{id}/identities", tag = "signingtoday",
    params(("id" = String, Path, description = "The user's UUID")),
    responses((status = 200, body = [Identity]), Refused))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    let u = path_user(&state, &caller, &id, Capability::UserAccessAll).await?;
    let org = state.core.organisation(caller.org).await?;
    let domain = org.slug.as_str();
    let base = state.core.public_url.to_string();
    let issuer = state
        .core
        .pki
        .current()
        .ok()
        .and_then(|ca| ca.certificate_pem(ca.current_issuing()).ok())
        .and_then(|pem| names(&pem).0);
    let uid = user_uuid(u.id);
    let built_in_id = format!("{BUILT_IN}{:012x}", u.id.0);
    let appearance_path = |iid: &str| format!("/api/user/{uid}/identity/{iid}/appearance");
    let mut out = vec![Identity {
        id: built_in_id.clone(),
        provider: "Paraf".into(),
        label: format!("{} (signer page)", u.name.as_str()),
        provider_type: "paraf".into(),
        subject_common_name: Some(u.name.as_str().to_string()),
        issuer_common_name: issuer,
        expire_date: None,
        raw_certificate: None,
        appearance: state
            .core
            .appearance_of(caller.org, AppearanceOwner::User(u.id))
            .await?
            .map(|a| resource(&a, domain, &base, &appearance_path(&built_in_id))),
        provider_data: json!({"middlewareID": "paraf", "certificate": "issued for each signature"}),
        valid: !u.disabled,
        tags: None,
    }];
    let now = state.core.now();
    for i in registered(&state, &u).await? {
        let iid = format!("{REGISTERED}{:012x}", i.id.0);
        let (subject, issuer) = i.cert_pem.as_deref().map(names).unwrap_or_default();
        out.push(Identity {
            id: iid.clone(),
            provider: "Paraf CA".into(),
            label: i.name.as_str().to_string(),
            provider_type: "certificate".into(),
            subject_common_name: subject.or_else(|| Some(i.name.as_str().to_string())),
            issuer_common_name: issuer,
            expire_date: i.cert_not_after.map(time),
            raw_certificate: i.cert_pem.clone(),
            appearance: state
                .core
                .appearance_of(caller.org, AppearanceOwner::Identity(i.id))
                .await?
                .map(|a| resource(&a, domain, &base, &appearance_path(&iid))),
            provider_data: json!({
                "middlewareID": "paraf",
                "serialNumber": i.cert_serial,
                "status": format!("{:?}", i.status_at(now)),
            }),
            valid: i.status_at(now) == IdentityStatus::Issue,
            tags: None,
        });
    }
    Ok(Json(out).into_response())
}

/// "Not found" for a missing appearance names `identity-id`.
fn no_appearance(e: paraf_core::CoreError) -> StError {
    match StError::from(e) {
        x if x.status == StatusCode::NOT_FOUND => StError::not_found("identity-id", "appearance"),
        x => x,
    }
}

/// The owner named by `{identity-id}` of user `u`.
async fn owner(state: &AppState, u: &User, iid: &str) -> Result<AppearanceOwner, StError> {
    if number_of(iid, BUILT_IN) == Some(u.id.0) {
        return Ok(AppearanceOwner::User(u.id));
    }
    if let Some(n) = number_of(iid, REGISTERED) {
        if registered(state, u).await?.iter().any(|i| i.id.0 == n) {
            return Ok(AppearanceOwner::Identity(IdentityId(n)));
        }
    }
    Err(StError::not_found("identity-id", "identity"))
}

/// An identity's appearance (PNG).
#[utoipa::path(get, path = "/api/user/{id}/identity/{identity-id}/appearance", tag = "signingtoday",
    params(("id" = String, Path, description = "The user's UUID"),
        ("identity-id" = String, Path, description = "The identity's UUID")),
    responses((status = 200, description = "The image", content_type = "image/png", body = Vec<u8>), Refused))]
pub async fn get_appearance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
) -> Result<Response, StError> {
    let u = path_user(&state, &caller, &id, Capability::UserAccessAll).await?;
    let who = owner(&state, &u, &iid).await?;
    let (a, png) = state
        .core
        .appearance(caller.org, who)
        .await
        .map_err(no_appearance)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ],
        [(
            header::ETAG,
            HeaderValue::from_str(&format!("\"{}\"", a.uuid))
                .unwrap_or(HeaderValue::from_static("\"appearance\"")),
        )],
        png,
    )
        .into_response())
}

/// Stores an identity's appearance (multipart `file` — a PNG or JPEG, scaled to fit 600×300
/// —, `filename`, `resourceType` `Image`, `title`): the seed's resource.
#[utoipa::path(post, path = "/api/user/{id}/identity/{identity-id}/appearance", tag = "signingtoday",
    params(("id" = String, Path, description = "The user's UUID"),
        ("identity-id" = String, Path, description = "The identity's UUID")),
    request_body(content_type = "multipart/form-data", description = "file, filename, resourceType (Image), title"),
    responses((status = 200, body = Resource), Refused))]
pub async fn set_appearance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
    req: Request,
) -> Result<Response, StError> {
    let u = path_user(&state, &caller, &id, Capability::UserDeleteAll).await?;
    let who = owner(&state, &u, &iid).await?;
    let (fields, file) = crate::documents::file_part(&state, req).await?;
    let field = |k: &str| crate::documents::form_field(&fields, k);
    match field("resourceType").as_deref() {
        None | Some("Image") => {}
        Some("PDF_Document") => {
            return Err(StError::invalid(
                "resourceType",
                "an appearance is an image (PNG or JPEG), not a PDF",
            ))
        }
        Some(other) => {
            return Err(StError::invalid(
                "resourceType",
                format!("resourceType {other:?} is not Image"),
            ))
        }
    }
    let filename = field("filename")
        .or_else(|| Some(file.name.clone()))
        .unwrap_or_else(|| "appearance.png".into());
    let title = field("title").unwrap_or_else(|| filename.clone());
    let a = state
        .core
        .set_appearance(
            caller.org,
            who,
            file.bytes.to_vec(),
            &filename,
            &title,
            &caller.actor,
        )
        .await
        .map_err(|e| match e {
            paraf_core::CoreError::Domain(paraf_core::domain::DomainError::Invalid {
                field: "file",
                reason,
            }) => StError::invalid("file", reason),
            e => StError::from(e),
        })?;
    let org = state.core.organisation(caller.org).await?;
    let path = format!(
        "/api/user/{}/identity/{}/appearance",
        user_uuid(u.id),
        iid.trim().to_ascii_lowercase()
    );
    Ok(Json(resource(
        &a,
        org.slug.as_str(),
        &state.core.public_url,
        &path,
    ))
    .into_response())
}

/// Removes an identity's appearance. 204.
#[utoipa::path(delete, path = "/api/user/{id}/identity/{identity-id}/appearance", tag = "signingtoday",
    params(("id" = String, Path, description = "The user's UUID"),
        ("identity-id" = String, Path, description = "The identity's UUID")),
    responses((status = 204, description = "Removed"), Refused))]
pub async fn remove_appearance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
) -> Result<Response, StError> {
    let u = path_user(&state, &caller, &id, Capability::UserDeleteAll).await?;
    let who = owner(&state, &u, &iid).await?;
    state
        .core
        .remove_appearance(caller.org, who, &caller.actor)
        .await
        .map_err(no_appearance)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
