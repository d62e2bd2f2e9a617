//! `/DSTs` and `/DST/{id}`: list (OData-style parameters), create (`POST /DSTs`, and
//! `POST /robot/DSTs` for service accounts), read, delete (soft), publish, and the signing
//! address of a signature request.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{
    Capability, Envelope, EnvelopeFilter, EnvelopeOrder, EnvelopeQuery, EnvelopeStatus,
};
use paraf_http::state::AppState;

use crate::error::StError;
use crate::odata::{Expr, Op};
use crate::plan::{self, Live};
use crate::wire::{Dst, DstInput, DstList, DstPath, Refused, SigningAddress};
use crate::{is_uuid, user_of_uuid, Caller};

/// Most DSTs a list returns (`$top`), and its default.
pub const MAX_TOP: u32 = 100;

/// The caller's DST `id`; another organisation's, another face's, a deleted or a malformed
/// id is "not found"; one of the organisation the caller may not see (they neither made it
/// nor take part in it, and lack `dst.list.all`) is "forbidden".
pub(crate) async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Envelope, StError> {
    if !is_uuid(id) {
        return Err(StError::not_found("id", "DST"));
    }
    let (e, recipients) = state.core.envelope_by_uuid(caller.org, id).await?;
    if e.header.face != crate::FACE || e.deleted_at.is_some() {
        return Err(StError::not_found("id", "DST"));
    }
    if !paraf_core::people::may_see(&caller.me, &e, &recipients) {
        return Err(StError::forbidden(
            "the user is not allowed to see this DST (they neither made it nor take part in it)",
        ));
    }
    Ok(e)
}

/// The caller and their DST named by the path's `{id}` (404 for anyone else's).
pub struct Found {
    pub caller: Caller,
    pub dst: Envelope,
}

impl axum::extract::FromRequestParts<AppState> for Found {
    type Rejection = StError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, StError> {
        let caller =
            <Caller as axum::extract::FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?;
        let Path(params) =
            <Path<std::collections::HashMap<String, String>> as axum::extract::FromRequestParts<
                AppState,
            >>::from_request_parts(parts, state)
            .await
            .map_err(|_| StError::not_found("id", "DST"))?;
        let id = params.get("id").map(String::as_str).unwrap_or_default();
        let dst = find(state, &caller, id).await?;
        Ok(Found { caller, dst })
    }
}

/// The DST of envelope `e` as it stands.
pub(crate) async fn dst_of(state: &AppState, e: &Envelope) -> Result<Dst, StError> {
    let (e, recipients) = state.core.envelope(e.org, e.id).await?;
    let (documents, fields) = state.core.envelope_contents(&e).await?;
    let org = state.core.organisation(e.org).await?;
    Ok(plan::view(&Live {
        envelope: &e,
        recipients: &recipients,
        documents: &documents,
        fields: &fields,
        domain: org.slug.as_str(),
        public_url: &state.core.public_url,
    }))
}

/// Reads a JSON body into a [`DstInput`], naming the field at fault.
pub(crate) fn dst_input(body: &[u8]) -> Result<DstInput, StError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| StError::invalid("body", format!("the body is not JSON ({e})")))?;
    serde_json::from_value(v).map_err(|e| StError::invalid("body", e.to_string()))
}

async fn create_dst(
    state: &AppState,
    caller: &Caller,
    body: &[u8],
    robot: bool,
) -> Result<Dst, StError> {
    caller.sends()?;
    let input = dst_input(body)?;
    let made = plan::make(state, caller.org, caller.user, &input, robot).await?;
    let publish = made.publish;
    if publish && made.draft.header.template {
        return Err(StError::invalid(
            "status",
            "a template is not published: instantiate it",
        ));
    }
    let e = state
        .core
        .create_envelope(caller.org, made.draft, &caller.actor)
        .await?;
    if publish {
        state
            .core
            .send_envelope(caller.org, e.id, &caller.actor)
            .await?;
    }
    dst_of(state, &e).await
}

/// Creates a DST (`draft`, or `published` at once), its documents given by resource
/// (`Embedded` base64 or `URL`) or by the `plainDocumentUuid` of an existing resource.
#[utoipa::path(post, path = "/api/DSTs", tag = "signingtoday",
    request_body(content = DstInput, content_type = "application/json"),
    responses((status = 201, description = "The DST created", body = Dst), Refused))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let dst = create_dst(&state, &caller, &body, false).await?;
    Ok((StatusCode::CREATED, Json(dst)).into_response())
}

