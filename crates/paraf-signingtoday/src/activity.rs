//! What happens around a DST: notes (`/DST/{id}/note`), the trail (`/DST/{id}/audit`, the
//! seed's event names read from the envelope's hash-chained audit records) and reminders
//! (`/DST/{id}/notify`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{EnvelopeNote, Recipient};
use paraf_http::state::AppState;
use serde_json::Value;

use crate::dsts::Found;
use crate::error::StError;
use crate::plan::{plan_of, Plan};
use crate::wire::{AuditRecord, DstNote, DstPath, NoteInput, Refused, SignerRecord};
use crate::{time, user_uuid, Caller};

fn note_view(dst: &str, n: &EnvelopeNote) -> DstNote {
    DstNote {
        id: n.id,
        dst_id: dst.to_string(),
        user_id: n.user.map(user_uuid),
        created_at: time(n.created_at),
        text: n.text.clone(),
    }
}

fn note_text(body: &[u8]) -> Result<String, StError> {
    let input: NoteInput = serde_json::from_slice(body)
        .map_err(|e| StError::invalid("body", format!("the body is not a note ({e})")))?;
    input
        .text
        .ok_or_else(|| StError::invalid("text", "text is required"))
}

fn note_id(raw: &str) -> Result<i64, StError> {
    raw.parse()
        .map_err(|_| StError::not_found("noteId", "note"))
}

/// The DST's notes, oldest first.
#[utoipa::path(get, path = "/api/DST/{id}/note", tag = "signingtoday",
    params(DstPath),
    responses((status = 200, body = [DstNote]), Refused))]
pub async fn notes(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
) -> Result<Response, StError> {
    let list = state.core.notes(caller.org, e.id).await?;
    let out: Vec<DstNote> = list.iter().map(|n| note_view(&e.uuid, n)).collect();
    Ok(Json(out).into_response())
}

/// Writes a note (`{"text": …}`, 1 … 4000 characters).
#[utoipa::path(post, path = "/api/DST/{id}/note", tag = "signingtoday",
    params(DstPath), request_body(content = NoteInput, content_type = "application/json"),
    responses((status = 200, body = DstNote), Refused))]
pub async fn add_note(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let text = note_text(&body)?;
    let n = state
        .core
        .add_note(caller.org, e.id, Some(caller.user), &text, &caller.actor)
        .await?;
    Ok(Json(note_view(&e.uuid, &n)).into_response())
}

/// Changes a note's text (the body is the whole `DSTNote`; only `text` is read).
#[utoipa::path(put, path = "/api/DST/{id}/note/{noteId}", tag = "signingtoday",
    params(
        ("id" = String, Path, description = "The DST's UUID"),
        ("noteId" = i64, Path, description = "The note's id"),
    ),
    request_body(content = NoteInput, content_type = "application/json"),
    responses((status = 200, body = DstNote), Refused))]
pub async fn change_note(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    Path((_, note)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let note = note_id(&note)?;
    own_note(&state, &caller, &e, note).await?;
    let text = note_text(&body)?;
    let n = state
        .core
        .change_note(caller.org, e.id, note, &text, &caller.actor)
        .await?;
    Ok(Json(note_view(&e.uuid, &n)).into_response())
}

/// Deletes a note.
#[utoipa::path(delete, path = "/api/DST/{id}/note/{noteId}", tag = "signingtoday",
    params(
        ("id" = String, Path, description = "The DST's UUID"),
        ("noteId" = i64, Path, description = "The note's id"),
    ),
    responses((status = 204, description = "Deleted"), Refused))]
pub async fn delete_note(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    Path((_, note)): Path<(String, String)>,
) -> Result<Response, StError> {
    let note = note_id(&note)?;
    own_note(&state, &caller, &e, note).await?;
    state
        .core
        .delete_note(caller.org, e.id, note, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Refuses unless the caller wrote note `id` or may change the DST (an unknown note is left
/// to the core's "not found").
async fn own_note(
    state: &AppState,
    caller: &crate::Caller,
    e: &paraf_core::domain::Envelope,
    id: i64,
) -> Result<(), StError> {
    let notes = state.core.notes(caller.org, e.id).await?;
    match notes.iter().find(|n| n.id == id) {
        Some(n) if n.user != Some(caller.user) => caller.may_change(e),
        _ => Ok(()),
    }
}

/// Reminds the signers whose turn it is (by mail unless `extraData.email_disabled`).
#[utoipa::path(post, path = "/api/DST/{id}/notify", tag = "signingtoday",
    params(DstPath),
    responses((status = 204, description = "The pending signers were notified"), Refused))]
pub async fn notify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    crate::dsts::act(&state, &caller, &id, crate::dsts::Act::Remind).await
}

