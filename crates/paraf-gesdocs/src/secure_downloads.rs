//! `POST /api/uploads` (a file kept for later, named by the `path` it returns) and
//! `POST /api/secure-downloads`: files (uploaded paths or PDF URLs) shared with recipients who
//! each get an expiring link by mail and must confirm a one-time code (mail or SMS) before
//! they can download (the core's shares: `paraf_core::sharing`). Errors in the seed's shapes:
//! `errors` per field (422), or `field` for a file or logo that cannot be used
//! (`files.0.url`, `logo_url`).

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::documents::has_pdf_header;
use paraf_core::domain::{Email, EnvelopeHeader, SignatureModel};
use paraf_core::envelopes::{Draft, DraftDocument};
use paraf_http::state::AppState;
use serde_json::{json, Map, Value};

use crate::error::GesDocsError;
use crate::routes::Checks;
use crate::signature_requests::{
    expiry_of, fetch_error, field_error, file_name_of, logo_of, read_body, signataire, signers_of,
    Files, MAX_PDF,
};
use crate::wire::{SecureDownloadCreated, SecureDownloadData, SecureDownloadInput, UploadCreated};
use crate::Caller;

/// At most this many files per share.
const MAX_FILES: usize = 20;

/// Upload a file for a later secure download.
#[utoipa::path(post, path = "/api/uploads", tag = "gesdocs",
    request_body(content_type = "multipart/form-data", description = "`file`: the file (a PDF, at most 50 MB)"),
    responses(
        (status = 201, body = UploadCreated),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, description = "No file, or not a PDF", body = crate::wire::ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, GesDocsError> {
    let unreadable =
        || GesDocsError::new(StatusCode::BAD_REQUEST, "The request could not be read.");
    let mut mp = Multipart::from_request(req, &state)
        .await
        .map_err(|_| GesDocsError::invalid("file", "The file field is required."))?;
    let not_pdf = || GesDocsError::invalid("file", "The file field must be a file of type: pdf.");
    // The file goes to the blob store as it arrives; a non-PDF is no longer stored from its
    // first KiB on (the rest of the body is read and dropped, so the client, still sending,
    // gets the answer instead of a broken connection).
    let mut file = None;
    let mut refused = None;
    while let Some(mut field) = mp.next_field().await.map_err(|_| unreadable())? {
        if field.name() != Some("file") || refused.is_some() {
            while field.chunk().await.map_err(|_| unreadable())?.is_some() {}
            continue;
        }
        let name = field.file_name().unwrap_or("document.pdf").to_string();
        let mut upload = state.core.begin_upload().await?;
        while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
            if refused.is_some() {
                continue;
            }
            if let Err(e) = upload.write(chunk).await {
                refused = Some(GesDocsError::from(e));
            } else if upload.pdf_header() == Some(false) {
                refused = Some(not_pdf());
            }
        }
        if refused.is_none() {
            file = Some((name, upload));
        }
    }
    if let Some(e) = refused {
        return Err(e);
    }
    let Some((name, upload)) = file.filter(|(_, u)| u.written() > 0) else {
        return Err(GesDocsError::invalid("file", "The file field is required."));
    };
    if upload.pdf_header() != Some(true) {
        return Err(not_pdf());
    }
    let (path, size) = state
        .core
        .finish_upload(caller.p.org, upload, &name, &caller.actor)
        .await?;
    let reply = UploadCreated {
        status: "success".into(),
        message: "File uploaded.".into(),
        path,
        name,
        size,
    };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// Share files with recipients through expiring links protected by a one-time code.
#[utoipa::path(post, path = "/api/secure-downloads", tag = "gesdocs",
    request_body(content = SecureDownloadInput, description = "JSON, a form, or multipart/form-data (files[0][path]…, logo file)"),
    responses(
        (status = 201, body = SecureDownloadCreated),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, description = "Validation error (`errors` per field), or a file or logo that cannot be used (`field`: `files.0.url`, `logo_url`)", body = crate::wire::ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, GesDocsError> {
    let (input, mut files): (SecureDownloadInput, Files) =
        read_body(req, &state, &["logo"]).await?;
    let mut c = Checks::default();
    let now = state.core.now();
    let two_fa = input.twofa_type.as_deref().unwrap_or("mail");
    let recipients = signers_of(&mut c, &input.signers, Some(two_fa), false);
    let expires_at = expiry_of(&mut c, &input.expires_at, now);
    let requester = c.email("demandeur_email", &input.demandeur_email);
    let list = input.files.unwrap_or_default();
    if list.is_empty() {
        c.fail("files", "The files field is required.".into());
    } else if list.len() > MAX_FILES {
        c.fail(
            "files",
            format!("The files field must not have more than {MAX_FILES} items."),
        );
    }
    for (i, f) in list.iter().enumerate() {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !given(&f.path) && !given(&f.url) {
            c.fail(
                &format!("files.{i}.path"),
                format!("The files.{i}.path field is required when files.{i}.url is not present."),
            );
        }
    }
    c.done()?;

    // The files: an uploaded path wins over a URL.
    let mut documents = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let path = f.path.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let (fallback, bytes) = match path {
            Some(p) => state.core.uploaded(caller.p.org, p).await.map_err(|e| {
                if e.is_not_found() {
                    field_error(&format!("files.{i}.path"), "Fichier introuvable.")
                } else {
                    GesDocsError::internal(e)
                }
            })?,
            None => {
                let url = f.url.as_deref().unwrap_or_default().trim();
                let field = format!("files.{i}.url");
                let got = state
                    .outbound
                    .fetch(url, MAX_PDF)
                    .await
                    .map_err(|e| fetch_error(&field, &e, "le fichier"))?;
                if !has_pdf_header(&got.bytes) {
                    return Err(field_error(
                        &field,
                        "Le fichier à l'URL fournie n'est pas un PDF valide.",
                    ));
                }
                (file_name_of(url), got.bytes)
            }
        };
        let name = f
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or(fallback, str::to_string);
        documents.push(DraftDocument { name, bytes });
    }
    let mut options = Map::new();
    let logo = logo_of(
        &state,
        files.remove("logo"),
        input.logo_url.as_deref(),
        &mut options,
    )
    .await?;
    let Ok(sender_email) = Email::parse(&requester) else {
        return Err(GesDocsError::invalid(
            "demandeur_email",
            "The demandeur email field must be a valid email address.",
        ));
    };
    let title = documents
        .first()
        .map(|d| d.name.trim_end_matches(".pdf").to_string())
        .unwrap_or_default();
    let draft = Draft {
        header: EnvelopeHeader {
            title,
            model: SignatureModel::SignerCertificate,
            sender_email,
            created_by: Some(caller.user),
            face: crate::FACE.into(),
            metadata: json!({}),
            options: Value::Object(options),
            expires_at,
            reminder_days: None,
            template: false,
        },
        documents,
        recipients,
        fields: vec![],
        logo,
    };
    let (e, links) = state
        .core
        .share_documents(caller.p.org, draft, &caller.actor)
        .await?;
    let reply = SecureDownloadCreated {
        status: "success".into(),
        message: "Lien envoyé aux destinataires.".into(),
        data: SecureDownloadData {
            secure_download_id: e.id.0,
            token: e.uuid.clone(),
            expires_at: e
                .header
                .expires_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            link: links.first().map(|l| l.url.clone()).unwrap_or_default(),
            signataires: links
                .iter()
                .map(|l| signataire(&l.recipient, Some(l.url.clone())))
                .collect(),
        },
    };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}