/// A service account creates (and, with `status: published`, publishes) a DST in one call
/// (Quick Start 3.3).
#[utoipa::path(post, path = "/api/robot/DSTs", tag = "signingtoday",
    request_body(content = DstInput, content_type = "application/json"),
    responses((status = 200, description = "The DST created", body = Dst), Refused))]
pub async fn robot_create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let dst = create_dst(&state, &caller, &body, true).await?;
    Ok(Json(dst).into_response())
}

/// A DST.
#[utoipa::path(get, path = "/api/DST/{id}", tag = "signingtoday",
    params(DstPath),
    responses((status = 200, body = Dst), Refused))]
pub async fn show(
    State(state): State<AppState>,
    Found { dst: e, .. }: Found,
) -> Result<Response, StError> {
    Ok(Json(dst_of(&state, &e).await?).into_response())
}

/// Marks a DST deleted (it stays in the database; one still being signed is cancelled).
#[utoipa::path(delete, path = "/api/DST/{id}", tag = "signingtoday",
    params(DstPath),
    responses((status = 204, description = "Deleted"), Refused))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    act(&state, &caller, &id, Act::Delete).await
}

/// What a bodiless action answered by `204` does to a DST.
pub(crate) enum Act {
    Delete,
    Remind,
}

/// Does `what` to the caller's DST `id`.
pub(crate) async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    what: Act,
) -> Result<Response, StError> {
    let e = find(state, caller, id).await?;
    let core = &state.core;
    match what {
        Act::Delete => {
            caller.may_delete(&e)?;
            core.delete_envelope(caller.org, e.id, &caller.actor)
                .await?
        }
        Act::Remind => {
            caller.may_change(&e)?;
            core.remind_now(caller.org, e.id, &caller.actor).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Publishes a draft: the first group is invited (by mail unless `extraData.email_disabled`).
#[utoipa::path(post, path = "/api/DST/{id}/publish", tag = "signingtoday",
    params(DstPath),
    responses((status = 200, body = Dst), Refused))]
pub async fn publish(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
) -> Result<Response, StError> {
    caller.may_change(&e)?;
    if e.header.template {
        return Err(StError::illegal_status(
            "a template is not published: instantiate it",
        ));
    }
    state
        .core
        .send_envelope(caller.org, e.id, &caller.actor)
        .await?;
    Ok(Json(dst_of(&state, &e).await?).into_response())
}

/// The address where the signer of signature request `signId` of document `docId` signs:
/// only once their group's turn has come (409 before).
#[utoipa::path(get, path = "/api/DST/{id}/sign/{docId}/{signId}", tag = "signingtoday",
    params(
        ("id" = String, Path, description = "The DST's UUID"),
        ("docId" = i64, Path, description = "The document's id in the DST"),
        ("signId" = i64, Path, description = "The signature request's id"),
    ),
    responses((status = 200, body = SigningAddress), Refused))]
pub async fn signing_address(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, doc_id, sign_id)): Path<(String, String, String)>,
) -> Result<Response, StError> {
    let e = find(&state, &caller, &id).await?;
    let plan = plan::plan_of(&e);
    let doc_id: i64 = doc_id
        .parse()
        .map_err(|_| StError::not_found("docId", "document"))?;
    let sign_id: i64 = sign_id
        .parse()
        .map_err(|_| StError::not_found("signId", "signature request"))?;
    let doc = plan
        .documents
        .iter()
        .find(|d| d.id == doc_id)
        .ok_or_else(|| StError::not_found("docId", "document"))?;
    let request = doc
        .signature_requests
        .iter()
        .enumerate()
        .find(|(k, r)| r.id.unwrap_or(*k as i64) == sign_id)
        .map(|(_, r)| r)
        .ok_or_else(|| StError::not_found("signId", "signature request"))?;
    let sid = request.signer_id.unwrap_or(0);
    let position = doc
        .recipients
        .iter()
        .find(|(s, _)| *s == sid)
        .map(|(_, p)| *p)
        .ok_or_else(|| StError::not_found("signId", "signature request"))?;
    let (_, recipients) = state.core.envelope(caller.org, e.id).await?;
    let r = recipients
        .iter()
        .find(|r| r.position == position)
        .ok_or_else(|| StError::not_found("signId", "signature request"))?;
    // A signer gets their own address; another's is for the DST's author.
    if !r
        .email
        .as_str()
        .eq_ignore_ascii_case(caller.me.email.as_str())
    {
        caller.may_change(&e)?;
    }
    let url = state
        .core
        .recipient_link(caller.org, e.id, r.id, &caller.actor)
        .await?;
    Ok(Json(SigningAddress { url }).into_response())
}

/// The paging parameters of a list: `$top` (1 … 100, default 100), `$skip`, `$count`.
pub(crate) struct Paging {
    pub top: u32,
    pub skip: u64,
    pub count: bool,
}

