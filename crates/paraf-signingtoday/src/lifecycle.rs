//! A DST's life after it is made: its draft replaced (`PUT /DST/{id}`), forms filled before
//! signing (`PATCH /DST/{id}/fill`), back to draft (`modify`), copies (`clone`,
//! `templatize`, `replace` of a rejected DST) and templates instantiated (`instantiate`, and
//! the robot's with template patches and roles mapping).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{Envelope, EnvelopeStatus};
use paraf_core::drafts::EnvelopeCopy;
use paraf_http::state::AppState;
use serde_json::{json, Value};

use crate::dsts::{dst_of, find, Found};
use crate::error::StError;
use crate::plan::{self, plan_of, Plan, PLAN_KEY};
use crate::wire::{Dst, DstInput, DstPath, Form, InstantiateInput, Refused};
use crate::Caller;

/// The envelope's options with `plan` in place of its plan.
fn with_plan(e: &Envelope, plan: &Plan) -> Result<Value, StError> {
    let mut options = e.header.options.clone();
    let v = serde_json::to_value(plan).map_err(StError::internal)?;
    match options.as_object_mut() {
        Some(o) => {
            o.insert(PLAN_KEY.into(), v);
        }
        None => options = json!({ PLAN_KEY: v }),
    }
    Ok(options)
}

/// Replaces a draft (or a template) with the body's DST.
#[utoipa::path(put, path = "/api/DST/{id}", tag = "signingtoday",
    params(DstPath), request_body(content = DstInput, content_type = "application/json"),
    responses((status = 200, body = Dst), Refused))]
pub async fn replace_draft(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    caller.may_change(&e)?;
    if e.status != EnvelopeStatus::Draft {
        return Err(StError::illegal_status(format!(
            "the DST is {}, not a draft: modify it first",
            plan::status_of(&e, &[])
        )));
    }
    let input = crate::dsts::dst_input(&body)?;
    let mut made = plan::make(&state, caller.org, caller.user, &input, false).await?;
    made.draft.header.template = e.header.template || input.template == Some(true);
    let e = state
        .core
        .replace_draft(caller.org, e.id, made.draft, &caller.actor)
        .await?;
    Ok(Json(dst_of(&state, &e).await?).into_response())
}

/// Fills one form: a `TextForm`'s text in `extraData.value`, a `ClauseForm` accepted with
/// `extraData.value: true` (or `filled: true`). Signature forms are filled by signing.
#[utoipa::path(patch, path = "/api/DST/{id}/fill", tag = "signingtoday",
    params(DstPath), request_body(content = Form, content_type = "application/json"),
    responses((status = 200, body = Dst), Refused))]
pub async fn fill(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    // Its author fills forms before publishing; a signer fills those of their turn.
    if caller.may_change(&e).is_err() {
        let (_, recipients) = state.core.envelope(caller.org, e.id).await?;
        if !recipients.iter().any(|r| {
            r.email
                .as_str()
                .eq_ignore_ascii_case(caller.me.email.as_str())
        }) {
            caller.may_change(&e)?;
        }
    }
    let form: Form = serde_json::from_slice(&body)
        .map_err(|err| StError::invalid("body", format!("the body is not a form ({err})")))?;
    let plan = plan_of(&e);
    let doc_id = form.document_id.unwrap_or(0);
    let (i, doc) = plan
        .documents
        .iter()
        .enumerate()
        .find(|(_, d)| d.id == doc_id)
        .ok_or_else(|| {
            StError::invalid("documentId", format!("no document {doc_id} in this DST"))
        })?;
    let form_id = form
        .id
        .ok_or_else(|| StError::invalid("id", "the form's id is required"))?;
    let k = doc
        .forms
        .iter()
        .enumerate()
        .position(|(k, f)| f.id.unwrap_or(k as i64) == form_id)
        .ok_or_else(|| StError::invalid("id", format!("no form {form_id} in document {doc_id}")))?;
    let kind = doc.forms[k].kind.as_deref().unwrap_or("SignatureForm");
    let value = form.extra_data.as_ref().and_then(|x| x.get("value"));
    let value = match kind {
        "TextForm" => match value {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(StError::invalid(
                    "extraData.value",
                    "a TextForm is filled with its text in extraData.value",
                ))
            }
        },
        "ClauseForm" => {
            let accepted = match value {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                _ => form.filled == Some(true),
            };
            accepted.to_string()
        }
        _ => {
            return Err(StError::invalid(
                "type",
                "a SignatureForm is filled by its signer's signature",
            ))
        }
    };
    let name = doc
        .fields
        .get(k)
        .cloned()
        .flatten()
        .ok_or_else(|| StError::internal("a form without its field"))?;
    let position = u32::try_from(i + 1).unwrap_or(u32::MAX);
    state
        .core
        .prefill_field(caller.org, e.id, position, &name, &value, &caller.actor)
        .await
        .map_err(|err| match StError::from(err) {
            x if x.body.target.as_deref() == Some("value") => {
                StError::invalid("extraData.value", x.body.message)
            }
            x => x,
        })?;
    Ok(Json(dst_of(&state, &e).await?).into_response())
}

