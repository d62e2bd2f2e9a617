//! `/documents`: a document is an envelope of one PDF, made through Alphasign, its signers in
//! one group (the seed sends the invitations "to all signers" at once). Fields come from the
//! text tags the PDF carries (`<@signature@>`, `<@signatureN@>`), else one signature per
//! signer at the foot of the last page (up to six), else a summary page.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::documents::has_pdf_header;
use paraf_core::domain::{
    Email, Envelope, EnvelopeStatus, NewRecipient, Recipient, RecipientStatus,
};
use paraf_core::envelopes::DraftDocument;
use paraf_core::library::{document_signer, one_document_draft};
use paraf_http::state::AppState;

use crate::error::{AlphasignError, Msg};
use crate::routes::{paginated, Checks, Listing};
use crate::wire::{Deleted, Document, DocumentInput, Signer, Success};
use crate::Caller;

/// Largest PDF accepted (the seed's "Max 20MB", read as Laravel's `max:20480` kilobytes).
pub const MAX_FILE: usize = 20 * 1024 * 1024;
/// Most signers on one document.
pub const MAX_SIGNERS: usize = 50;

/// The 422 for a file over [`MAX_FILE`] (also what a body over the server's limit gets on
/// `POST /documents`).
pub fn file_too_large() -> AlphasignError {
    AlphasignError::invalid(
        "file",
        Msg::new(
            "Ukuran file maksimal 20 MB.",
            "The file must not be greater than 20 MB.",
        ),
    )
}

/// The seed's status words: `draft`, `pending` (sent, being signed or sealed), `completed`;
/// and `declined`, `cancelled`, `expired` for the ends it does not name (the core's public
/// words, shared with the verification page).
pub use paraf_core::library::public_status as status_word;

/// The statuses a `status` filter selects.
fn statuses_of(word: &str) -> Option<Vec<EnvelopeStatus>> {
    Some(match word {
        "draft" => vec![EnvelopeStatus::Draft],
        "pending" => vec![
            EnvelopeStatus::Sent,
            EnvelopeStatus::InProgress,
            EnvelopeStatus::Sealing,
            EnvelopeStatus::SealFailed,
        ],
        "completed" => vec![EnvelopeStatus::Completed],
        _ => return None,
    })
}

fn signer(r: &Recipient) -> Signer {
    Signer {
        name: r.full_name(),
        email: r.email.as_str().to_string(),
        status: match r.status {
            RecipientStatus::Signed => "signed",
            RecipientStatus::Declined => "declined",
            _ => "pending",
        }
        .into(),
        signed_at: r.signed_at.map(crate::time),
        order: r.position,
    }
}

fn view(e: &Envelope, recipients: &[Recipient]) -> Document {
    Document {
        id: e.uuid.clone(),
        title: e.header.title.clone(),
        status: status_word(e.status).into(),
        signers: recipients.iter().map(signer).collect(),
        created_at: crate::time(e.created_at),
        sent_at: e.sent_at.map(crate::time),
        completed_at: e.completed_at.map(crate::time),
        file_name: None,
        pages: None,
        sha256: None,
    }
}

/// The caller's document `id` (a uuid) with its signers; another organisation's, another
/// face's or a malformed id is "not found".
async fn find(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Envelope, Vec<Recipient>), AlphasignError> {
    let ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !ok {
        return Err(AlphasignError::no_document());
    }
    let (e, r) = state.core.envelope_by_uuid(caller.org, id).await?;
    if e.header.face != crate::FACE {
        return Err(AlphasignError::no_document());
    }
    Ok((e, r))
}

/// The organisation's documents, newest first (`status`: draft, pending, completed;
/// `per_page` 1 … 100, default 20; `page`).
#[utoipa::path(get, path = "/api/v1/documents", tag = "alphasign",
    params(
        ("status" = Option<String>, Query, description = "draft, pending or completed"),
        ("per_page" = Option<u32>, Query, description = "1-100, default 20"),
        ("page" = Option<u64>, Query, description = "default 1"),
    ),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": [Document], \"meta\": …, \"links\": …}`", body = [Document]),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, description = "Bad status, per_page or page", body = crate::wire::ErrorBody),
        (status = 429, body = crate::wire::ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: Listing,
) -> Result<Response, AlphasignError> {
    let Listing {
        query,
        paging,
        mut checks,
        base,
    } = list;
    let status = query
        .get("status")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let statuses = match status {
        None => Vec::new(),
        Some(s) => statuses_of(s).unwrap_or_else(|| {
            checks.fail(
                "status",
                Msg::new(
                    "Kolom status harus salah satu dari: draft, pending, completed.",
                    "The status field must be one of: draft, pending, completed.",
                ),
            );
            Vec::new()
        }),
    };
    checks.done()?;
    let page = state
        .core
        .envelope_page(caller.org, crate::FACE, &statuses, paging)
        .await?;
    let ids: Vec<_> = page.items.iter().map(|e| e.id).collect();
    let mut recipients = state.core.recipients_of(caller.org, &ids).await?;
    let items = page
        .items
        .iter()
        .map(|e| view(e, &recipients.remove(&e.id).unwrap_or_default()))
        .collect();
    let query: Vec<(&str, String)> = status
        .map(|s| ("status", s.to_string()))
        .into_iter()
        .collect();
    Ok(paginated(items, page.total, &paging, base, &query))
}

