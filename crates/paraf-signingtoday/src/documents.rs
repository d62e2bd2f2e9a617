//! A draft's documents changed one at a time: added (`PATCH /DST/{id}/resources`), removed
//! (`DELETE /DST/resource/{id}`), swapped (`POST /DST/{id}/doc/{docId}/swap`), replaced
//! (`POST /DST/{id}/doc/{docId}/resource`, `actionType` `replace` or `clone_and_replace`), and
//! a resource's title or file name changed (`PUT /resource/{id}`).
//!
//! Each edit rewrites the draft from its plan (`PUT /DST/{id}` underneath): the documents
//! keep their forms and signers; their resource ids are new afterwards (the reply shows them).

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use paraf_core::domain::{Envelope, EnvelopeStatus};
use paraf_core::drafts::EnvelopeCopy;
use paraf_http::state::AppState;
use serde_json::Value;

use crate::dsts::{dst_of, find, Found};
use crate::error::StError;
use crate::plan::{self, plan_of};
use crate::wire::{DocumentInput, DstInput, DstPath, Refused, ResourceInput, SourceInput};
use crate::Caller;

/// The DST input that makes draft `e` again (each document by its current resource).
async fn input_of(state: &AppState, e: &Envelope) -> Result<DstInput, StError> {
    let plan = plan_of(e);
    let (docs, _) = state.core.envelope_contents(e).await?;
    let mut documents = Vec::new();
    for (i, pd) in plan.documents.iter().enumerate() {
        let Some(d) = docs.iter().find(|d| d.position as usize == i + 1) else {
            continue;
        };
        documents.push(DocumentInput {
            id: Some(pd.id),
            plain_document_uuid: Some(d.uuid.clone()),
            resource: None,
            forms: pd.forms.clone(),
            signature_requests: pd.signature_requests.clone(),
            signer_groups: pd.signer_groups.clone(),
            extra_data: Some(pd.extra_data.clone()),
        });
    }
    Ok(DstInput {
        title: Some(e.header.title.clone()),
        documents,
        status: None,
        expires_at: e.header.expires_at.map(crate::time),
        tags: Some(plan.tags),
        template: Some(e.header.template),
        public_template: Some(plan.public_template),
        extra_data: Some(plan.extra_data),
        visible_to: Some(plan.visible_to),
        cc_groups: Some(plan.cc_groups),
        cc_users: Some(plan.cc_users),
        urgent: Some(plan.urgent),
    })
}

/// Rewrites draft `e` after `edit` changed its input; the DST as it then is.
async fn edit_draft(
    state: &AppState,
    caller: &Caller,
    e: &Envelope,
    edit: impl FnOnce(&mut DstInput) -> Result<(), StError>,
) -> Result<Response, StError> {
    caller.may_change(e)?;
    if e.status != EnvelopeStatus::Draft {
        return Err(StError::illegal_status(
            "documents change only on a draft: modify the DST first",
        ));
    }
    let mut input = input_of(state, e).await?;
    edit(&mut input)?;
    let template = e.header.template;
    let mut made = plan::make(state, caller.org, caller.user, &input, false).await?;
    made.draft.header.template = template;
    let e = state
        .core
        .replace_draft(caller.org, e.id, made.draft, &caller.actor)
        .await?;
    Ok(Json(dst_of(state, &e).await?).into_response())
}

/// An uploaded PDF as a document resource.
fn embedded(name: &str, title: Option<String>, bytes: &[u8]) -> ResourceInput {
    ResourceInput {
        filename: Some(name.to_string()),
        resource_type: None,
        title,
        source: Some(SourceInput {
            kind: Some("Embedded".into()),
            embedded_data: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            source_url: None,
        }),
    }
}

/// The multipart body of a resource upload: `file`, `filename`, `resourceType`
/// (`PDF_Document`), `title`, and the other fields.
struct Upload {
    name: String,
    title: Option<String>,
    bytes: Vec<u8>,
    fields: Vec<(String, String)>,
}