/// The seed's events for one record of the trail (none for steps it has no name for).
fn events_of(action: &str) -> &'static [&'static str] {
    match action {
        "envelope.sent" => &["event_published", "stage_to_sign"],
        "field.filled" => &["event_form_fill"],
        "recipient.signed" => &["event_signature"],
        "recipient.declined" => &["event_rejection", "stage_rejected"],
        "recipient.replaced" | "recipient.delegated" => &["event_replacement"],
        "recipient.reminded" => &["event_solicitation"],
        "note.added" => &["event_note_add"],
        "note.changed" => &["event_note_modify"],
        "note.deleted" => &["event_note_delete"],
        "envelope.expired" => &["stage_expired"],
        "envelope.completed" => &["stage_signed"],
        _ => &[],
    }
}

/// The signer a record is about, its first document and signature request.
fn signer_of(
    plan: &Plan,
    recipients: &[Recipient],
    position: u32,
) -> (Option<SignerRecord>, Option<i64>, Option<i64>) {
    let Some(r) = recipients.iter().find(|r| r.position == position) else {
        return (None, None, None);
    };
    let mut role = None;
    let mut user = None;
    let mut place = (None, None);
    for d in &plan.documents {
        let Some((sid, _)) = d.recipients.iter().find(|(_, p)| *p == position) else {
            continue;
        };
        if let Some(s) = d
            .signer_groups
            .iter()
            .flat_map(|g| &g.signers)
            .find(|s| s.id == Some(*sid))
        {
            role = role.or_else(|| s.role.clone());
            user = user.or_else(|| s.user_uuid.clone());
        }
        if place.0.is_none() {
            let request = d
                .signature_requests
                .iter()
                .enumerate()
                .find(|(_, q)| q.signer_id.unwrap_or(0) == *sid)
                .map(|(k, q)| q.id.unwrap_or(k as i64));
            place = (Some(d.id), request);
        }
    }
    let record = SignerRecord {
        name: r.first_name.clone(),
        surname: r.last_name.clone(),
        email: r.email.as_str().to_string(),
        role,
        user_uuid: user,
    };
    (Some(record), place.0, place.1)
}

/// The DST's trail, oldest first, in the seed's event names.
#[utoipa::path(get, path = "/api/DST/{id}/audit", tag = "signingtoday",
    params(DstPath),
    responses((status = 200, body = [AuditRecord]), Refused))]
pub async fn audit(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
) -> Result<Response, StError> {
    let plan = plan_of(&e);
    let (_, recipients) = state.core.envelope(caller.org, e.id).await?;
    let trail = state.core.envelope_trail(caller.org, e.id).await?;
    let mut out = Vec::new();
    for rec in &trail {
        let details: Value = serde_json::from_str(&rec.details).unwrap_or(Value::Null);
        let position = details
            .get("recipient")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok());
        let (signer, document, request) = match position {
            Some(p) => signer_of(&plan, &recipients, p),
            None => (None, None, None),
        };
        let note = details.get("note").and_then(Value::as_i64);
        let field = details.get("form").and_then(Value::as_i64);
        for event in events_of(&rec.action) {
            let who = match &signer {
                Some(s) => format!("{} {} <{}>", s.name, s.surname, s.email),
                None => rec.actor.clone(),
            };
            out.push(AuditRecord {
                instance_id: rec.seq,
                at: time(rec.at),
                event: (*event).to_string(),
                signer: signer.clone(),
                value: format!("{} ({who}) — DST \"{}\"", rec.action, e.header.title),
                dst_id: e.uuid.clone(),
                document_id: document.or_else(|| details.get("document").and_then(Value::as_i64)),
                fillable_form_id: field,
                signature_request_id: request,
                note_id: note,
            });
        }
    }
    Ok(Json(out).into_response())
}