/// Upload a PDF and create a draft document, optionally with its signers.
#[utoipa::path(post, path = "/api/v1/documents", tag = "alphasign",
    request_body(content = DocumentInput, content_type = "multipart/form-data",
        description = "title*, file* (PDF, max 20 MB), signers[0][name], signers[0][email], …"),
    responses(
        (status = 201, description = "`{\"success\": true, \"data\": Document}` (status draft)", body = Document),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 403, description = "A quota of the plan is used up", body = crate::wire::ErrorBody),
        (status = 422, description = "Missing title or file, not a PDF, over 20 MB, a bad signer", body = crate::wire::ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, AlphasignError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (input, mut files): (DocumentInput, paraf_http::forms::Files) = if is_multipart {
        let (pairs, files) = paraf_http::forms::read_multipart(req, &state, &["file"])
            .await
            .map_err(|e| {
                // Past the server's body limit (axum's multipart reader reports the limit
                // layer's error as a 400 "length limit exceeded").
                if e.status == StatusCode::PAYLOAD_TOO_LARGE || e.detail.contains("length limit") {
                    file_too_large()
                } else {
                    AlphasignError::new(
                        StatusCode::BAD_REQUEST,
                        Msg::new(
                            format!("Isi multipart tidak dapat dibaca: {}.", e.detail),
                            format!("The multipart body could not be read: {}.", e.detail),
                        ),
                    )
                }
            })?;
        let v = paraf_http::forms::bracketed_to_json(pairs, &[]);
        let input = serde_json::from_value(v).map_err(AlphasignError::unexpected_fields)?;
        (input, files)
    } else {
        (
            crate::routes::json_body(req, &state).await?,
            paraf_http::forms::Files::new(),
        )
    };
    let mut c = Checks::default();
    let title = c.required("title", input.title.as_deref(), 255);
    let file = files.remove("file");
    match &file {
        None => c.fail(
            "file",
            Msg::new("Kolom file wajib diisi.", "The file field is required."),
        ),
        Some(f) if f.bytes.len() > MAX_FILE => {
            c.0.entry("file".into())
                .or_default()
                .extend(file_too_large().errors.remove("file").unwrap_or_default());
        }
        Some(f) if !has_pdf_header(&f.bytes) => c.fail(
            "file",
            Msg::new(
                "File harus berupa dokumen PDF.",
                "The file must be a file of type: pdf.",
            ),
        ),
        Some(_) => {}
    }
    let recipients = signers_of(&mut c, input.signers.as_deref().unwrap_or_default());
    c.done()?;
    let Some(file) = file else {
        return Err(AlphasignError::internal("checked above"));
    };
    let user = state.core.user(caller.org, caller.user).await?;
    let file = DraftDocument {
        name: file.name,
        bytes: file.bytes,
    };
    let draft = one_document_draft(title, &user, crate::FACE, file, recipients);
    let e = state
        .core
        .create_envelope(caller.org, draft, &caller.actor)
        .await?;
    let (e, r) = state.core.envelope(caller.org, e.id).await?;
    let doc = detail(&state, &e, &r).await?;
    Ok((StatusCode::CREATED, Json(Success::of(doc))).into_response())
}

/// `signers[i][name|email]`: all in one group (errors named `signers.i.field`).
fn signers_of(c: &mut Checks, list: &[crate::wire::SignerInput]) -> Vec<NewRecipient> {
    if list.len() > MAX_SIGNERS {
        c.fail(
            "signers",
            Msg::new(
                format!("Penandatangan maksimal {MAX_SIGNERS} orang."),
                format!("The signers field must not have more than {MAX_SIGNERS} items."),
            ),
        );
        return Vec::new();
    }
    let mut out: Vec<NewRecipient> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let name = c.required(&format!("signers.{i}.name"), s.name.as_deref(), 200);
        let field = format!("signers.{i}.email");
        let email = c.email(&field, s.email.as_deref());
        let Ok(email) = Email::parse(&email) else {
            continue;
        };
        if out
            .iter()
            .any(|r| r.email.as_str().eq_ignore_ascii_case(email.as_str()))
        {
            c.fail(
                &field,
                Msg::new(
                    "Email penandatangan tidak boleh sama.",
                    "Each signer must have a different email.",
                ),
            );
            continue;
        }
        out.push(document_signer(name, email));
    }
    out
}