/// A multipart body's text fields and its required `file` part (the dialect's uploads).
pub(crate) async fn file_part(
    state: &AppState,
    req: Request,
) -> Result<(Vec<(String, String)>, paraf_http::forms::Upload), StError> {
    let (fields, mut files) = paraf_http::forms::read_multipart(req, state, &["file"])
        .await
        .map_err(|e| StError::new(e.status, e.detail, Some("body")))?;
    let file = files
        .remove("file")
        .ok_or_else(|| StError::invalid("file", "the file is required (a multipart part)"))?;
    Ok((fields, file))
}

/// The text of multipart field `k`, trimmed (`None` when absent or empty).
pub(crate) fn form_field(fields: &[(String, String)], k: &str) -> Option<String> {
    fields
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn upload(state: &AppState, req: Request) -> Result<Upload, StError> {
    let (fields, file) = file_part(state, req).await?;
    let field = |k: &str| form_field(&fields, k);
    if field("resourceType").is_some_and(|t| t != "PDF_Document") {
        return Err(StError::invalid(
            "resourceType",
            "resourceType must be PDF_Document",
        ));
    }
    Ok(Upload {
        name: field("filename").unwrap_or(file.name),
        title: field("title"),
        bytes: file.bytes,
        fields,
    })
}

/// The plan index of document `doc_id` of `input`.
fn doc_index(input: &DstInput, doc_id: &str, target: &str) -> Result<usize, StError> {
    let id: i64 = doc_id
        .trim()
        .parse()
        .map_err(|_| StError::not_found(target, "document"))?;
    input
        .documents
        .iter()
        .enumerate()
        .position(|(i, d)| d.id.unwrap_or(i as i64) == id)
        .ok_or_else(|| StError::not_found(target, "document"))
}

/// Adds a document (a PDF) to a draft.
#[utoipa::path(patch, path = "/api/DST/{id}/resources", tag = "signingtoday", params(DstPath),
    request_body(content_type = "multipart/form-data", description = "file, filename, resourceType (PDF_Document), title, extraData (JSON)"),
    responses((status = 200, body = crate::wire::Dst), Refused))]
pub async fn add(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    req: Request,
) -> Result<Response, StError> {
    let u = upload(&state, req).await?;
    let extra: Option<Value> = match u.fields.iter().find(|(k, _)| k == "extraData") {
        Some((_, v)) if !v.trim().is_empty() => Some(
            serde_json::from_str(v)
                .map_err(|_| StError::invalid("extraData", "extraData must be JSON"))?,
        ),
        _ => None,
    };
    edit_draft(&state, &caller, &e, |input| {
        let next = input
            .documents
            .iter()
            .filter_map(|d| d.id)
            .max()
            .map_or(0, |m| m + 1);
        input.documents.push(DocumentInput {
            id: Some(next),
            resource: Some(embedded(&u.name, u.title.clone(), &u.bytes)),
            extra_data: extra,
            ..DocumentInput::default()
        });
        Ok(())
    })
    .await
}

/// Removes a document from a draft (by its resource id).
#[utoipa::path(delete, path = "/api/DST/resource/{id}", tag = "signingtoday",
    params(("id" = String, Path, description = "The resource's UUID")),
    responses((status = 200, body = crate::wire::Dst), Refused))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    if !crate::is_uuid(&id) {
        return Err(StError::not_found("id", "resource"));
    }
    let (e, doc, _) = state.core.document_named(caller.org, &id).await?;
    let e = find(&state, &caller, &e.uuid).await?;
    edit_draft(&state, &caller, &e, |input| {
        let k = input
            .documents
            .iter()
            .position(|d| d.plain_document_uuid.as_deref() == Some(doc.uuid.as_str()))
            .ok_or_else(|| StError::not_found("id", "resource"))?;
        input.documents.remove(k);
        Ok(())
    })
    .await
}

