//! The parts of an envelope: its documents, its recipients (by group) and its fields — read
//! at any time, changed while it is a draft (the whole part at once, so a client never
//! leaves a draft half changed) — and a recipient's signing link while they may sign.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use paraf_http::state::AppState;
use serde::Deserialize;

use crate::envelopes::{
    body_of, core_refusal, documents_of, edit_draft, fields_of, invalid, ok, recipients_of, view,
    Owned,
};
use crate::reply::{Msg, Reply};
use crate::wire::*;

/// An envelope's documents.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/documents", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the documents", body = Vec<DocumentOut>)))]
pub async fn documents(State(state): State<AppState>, o: Owned) -> Response {
    let lang = o.lang;
    let (e, r) = (&o.e, &o.recipients);
    match view(&state, lang, e, r).await {
        Ok(v) => ok(lang, &v.documents),
        Err(r) => r,
    }
}

/// Adds documents to a draft (after those it has).
#[utoipa::path(post, path = "/ext/v1/envelopes/{id}/documents", tag = "ext",
    request_body = Vec<DocumentIn>,
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the draft", body = EnvelopeOut),
        (status = 400, description = "INVALID_FIELD: documents[n].content or url"),
        (status = 409, description = "CONFLICT: not a draft")))]
pub async fn add_documents(State(state): State<AppState>, o: Owned, body: Bytes) -> Response {
    let lang = o.lang;
    let list: Vec<DocumentIn> = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if list.is_empty() {
        return invalid(lang, "documents", "at least one is needed").into_response();
    }
    // A draft only, checked before anything is fetched; then fetched before the draft is
    // changed: nothing is changed if one cannot be had.
    let e = &o.e;
    if let Err(r) = crate::envelopes::draft_only(&o) {
        return r.into_response();
    }
    let have = match state.core.envelope_contents(e).await {
        Ok((d, _)) => d.len(),
        Err(err) => return core_refusal(lang, err),
    };
    let new = match documents_of(&state, lang, list, have).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    edit_draft(&state, &o, move |d, _| {
        d.documents.extend(new);
        Ok(())
    })
    .await
}

/// `GET …/documents/{position}` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// `current` (default) or `original`.
    pub version: Option<String>,
}

/// One document's PDF.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/documents/{position}", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id"),
        ("position" = u32, Path, description = "1-based"), VersionQuery),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 404, description = "NOT_FOUND")))]
pub async fn document(
    State(state): State<AppState>,
    o: Owned,
    Path((_, position)): Path<(String, u32)>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let one = crate::envelopes::DownloadQuery {
        document: Some(position),
        version: q.version,
    };
    crate::envelopes::download(State(state), o, Query(one)).await
}

/// Removes a document from a draft (its fields go with it; later documents move up).
#[utoipa::path(delete, path = "/ext/v1/envelopes/{id}/documents/{position}", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id"),
        ("position" = u32, Path, description = "1-based")),
    responses((status = 200, description = "data: the draft", body = EnvelopeOut),
        (status = 404, description = "NOT_FOUND"), (status = 409, description = "CONFLICT: not a draft")))]
pub async fn remove_document(
    State(state): State<AppState>,
    o: Owned,
    Path((_, position)): Path<(String, u32)>,
) -> Response {
    let lang = o.lang;
    edit_draft(&state, &o, move |d, _| {
        let i = usize::try_from(position)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .filter(|i| *i < d.documents.len())
            .ok_or_else(|| Reply::err(lang, Msg::NotFound))?;
        d.documents.remove(i);
        d.fields.retain(|f| f.document != i);
        for f in &mut d.fields {
            if f.document > i {
                f.document -= 1;
            }
        }
        Ok(())
    })
    .await
}

/// An envelope's recipients, by group.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/recipients", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the groups", body = Vec<GroupOut>)))]
pub async fn recipients(State(state): State<AppState>, o: Owned) -> Response {
    let lang = o.lang;
    let (e, r) = (&o.e, &o.recipients);
    match view(&state, lang, e, r).await {
        Ok(v) => ok(lang, &v.groups),
        Err(r) => r,
    }
}

/// Replaces a draft's recipients (hand-placed fields keep their recipient positions: a field
/// naming a recipient no longer there is refused — replace the fields too).
#[utoipa::path(put, path = "/ext/v1/envelopes/{id}/recipients", tag = "ext",
    request_body = Vec<RecipientIn>,
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the draft", body = EnvelopeOut),
        (status = 400, description = "INVALID_FIELD: recipients[n].…"),
        (status = 409, description = "CONFLICT: not a draft")))]
pub async fn put_recipients(State(state): State<AppState>, o: Owned, body: Bytes) -> Response {
    let lang = o.lang;
    let list: Vec<RecipientIn> = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let new = match recipients_of(lang, list) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    edit_draft(&state, &o, move |d, _| {
        d.recipients = new;
        Ok(())
    })
    .await
}

/// An envelope's fields.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/fields", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the fields", body = Vec<FieldOut>)))]
pub async fn fields(State(state): State<AppState>, o: Owned) -> Response {
    let lang = o.lang;
    let (e, r) = (&o.e, &o.recipients);
    match view(&state, lang, e, r).await {
        Ok(v) => ok(lang, &v.fields),
        Err(r) => r,
    }
}

/// Replaces a draft's fields; an empty list places them again from the documents' tags (or
/// summary pages).
#[utoipa::path(put, path = "/ext/v1/envelopes/{id}/fields", tag = "ext",
    request_body = Vec<FieldIn>,
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the draft", body = EnvelopeOut),
        (status = 400, description = "INVALID_FIELD: fields[n].…"),
        (status = 409, description = "CONFLICT: not a draft")))]
pub async fn put_fields(State(state): State<AppState>, o: Owned, body: Bytes) -> Response {
    let lang = o.lang;
    let list: Vec<FieldIn> = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let given = !list.is_empty();
    edit_draft(&state, &o, move |d, _| {
        d.fields = fields_of(lang, list, d.documents.len(), d.recipients.len())?;
        crate::envelopes::set_placement(&mut d.header.options, given);
        Ok(())
    })
    .await
}

/// A recipient's signing link, to hand out (embedded signing): while the envelope takes
/// signatures, once the recipient's group has its turn and until they answer.
#[utoipa::path(post, path = "/ext/v1/envelopes/{id}/recipients/{position}/link", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id"),
        ("position" = u32, Path, description = "The recipient's 1-based position")),
    responses((status = 200, description = "data: the link", body = LinkOut),
        (status = 404, description = "NOT_FOUND"),
        (status = 409, description = "CONFLICT: not their turn, answered, or the envelope is closed")))]
pub async fn link(
    State(state): State<AppState>,
    o: Owned,
    Path((_, position)): Path<(String, u32)>,
) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let (e, recipients) = (&o.e, &o.recipients);
    let Some(r) = recipients.iter().find(|r| r.position == position) else {
        return Reply::err(lang, Msg::NotFound).into_response();
    };
    match state
        .core
        .recipient_link(s.p.org, e.id, r.id, &s.actor)
        .await
    {
        Ok(url) => crate::reply::given_once(ok(
            lang,
            &LinkOut {
                recipient: r.position,
                email: r.email.as_str().into(),
                url,
            },
        )),
        Err(err) => core_refusal(lang, err),
    }
}