/// Takes a published DST nobody has answered back to draft (a draft or template is
/// returned as it is).
#[utoipa::path(post, path = "/api/DST/{id}/modify", tag = "signingtoday",
    params(DstPath),
    responses((status = 200, body = Dst), Refused))]
pub async fn modify(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
) -> Result<Response, StError> {
    caller.may_change(&e)?;
    let e = state
        .core
        .recall_envelope(caller.org, e.id, &caller.actor)
        .await?;
    Ok(Json(dst_of(&state, &e).await?).into_response())
}

/// How a copy is made.
enum Copy {
    Clone,
    Templatize,
    Instantiate,
    Replace,
}

async fn copy(state: &AppState, caller: &Caller, id: &str, how: Copy) -> Result<Response, StError> {
    let e = find(state, caller, id).await?;
    match how {
        Copy::Clone | Copy::Instantiate => caller.sends()?,
        Copy::Templatize | Copy::Replace => caller.may_change(&e)?,
    }
    let mut plan = plan_of(&e);
    plan.replaces = None;
    plan.replaced_by = None;
    let template = match how {
        Copy::Clone => e.header.template,
        Copy::Templatize => true,
        Copy::Instantiate => {
            if !e.header.template {
                return Err(StError::illegal_status("the DST is not a template"));
            }
            false
        }
        Copy::Replace => {
            if !matches!(
                e.status,
                EnvelopeStatus::Declined | EnvelopeStatus::Cancelled | EnvelopeStatus::Expired
            ) {
                return Err(StError::illegal_status(
                    "only a rejected or expired DST is replaced",
                ));
            }
            plan.replaces = Some(e.uuid.clone());
            false
        }
    };
    let c = EnvelopeCopy {
        template,
        options: Some(with_plan(&e, &plan)?),
        ..EnvelopeCopy::default()
    };
    let new = state
        .core
        .copy_envelope(caller.org, e.id, c, &caller.actor)
        .await?;
    if matches!(how, Copy::Replace) {
        let mut old = plan_of(&e);
        old.replaced_by = Some(new.uuid.clone());
        state.core.keep_options(&e, with_plan(&e, &old)?).await?;
    }
    Ok(Json(dst_of(state, &new).await?).into_response())
}

/// A handler that copies the DST as `$how` says, documented at `$path`.
macro_rules! copy_route {
    ($(#[$doc:meta])* $name:ident, $path:literal, $how:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "signingtoday", params(DstPath),
            responses((status = 200, body = Dst), Refused))]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
        ) -> Result<Response, StError> {
            copy(&state, &caller, &id, $how).await
        }
    };
}

copy_route!(
    /// A copy of the DST in any state, as a new draft.
    clone,
    "/api/DST/{id}/clone",
    Copy::Clone
);
copy_route!(
    /// A new template made from the DST.
    templatize,
    "/api/DST/{id}/templatize",
    Copy::Templatize
);
copy_route!(
    /// A new draft DST made from a template (409 for a DST that is not one).
    instantiate,
    "/api/DST/{id}/instantiate",
    Copy::Instantiate
);
copy_route!(
    /// A new draft in place of a rejected (or expired) DST; each names the other
    /// (`replaces`, `replacedBy`); 409 for any other DST.
    replace,
    "/api/DST/{id}/replace",
    Copy::Replace
);

/// A DST from a template with `templatePatches` (title, status `published` to publish at
/// once, expiresAt, tags, extraData, urgent, cc…; `documents`, when given, replace the
/// template's) and `rolesMapping` (who plays each role: a signer whose `templateLabel`, else
/// `role`, is the `roleName`). Answered on `/robot/DST/{id}/instantiate` (the seed) and
/// `/robot/{id}/instantiate` (Quick Start 3.4 and the SDKs).
#[utoipa::path(post, path = "/api/robot/DST/{id}/instantiate", tag = "signingtoday",
    params(("id" = String, Path, description = "The template's UUID")),
    request_body(content = InstantiateInput, content_type = "application/json"),
    responses((status = 200, body = Dst), Refused))]
pub async fn robot_instantiate(
    State(state): State<AppState>,
    Found { caller, dst: e }: Found,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    caller.sends()?;
    if !e.header.template {
        return Err(StError::illegal_status("the DST is not a template"));
    }
    let input: InstantiateInput = if body.is_empty() {
        InstantiateInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| StError::invalid("body", err.to_string()))?
    };
    let patches = input.template_patches.clone().unwrap_or_default();
    let publish = match patches.status.as_deref() {
        None | Some("draft") => false,
        Some("published") => true,
        Some(other) => {
            return Err(StError::invalid(
                "templatePatches.status",
                format!("status {other:?} is not draft or published"),
            ))
        }
    };
    let new = if patches.documents.is_empty() {
        instantiate_template(&state, &caller, &e, &patches, &input).await?
    } else {
        // New documents: a whole DST made from the patches, the roles then mapped.
        let mut full = patches.clone();
        full.status = None;
        full.title = full.title.or_else(|| Some(e.header.title.clone()));
        map_roles_in_input(&mut full, &input)?;
        let made = plan::make(&state, caller.org, caller.user, &full, true).await?;
        state
            .core
            .create_envelope(caller.org, made.draft, &caller.actor)
            .await?
    };
    if publish {
        state
            .core
            .send_envelope(caller.org, new.id, &caller.actor)
            .await?;
    }
    Ok(Json(dst_of(&state, &new).await?).into_response())
}

