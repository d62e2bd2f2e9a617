//! `/console/documents`: the organisation's documents as Alphasign's web app shows them — the
//! newest fifty with their signers and status, a new document (title, PDF, up to five signers;
//! the address book is offered for each signer's e-mail, and a signer whose name is left empty
//! takes the contact's), sending a draft; and the address book (`/console/contacts`: add a
//! contact). Through the core like `/api/v1/documents` and `/api/v1/contacts`.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use paraf_core::domain::{Email, EnvelopeId, NewRecipient, RecipientStatus};
use paraf_core::envelopes::DraftDocument;
use paraf_core::library::{document_signer, one_document_draft, public_status, Paging};
use serde::Deserialize;

use super::html::{self, Nav};
use super::{
    internal, not_found, see_other, user_message, ActionForm, Done, Session, SessionForm, WithCsrf,
};
use paraf_http::state::AppState;

/// The face of documents made here (they are Alphasign's documents).
const FACE: &str = "alphasign";
/// Signer rows of the form.
const SIGNER_ROWS: usize = 5;
/// Largest PDF (as `/api/v1/documents`).
const MAX_FILE: usize = 20 * 1024 * 1024;

const DONE: [(&str, &str); 3] = [
    ("created", "Dokumen dibuat sebagai draft."),
    ("sent", "Undangan tanda tangan dikirim."),
    ("contact", "Kontak ditambahkan."),
];

struct DocRow {
    id: i64,
    title: String,
    status: &'static str,
    signers: String,
    created: String,
    send: Option<String>,
}

struct ContactRow {
    name: String,
    email: String,
    phone: String,
    company: String,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsPage<'a> {
    notice: Option<(bool, String)>,
    csrf: &'a str,
    docs: Vec<DocRow>,
    contacts: Vec<ContactRow>,
    rows: Vec<usize>,
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    notice: Option<(bool, String)>,
) -> Response {
    let org = session.org.id;
    let paging = Paging {
        page: 1,
        per_page: 50,
    };
    let page = match state.core.envelope_page(org, FACE, &[], paging).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let ids: Vec<EnvelopeId> = page.items.iter().map(|e| e.id).collect();
    let mut recipients = match state.core.recipients_of(org, &ids).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let docs = page
        .items
        .iter()
        .map(|e| {
            let rs = recipients.remove(&e.id).unwrap_or_default();
            let signers = rs
                .iter()
                .map(|r| {
                    let mark = if r.status == RecipientStatus::Signed {
                        " ✓"
                    } else {
                        ""
                    };
                    format!("{}{mark}", r.full_name())
                })
                .collect::<Vec<_>>()
                .join(", ");
            let draft = public_status(e.status) == "draft";
            DocRow {
                id: e.id.0,
                title: e.header.title.clone(),
                status: public_status(e.status),
                signers,
                created: html::time(e.created_at),
                send: (draft && !rs.is_empty())
                    .then(|| format!("/console/documents/{}/send", e.id.0)),
            }
        })
        .collect();
    let contacts = match state.core.contacts(org).await {
        Ok(c) => c
            .into_iter()
            .map(|c| ContactRow {
                name: c.name.as_str().to_string(),
                email: c.email.as_str().to_string(),
                phone: c.phone.unwrap_or_default(),
                company: c.company.unwrap_or_default(),
            })
            .collect(),
        Err(e) => return internal(e),
    };
    let page = DocumentsPage {
        notice,
        csrf: &session.csrf,
        docs,
        contacts,
        rows: (0..SIGNER_ROWS).collect(),
    };
    let body = crate::render::fragment(&page);
    session.page(status, "Dokumen", Nav::Documents, &body)
}

/// `GET /console/documents`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    render(&state, &session, StatusCode::OK, q.notice(&DONE)).await
}

/// Why a new document was refused (shown above the form).
async fn refused(state: &AppState, session: &Session, message: String) -> Response {
    render(
        state,
        session,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some((false, message)),
    )
    .await
}