/// The full view: the list's plus the file's name, pages and current SHA-256.
async fn detail(
    state: &AppState,
    e: &Envelope,
    r: &[Recipient],
) -> Result<Document, AlphasignError> {
    let mut doc = view(e, r);
    let (documents, _) = state.core.envelope_contents(e).await?;
    if let Some(d) = documents.first() {
        doc.file_name = Some(d.name.clone());
        doc.pages = Some(d.pages);
        doc.sha256 = Some(d.current.as_str().to_string());
    }
    Ok(doc)
}

/// A document with its signers and status.
#[utoipa::path(get, path = "/api/v1/documents/{document}", tag = "alphasign",
    params(("document" = String, Path, description = "The document's uuid (the seed's {id})")),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": Document}`", body = Document),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 404, body = crate::wire::ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AlphasignError> {
    let (e, r) = find(&state, &caller, &id).await?;
    Ok(Json(Success::of(detail(&state, &e, &r).await?)).into_response())
}

/// Send the invitations to every signer: draft → pending.
#[utoipa::path(post, path = "/api/v1/documents/{document}/send", tag = "alphasign",
    params(("document" = String, Path, description = "The document's uuid (the seed's {id})")),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": Document}` (status pending)", body = Document),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 403, description = "The plan's signature quota is used up", body = crate::wire::ErrorBody),
        (status = 404, body = crate::wire::ErrorBody),
        (status = 422, description = "No signers, or not a draft", body = crate::wire::ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AlphasignError> {
    let (e, r) = find(&state, &caller, &id).await?;
    if e.status != EnvelopeStatus::Draft {
        return Err(AlphasignError::invalid(
            "status",
            Msg::new(
                format!("Dokumen sudah dikirim (status {}).", status_word(e.status)),
                format!(
                    "The document has already been sent (status {}).",
                    status_word(e.status)
                ),
            ),
        ));
    }
    if r.is_empty() {
        return Err(AlphasignError::invalid(
            "signers",
            Msg::new(
                "Dokumen belum memiliki penandatangan.",
                "The document has no signers.",
            ),
        ));
    }
    state
        .core
        .send_envelope(caller.org, e.id, &caller.actor)
        .await?;
    let (e, r) = state.core.envelope(caller.org, e.id).await?;
    Ok(Json(Success::of(detail(&state, &e, &r).await?)).into_response())
}

/// The signed PDF, once every signer signed and the document is sealed.
#[utoipa::path(get, path = "/api/v1/documents/{document}/download", tag = "alphasign",
    params(("document" = String, Path, description = "The document's uuid (the seed's {id})")),
    responses(
        (status = 200, description = "The signed PDF", content_type = "application/pdf"),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 404, body = crate::wire::ErrorBody),
        (status = 422, description = "Not completed yet", body = crate::wire::ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AlphasignError> {
    let (e, _) = find(&state, &caller, &id).await?;
    if e.status != EnvelopeStatus::Completed {
        return Err(AlphasignError::invalid(
            "status",
            Msg::new(
                format!(
                    "Dokumen belum selesai ditandatangani (status {}).",
                    status_word(e.status)
                ),
                format!(
                    "The document is not signed by everyone yet (status {}).",
                    status_word(e.status)
                ),
            ),
        ));
    }
    let (documents, _) = state.core.envelope_contents(&e).await?;
    let Some(first) = documents.first() else {
        return Err(AlphasignError::internal(
            "a completed envelope without a document",
        ));
    };
    let file = state.core.document_reader(first, true).await?;
    let name: String = e
        .header
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let disposition = format!("attachment; filename=\"{name}.pdf\"");
    let mut resp = paraf_http::files::streamed(file);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Delete a draft; pending and completed documents cannot be deleted.
#[utoipa::path(delete, path = "/api/v1/documents/{document}", tag = "alphasign",
    params(("document" = String, Path, description = "The document's uuid (the seed's {id})")),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": {\"id\", \"deleted\": true}}`", body = Deleted),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 404, body = crate::wire::ErrorBody),
        (status = 422, description = "Not a draft", body = crate::wire::ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AlphasignError> {
    let (e, _) = find(&state, &caller, &id).await?;
    let refused = |e: &Envelope| {
        AlphasignError::invalid(
            "status",
            Msg::new(
                format!(
                    "Hanya dokumen draft yang bisa dihapus; dokumen ini {}.",
                    status_word(e.status)
                ),
                format!(
                    "Only draft documents can be deleted; this one is {}.",
                    status_word(e.status)
                ),
            ),
        )
    };
    if e.status != EnvelopeStatus::Draft {
        return Err(refused(&e));
    }
    match state
        .core
        .delete_draft(caller.org, e.id, &caller.actor)
        .await
    {
        Ok(()) => {}
        Err(err)
            if err
                .domain()
                .is_some_and(|d| matches!(d, paraf_core::domain::DomainError::Conflict { .. })) =>
        {
            // Sent in the meantime.
            let (now, _) = state.core.envelope(caller.org, e.id).await?;
            return Err(refused(&now));
        }
        Err(err) => return Err(err.into()),
    }
    Ok(Json(Success::of(Deleted {
        id: e.uuid,
        deleted: true,
    }))
    .into_response())
}