impl Paging {
    pub(crate) fn of(params: &[(String, String)]) -> Result<Paging, StError> {
        let mut p = Paging {
            top: MAX_TOP,
            skip: 0,
            count: false,
        };
        for (k, v) in params {
            match k.as_str() {
                "$top" => {
                    p.top = v
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_TOP).contains(n))
                        .ok_or_else(|| {
                            StError::invalid(
                                k,
                                format!("$top must be a number from 1 to {MAX_TOP}"),
                            )
                        })?
                }
                "$skip" => {
                    p.skip = v
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| StError::invalid(k, "$skip must be a number from 0"))?
                }
                "$count" => p.count = flag(k, v)?,
                _ => {}
            }
        }
        Ok(p)
    }
}

/// A boolean query value as the SDKs send it (`true`, `True`).
fn flag(target: &str, v: &str) -> Result<bool, StError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(StError::invalid(
            target,
            format!("{target} must be true or false"),
        )),
    }
}

/// The core statuses a DST status word selects.
fn statuses_of(word: &str) -> Option<Vec<EnvelopeStatus>> {
    use EnvelopeStatus as S;
    Some(match word {
        "draft" => vec![S::Draft],
        // Open DSTs are toFill or toSign by their forms: both select every open one.
        "published" | "toFill" | "toSign" => vec![S::Sent, S::InProgress, S::Sealing],
        "signed" => vec![S::Completed],
        "rejected" => vec![S::Declined, S::Cancelled],
        "expired" => vec![S::Expired],
        "error" => vec![S::SealFailed],
        "downloadingInDraft" | "downloadingInPublished" => vec![],
        _ => return None,
    })
}

/// A parsed `$filter` as the core's filter: `title` (==, !=, =~), `status` (==, != a DST
/// status) and `createdByUser` (==, != a user's UUID).
fn filter_of(e: &Expr) -> Result<EnvelopeFilter, StError> {
    let bad = |m: String| StError::invalid("$filter", m);
    Ok(match e {
        Expr::And(a, b) => EnvelopeFilter::All(vec![filter_of(a)?, filter_of(b)?]),
        Expr::Or(a, b) => EnvelopeFilter::Any(vec![filter_of(a)?, filter_of(b)?]),
        Expr::Not(a) => negate(filter_of(a)?),
        Expr::Clause { field, op, value } => {
            let clause = format!(
                "{field}{}{value}",
                match op {
                    Op::Eq => "==",
                    Op::Ne => "!=",
                    Op::Contains => "=~",
                }
            );
            match (field.as_str(), op) {
                ("title", Op::Eq) => EnvelopeFilter::Title(true, value.clone()),
                ("title", Op::Ne) => EnvelopeFilter::Title(false, value.clone()),
                ("title", Op::Contains) => EnvelopeFilter::TitleContains(true, value.clone()),
                ("status", Op::Eq | Op::Ne) => {
                    let list = statuses_of(value).ok_or_else(|| {
                        bad(format!("clause {clause:?}: {value:?} is not a DST status"))
                    })?;
                    EnvelopeFilter::Status(*op == Op::Eq, list)
                }
                ("createdByUser", Op::Eq | Op::Ne) => {
                    let u = user_of_uuid(value).ok_or_else(|| {
                        bad(format!("clause {clause:?}: {value:?} is not a user's UUID"))
                    })?;
                    EnvelopeFilter::CreatedBy(*op == Op::Eq, u)
                }
                ("status" | "createdByUser", Op::Contains) => {
                    return Err(bad(format!(
                        "clause {clause:?}: this operator does not apply to {field}"
                    )))
                }
                _ => {
                    return Err(bad(format!(
                        "clause {clause:?}: unknown field {field:?} (title, status, createdByUser)"
                    )))
                }
            }
        }
    })
}

fn negate(f: EnvelopeFilter) -> EnvelopeFilter {
    match f {
        EnvelopeFilter::Title(eq, t) => EnvelopeFilter::Title(!eq, t),
        EnvelopeFilter::Status(is, l) => EnvelopeFilter::Status(!is, l),
        EnvelopeFilter::CreatedBy(is, u) => EnvelopeFilter::CreatedBy(!is, u),
        EnvelopeFilter::All(l) => EnvelopeFilter::Any(l.into_iter().map(negate).collect()),
        EnvelopeFilter::Any(l) => EnvelopeFilter::All(l.into_iter().map(negate).collect()),
        EnvelopeFilter::TitleContains(has, t) => EnvelopeFilter::TitleContains(!has, t),
        EnvelopeFilter::Not(inner) => *inner,
        f @ (EnvelopeFilter::Involves(..) | EnvelopeFilter::Before(_)) => {
            EnvelopeFilter::Not(Box::new(f))
        }
    }
}