/// `POST /console/documents` (multipart: `csrf`, `title`, `file`, `signer_name_N`,
/// `signer_email_N`): a draft.
pub async fn create(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let session = match Session::from_request_parts(&mut parts, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let req = Request::from_parts(parts, body);
    let Ok((pairs, mut files)) = paraf_http::forms::read_multipart(req, &state, &["file"]).await
    else {
        return refused(&state, &session, "Formulir tidak dapat dibaca.".into()).await;
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if let Some(r) = session.csrf_refusal(Some(&field("csrf"))) {
        return r;
    }
    let title = field("title");
    if title.is_empty() || title.chars().count() > 255 {
        return refused(
            &state,
            &session,
            "Judul wajib diisi (maksimal 255 karakter).".into(),
        )
        .await;
    }
    let Some(file) = files.remove("file") else {
        return refused(&state, &session, "Pilih file PDF.".into()).await;
    };
    if file.bytes.len() > MAX_FILE || !paraf_core::documents::has_pdf_header(&file.bytes) {
        return refused(
            &state,
            &session,
            "File harus berupa PDF, maksimal 20 MB.".into(),
        )
        .await;
    }
    let contacts = match state.core.contacts(session.org.id).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let mut recipients: Vec<NewRecipient> = Vec::new();
    for i in 0..SIGNER_ROWS {
        let (email, mut name) = (
            field(&format!("signer_email_{i}")),
            field(&format!("signer_name_{i}")),
        );
        if email.is_empty() && name.is_empty() {
            continue;
        }
        let Ok(email) = Email::parse(&email) else {
            return refused(
                &state,
                &session,
                format!("Email penandatangan {} tidak valid.", i + 1),
            )
            .await;
        };
        if name.is_empty() {
            // The address book's name for this e-mail.
            name = contacts
                .iter()
                .find(|c| c.email.as_str().eq_ignore_ascii_case(email.as_str()))
                .map(|c| c.name.as_str().to_string())
                .unwrap_or_default();
        }
        if name.is_empty() {
            return refused(
                &state,
                &session,
                format!("Nama penandatangan {} wajib diisi.", i + 1),
            )
            .await;
        }
        if recipients
            .iter()
            .any(|r| r.email.as_str().eq_ignore_ascii_case(email.as_str()))
        {
            return refused(
                &state,
                &session,
                format!("Email penandatangan {} sudah dipakai.", i + 1),
            )
            .await;
        }
        recipients.push(document_signer(name, email));
    }
    let file = DraftDocument {
        name: file.name,
        bytes: file.bytes,
    };
    let draft = one_document_draft(title, &session.user, FACE, file, recipients);
    match state
        .core
        .create_envelope(session.org.id, draft, &session.actor())
        .await
    {
        Ok(_) => see_other("/console/documents?done=created"),
        Err(e) => refused(&state, &session, user_message(&e)).await,
    }
}

/// `POST /console/documents/{id}/send`.
pub async fn send(State(state): State<AppState>, form: ActionForm) -> Response {
    let session = form.session;
    match state
        .core
        .send_envelope(session.org.id, EnvelopeId(form.id), &session.actor())
        .await
    {
        Ok(_) => see_other("/console/documents?done=sent"),
        Err(e) if e.is_not_found() => not_found(&session),
        Err(e) => refused(&state, &session, user_message(&e)).await,
    }
}

impl WithCsrf for ContactForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The "new contact" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    name: String,
    email: String,
    phone: String,
    company: String,
    csrf: Option<String>,
}

/// `POST /console/contacts`.
pub async fn add_contact(
    State(state): State<AppState>,
    SessionForm { session, form: f }: SessionForm<ContactForm>,
) -> Response {
    let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    match state
        .core
        .create_contact(
            session.org.id,
            &f.name,
            &f.email,
            opt(&f.phone).as_deref(),
            opt(&f.company).as_deref(),
            &session.actor(),
        )
        .await
    {
        Ok(_) => see_other("/console/documents?done=contact"),
        Err(e) => refused(&state, &session, user_message(&e)).await,
    }
}