/// The roles a mapping names, checked against the signers of `input` (documents patched in).
fn map_roles_in_input(input: &mut DstInput, mapping: &InstantiateInput) -> Result<(), StError> {
    for (m, role) in mapping.roles_mapping.iter().enumerate() {
        let name = role.role_name.as_deref().unwrap_or_default();
        let mut found = false;
        for d in &mut input.documents {
            for s in d.signer_groups.iter_mut().flat_map(|g| &mut g.signers) {
                let label = s.template_label.as_deref().or(s.role.as_deref());
                if label == Some(name) {
                    let id = s.id;
                    *s = crate::wire::Signer {
                        id,
                        template_label: Some(name.to_string()),
                        role: role.signer.role.clone().or_else(|| Some(name.to_string())),
                        ..role.signer.clone()
                    };
                    found = true;
                }
            }
        }
        if !found {
            return Err(StError::invalid(
                &format!("rolesMapping[{m}].roleName"),
                format!("no signer of the template plays {name:?}"),
            ));
        }
    }
    Ok(())
}

/// The template copied, its roles played by the mapping's signers, the patches applied.
pub(crate) async fn instantiate_template(
    state: &AppState,
    caller: &Caller,
    e: &Envelope,
    patches: &DstInput,
    input: &InstantiateInput,
) -> Result<Envelope, StError> {
    let mut plan = plan_of(e);
    let (_, recipients) = state.core.envelope(caller.org, e.id).await?;
    let mut new_recipients: Vec<_> = recipients.iter().map(|r| r.to_new()).collect();
    for (m, role) in input.roles_mapping.iter().enumerate() {
        let target = format!("rolesMapping[{m}]");
        let name = role.role_name.as_deref().unwrap_or_default();
        let mut positions = Vec::new();
        for d in &mut plan.documents {
            let recipients = d.recipients.clone();
            for s in d.signer_groups.iter_mut().flat_map(|g| &mut g.signers) {
                let label = s.template_label.as_deref().or(s.role.as_deref());
                if label != Some(name) {
                    continue;
                }
                let sid = s.id;
                if let Some((_, p)) = recipients.iter().find(|(x, _)| Some(*x) == sid) {
                    positions.push(*p);
                }
                *s = crate::wire::Signer {
                    id: sid,
                    template_label: Some(name.to_string()),
                    role: role.signer.role.clone().or_else(|| s.role.clone()),
                    ..role.signer.clone()
                };
            }
        }
        if positions.is_empty() {
            return Err(StError::invalid(
                &format!("{target}.roleName"),
                format!("no signer of the template plays {name:?}"),
            ));
        }
        for p in positions {
            let k = usize::try_from(p).unwrap_or(usize::MAX).saturating_sub(1);
            if let Some(slot) = new_recipients.get_mut(k) {
                let group = slot.group;
                *slot = plan::recipient_of(
                    state,
                    caller.org,
                    &format!("{target}.signer"),
                    &role.signer,
                    group,
                )
                .await?;
            }
        }
    }
    if let Some(t) = &patches.tags {
        plan.tags = t.clone();
    }
    if let Some(x) = &patches.extra_data {
        plan.extra_data = x.clone();
    }
    if let Some(u) = patches.urgent {
        plan.urgent = u;
    }
    if let Some(c) = &patches.cc_groups {
        plan.cc_groups = c.clone();
    }
    if let Some(c) = &patches.cc_users {
        plan.cc_users = c.clone();
    }
    if let Some(p) = patches.public_template {
        plan.public_template = p;
    }
    let mut options = with_plan(e, &plan)?;
    if let Some(o) = options.as_object_mut() {
        let off = plan
            .extra_data
            .get("email_disabled")
            .and_then(Value::as_bool)
            == Some(true);
        if off {
            o.insert("mail_invitations".into(), json!(false));
        } else {
            o.remove("mail_invitations");
        }
    }
    let expires_at = match patches.expires_at.as_deref() {
        Some(s) => Some(Some(crate::parse_time(s).ok_or_else(|| {
            StError::invalid(
                "templatePatches.expiresAt",
                format!("{s:?} is not a date-time (RFC 3339)"),
            )
        })?)),
        None => None,
    };
    let c = EnvelopeCopy {
        template: false,
        title: patches.title.clone().filter(|t| !t.trim().is_empty()),
        options: Some(options),
        expires_at,
        recipients: Some(new_recipients),
    };
    Ok(state
        .core
        .copy_envelope(caller.org, e.id, c, &caller.actor)
        .await?)
}