/// The organisation's DSTs: `template` (templates only, or none), `userId` (made by that
/// user or sent to them; without it, every DST for a user with `dst.list.all`, else the
/// caller's), `$top` (1 … 100, default 100), `$skip`, `$count`, `$orderBy` (`createdAt`,
/// `updatedAt`, `title`, `expiresAt`, then `,asc` or `,desc`), `$filter`.
#[utoipa::path(get, path = "/api/DSTs", tag = "signingtoday",
    params(
        ("template" = Option<bool>, Query, description = "Templates only (true) or DSTs only (false)"),
        ("userId" = Option<String>, Query, description = "Only the DSTs this user made or takes part in (another user's: dst.list.all)"),
        ("$top" = Option<u32>, Query, description = "A number of results to return (1-100)"),
        ("$skip" = Option<u64>, Query, description = "An offset into the results"),
        ("$count" = Option<bool>, Query, description = "Include the count of all the items"),
        ("$orderBy" = Option<String>, Query, description = "e.g. updatedAt,desc"),
        ("$filter" = Option<String>, Query, description = "e.g. title==Sample Template"),
    ),
    responses((status = 200, body = DstList), Refused))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    let mut q = EnvelopeQuery {
        org: caller.org,
        face: crate::FACE.into(),
        template: Some(false),
        created_by: None,
        filter: None,
        order: EnvelopeOrder::Created,
        descending: true,
        offset: 0,
        limit: MAX_TOP,
    };
    let paging = Paging::of(&params)?;
    (q.limit, q.offset) = (paging.top, paging.skip);
    // Without `userId`: every DST for one with dst.list.all, else those the caller takes
    // part in.
    let mut involving = (!caller.me.can(Capability::DstListAll))
        .then(|| EnvelopeFilter::Involves(caller.user, caller.me.email.clone()));
    for (k, v) in &params {
        match k.as_str() {
            "template" => q.template = Some(flag(k, v)?),
            "userId" => {
                let id = user_of_uuid(v)
                    .ok_or_else(|| StError::invalid(k, "userId is not a user's UUID"))?;
                if id != caller.user {
                    caller.require(Capability::DstListAll)?;
                }
                let who = state
                    .core
                    .user(caller.org, id)
                    .await
                    .map_err(|_| StError::not_found(k, "user"))?;
                involving = Some(EnvelopeFilter::Involves(who.id, who.email));
            }
            "$orderBy" => {
                let (field, dir) = v.split_once(',').unwrap_or((v.as_str(), "asc"));
                q.order = match field.trim() {
                    "createdAt" => EnvelopeOrder::Created,
                    "updatedAt" => EnvelopeOrder::Updated,
                    "title" => EnvelopeOrder::Title,
                    "expiresAt" => EnvelopeOrder::Expires,
                    other => {
                        return Err(StError::invalid(
                            k,
                            format!(
                            "cannot order by {other:?} (createdAt, updatedAt, title, expiresAt)"
                        ),
                        ))
                    }
                };
                q.descending = match dir.trim().to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    other => {
                        return Err(StError::invalid(k, format!("{other:?} is not asc or desc")))
                    }
                };
            }
            "$filter" => {
                let e = crate::odata::parse(v).map_err(|e| StError::invalid(k, e.0))?;
                q.filter = Some(filter_of(&e)?);
            }
            _ => {}
        }
    }
    if let Some(who) = involving {
        q.filter = Some(match q.filter.take() {
            Some(f) => EnvelopeFilter::All(vec![who, f]),
            None => who,
        });
    }
    let (items, total) = state.core.envelope_query(&q, paging.count).await?;
    // Three queries for the whole page (recipients, documents, fields), not four a DST.
    let ids: Vec<_> = items.iter().map(|e| e.id).collect();
    let mut recipients = state.core.recipients_of(caller.org, &ids).await?;
    let mut contents = state.core.contents_of(caller.org, &ids).await?;
    let org = state.core.organisation(caller.org).await?;
    let values = items
        .iter()
        .map(|e| {
            let r = recipients.remove(&e.id).unwrap_or_default();
            let (documents, fields) = contents.remove(&e.id).unwrap_or_default();
            plan::view(&Live {
                envelope: e,
                recipients: &r,
                documents: &documents,
                fields: &fields,
                domain: org.slug.as_str(),
                public_url: &state.core.public_url,
            })
        })
        .collect();
    Ok(Json(DstList {
        count: total,
        values,
    })
    .into_response())
}