/// `?targetDocId=…`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct SwapQuery {
    /// The document to swap places with.
    #[serde(rename = "targetDocId")]
    pub target_doc_id: Option<String>,
}

/// Swaps two documents of a draft.
#[utoipa::path(post, path = "/api/DST/{id}/doc/{docId}/swap", tag = "signingtoday",
    params(DstPath, ("docId" = i64, Path, description = "The document to swap"), SwapQuery),
    responses((status = 200, body = crate::wire::Dst), Refused))]
pub async fn swap(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    Path((_, doc_id)): Path<(String, String)>,
    Query(q): Query<SwapQuery>,
) -> Result<Response, StError> {
    let target = q
        .target_doc_id
        .ok_or_else(|| StError::invalid("targetDocId", "targetDocId is required"))?;
    edit_draft(&state, &caller, &e, |input| {
        let a = doc_index(input, &doc_id, "docId")?;
        let b = doc_index(input, &target, "targetDocId")?;
        input.documents.swap(a, b);
        Ok(())
    })
    .await
}

/// Replaces a document's PDF (its forms and signers stay): in the draft (`actionType`
/// `replace`), or in a copy of the DST (`clone_and_replace`, any state: the copy is a draft).
#[utoipa::path(post, path = "/api/DST/{id}/doc/{docId}/resource", tag = "signingtoday",
    params(DstPath, ("docId" = i64, Path, description = "The document to replace")),
    request_body(content_type = "multipart/form-data", description = "file, filename, resourceType (PDF_Document), title, actionType (replace, clone_and_replace)"),
    responses((status = 200, body = crate::wire::Dst), Refused))]
pub async fn replace_file(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    Path((_, doc_id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, StError> {
    let u = upload(&state, req).await?;
    let action = u
        .fields
        .iter()
        .find(|(k, _)| k == "actionType")
        .map_or("replace", |(_, v)| v.trim());
    let e = match action {
        "replace" => e,
        "clone_and_replace" => {
            caller.sends()?;
            let copy = EnvelopeCopy {
                template: e.header.template,
                options: Some(e.header.options.clone()),
                ..EnvelopeCopy::default()
            };
            state
                .core
                .copy_envelope(caller.org, e.id, copy, &caller.actor)
                .await?
        }
        other => {
            return Err(StError::invalid(
                "actionType",
                format!("actionType {other:?} is not replace or clone_and_replace"),
            ))
        }
    };
    edit_draft(&state, &caller, &e, |input| {
        let k = doc_index(input, &doc_id, "docId")?;
        let d = &mut input.documents[k];
        d.plain_document_uuid = None;
        d.resource = Some(embedded(&u.name, u.title.clone(), &u.bytes));
        Ok(())
    })
    .await
}

/// A resource's metadata: its `title` (the other fields are read-only and ignored): 204.
#[utoipa::path(put, path = "/api/resource/{id}", tag = "signingtoday",
    params(("id" = String, Path, description = "The resource's UUID")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 204, description = "Saved"), Refused))]
pub async fn describe(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    if !crate::is_uuid(&id) {
        return Err(StError::not_found("id", "resource"));
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is not JSON ({e})")))?;
    let (e, doc, _) = state.core.document_named(caller.org, &id).await?;
    let e = find(&state, &caller, &e.uuid).await?;
    caller.may_change(&e)?;
    let mut plan = plan_of(&e);
    let Some(pd) = plan
        .documents
        .get_mut(doc.position.saturating_sub(1) as usize)
    else {
        return Err(StError::not_found("id", "resource"));
    };
    match v.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => pd.title = t.trim().to_string(),
        None | Some(Value::Null) => {}
        Some(_) => return Err(StError::invalid("title", "title must be a non-empty text")),
    }
    let mut options = e.header.options.clone();
    if let Some(o) = options.as_object_mut() {
        o.insert(
            plan::PLAN_KEY.into(),
            serde_json::to_value(&plan).map_err(StError::internal)?,
        );
    }
    state.core.keep_options(&e, options).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
