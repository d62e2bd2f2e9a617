//! Templates and webhooks through `/ext/v1`.
//!
//! A **template** is an envelope that is never sent (`template: true`): made like one (`POST
//! /ext/v1/templates`, the body of `POST /ext/v1/envelopes`), its parts edited through the
//! same `/ext/v1/envelopes/{id}/…` calls as a draft's, and instantiated into envelopes
//! (`POST /ext/v1/templates/{id}/envelopes`, other recipients in the same positions).
//!
//! **Webhooks** (admins only): endpoints with the events they receive and their signing
//! secret (`whsec_…`, given once, at creation and rotation: the Standard Webhooks signature
//! scheme, docs/webhooks.md), their deliveries, and a delivery sent again.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paraf_core::domain::{
    Role, WebhookDelivery, WebhookDeliveryId, WebhookEndpoint, WebhookEndpointId,
};
use paraf_core::drafts::EnvelopeCopy;
use paraf_core::Secret;
use paraf_http::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Session;
use crate::envelopes::{
    body_of, core_refusal, created, draft_from, invalid, list_of, ok, recipients_of, send_now,
    shown, ListQuery, Owned, Sender,
};
use crate::reply::{given_once, Lang, Msg, Reply};
use crate::wire::{time, EnvelopeIn, FromTemplateIn};

/// Lists templates, newest first.
#[utoipa::path(get, path = "/ext/v1/templates", tag = "ext", params(ListQuery),
    responses((status = 200, description = "data: a page of templates", body = crate::wire::EnvelopeList)))]
pub async fn templates(
    State(state): State<AppState>,
    caller: Sender,
    Query(q): Query<ListQuery>,
) -> Response {
    list_of(&state, caller.lang, &caller.s, q, true).await
}

/// Makes a template (the body of `POST /ext/v1/envelopes`, without `send`).
#[utoipa::path(post, path = "/ext/v1/templates", tag = "ext", request_body = EnvelopeIn,
    responses((status = 201, description = "data: the template", body = crate::wire::EnvelopeOut),
        (status = 400, description = "INVALID_FIELD naming the field")))]
pub async fn create_template(
    State(state): State<AppState>,
    caller: Sender,
    body: Bytes,
) -> Response {
    let (lang, s) = (caller.lang, &caller.s);
    let b: EnvelopeIn = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if b.send {
        return invalid(lang, "send", "a template is never sent: instantiate it").into_response();
    }
    let draft = match draft_from(&state, lang, s, b, true).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match state.core.create_envelope(s.p.org, draft, &s.actor).await {
        Ok(e) => created(&state, lang, &e).await,
        Err(e) => core_refusal(lang, e),
    }
}

/// Extractor: the template `{id}` of the path (an envelope that is not a template is "not
/// found").
pub struct Template(pub Owned);

impl FromRequestParts<AppState> for Template {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let o = Owned::from_request_parts(parts, state).await?;
        if !o.e.header.template {
            return Err(Reply::err(o.lang, Msg::NotFound).into_response());
        }
        Ok(Template(o))
    }
}

/// A template.
#[utoipa::path(get, path = "/ext/v1/templates/{id}", tag = "ext",
    params(("id" = String, Path, description = "The template's public id")),
    responses((status = 200, description = "data: the template", body = crate::wire::EnvelopeOut),
        (status = 404, description = "NOT_FOUND")))]
pub async fn template(State(state): State<AppState>, Template(o): Template) -> Response {
    shown(&state, o.lang, &o.e).await
}

/// Deletes a template (envelopes made from it stay).
#[utoipa::path(delete, path = "/ext/v1/templates/{id}", tag = "ext",
    params(("id" = String, Path, description = "The template's public id")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "NOT_FOUND")))]
pub async fn delete_template(State(state): State<AppState>, Template(o): Template) -> Response {
    match state.core.delete_draft(o.s.p.org, o.e.id, &o.s.actor).await {
        Ok(()) => Reply::ok(o.lang, Value::Null).into_response(),
        Err(e) => core_refusal(o.lang, e),
    }
}

/// An envelope from a template: its documents, fields and recipients (or `recipients`, one per
/// template recipient, in the same positions); a draft, or sent with `send: true`.
#[utoipa::path(post, path = "/ext/v1/templates/{id}/envelopes", tag = "ext",
    request_body = FromTemplateIn,
    params(("id" = String, Path, description = "The template's public id")),
    responses((status = 201, description = "data: the draft", body = crate::wire::EnvelopeOut),
        (status = 200, description = "with send: the envelope and its links", body = crate::wire::SentOut),
        (status = 400, description = "INVALID_FIELD: recipients (one per template recipient), expires_at"),
        (status = 404, description = "NOT_FOUND")))]
pub async fn instantiate(
    State(state): State<AppState>,
    Template(o): Template,
    body: Bytes,
) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let b: FromTemplateIn = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let recipients = match b.recipients.map(|l| recipients_of(lang, l)).transpose() {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let expires_at = match b.expires_at.as_deref() {
        Some(raw) => {
            match crate::envelopes::parse_time(lang, "expires_at", raw, state.core.now()) {
                Ok(t) => Some(Some(t)),
                Err(r) => return r.into_response(),
            }
        }
        None => None,
    };
    let title = b
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return invalid(lang, "title", "at most 200 characters").into_response();
    }
    let copy = EnvelopeCopy {
        template: false,
        title,
        options: None,
        expires_at,
        recipients,
    };
    let e = match state
        .core
        .copy_envelope(s.p.org, o.e.id, copy, &s.actor)
        .await
    {
        Ok(e) => e,
        Err(e) => return core_refusal(lang, e),
    };
    if b.send {
        return send_now(&state, lang, s, e, true).await;
    }
    created(&state, lang, &e).await
}

/// Extractor: the request's signed-in **admin** (webhooks are the organisation's).
pub struct Admin {
    pub s: Session,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Sender { s, lang } = Sender::from_request_parts(parts, state).await?;
        if s.role != Role::Admin {
            return Err(Reply::err(lang, Msg::Forbidden).into_response());
        }
        Ok(Admin { s, lang })
    }
}

/// `POST /ext/v1/webhooks`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    /// `https://…` (a public address, unless the operator allows private ones).
    pub url: Option<String>,
    /// `envelope.completed`, `envelope.*`…; none: every event.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// A webhook endpoint (never its secret, except once in [`WebhookCreatedOut`]).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    pub events: Vec<String>,
    pub created_at: String,
    /// After a rotation, the previous secret still signs until then.
    pub previous_secret_until: Option<String>,
}

/// An endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreatedOut {
    pub endpoint: WebhookOut,
    /// `whsec_…` (Standard Webhooks).
    pub secret: String,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub endpoint: Option<i64>,
    pub event: String,
    pub url: String,
    pub attempt: u32,
    /// The receiver's HTTP status; `null` when it could not be reached.
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: String,
    pub succeeded: bool,
}

/// `POST …/redeliver`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeliveryOut {
    /// The job that sends it again.
    pub job: i64,
}

impl WebhookOut {
    fn of(ep: &WebhookEndpoint) -> WebhookOut {
        WebhookOut {
            id: ep.id.0,
            url: ep.url.clone(),
            description: ep.description.clone(),
            enabled: ep.enabled,
            events: ep.events.clone(),
            created_at: time(ep.created_at),
            previous_secret_until: ep.previous_secret_until.map(time),
        }
    }
}

impl DeliveryOut {
    fn of(d: &WebhookDelivery) -> DeliveryOut {
        DeliveryOut {
            id: d.id.0,
            endpoint: d.endpoint.map(|e| e.0),
            event: d.event.clone(),
            url: d.url.clone(),
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error.clone(),
            duration_ms: d.duration_ms,
            at: time(d.at),
            succeeded: d.succeeded(),
        }
    }
}

fn created_with_secret(lang: Lang, ep: &WebhookEndpoint, secret: &Secret) -> Response {
    given_once(ok(
        lang,
        &WebhookCreatedOut {
            endpoint: WebhookOut::of(ep),
            secret: secret.expose().to_string(),
        },
    ))
}

/// The organisation's webhook endpoints.
#[utoipa::path(get, path = "/ext/v1/webhooks", tag = "ext",
    responses((status = 200, description = "data: the endpoints", body = Vec<WebhookOut>),
        (status = 403, description = "FORBIDDEN: not an admin")))]
pub async fn webhooks(State(state): State<AppState>, a: Admin) -> Response {
    match state.core.webhooks().list(a.s.p.org).await {
        Ok(list) => ok(a.lang, &list.iter().map(WebhookOut::of).collect::<Vec<_>>()),
        Err(e) => core_refusal(a.lang, e),
    }
}

/// Adds an endpoint; its secret is in this reply only.
#[utoipa::path(post, path = "/ext/v1/webhooks", tag = "ext", request_body = WebhookIn,
    responses((status = 201, description = "data: the endpoint and its secret", body = WebhookCreatedOut),
        (status = 400, description = "INVALID_FIELD: url (refused address), events, description")))]
pub async fn create_webhook(State(state): State<AppState>, a: Admin, body: Bytes) -> Response {
    let lang = a.lang;
    let b: WebhookIn = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let Some(url) = b.url.filter(|u| !u.trim().is_empty()) else {
        return invalid(lang, "url", "is required").into_response();
    };
    match state
        .core
        .webhooks()
        .create(a.s.p.org, url.trim(), &b.events, &b.description, &a.s.actor)
        .await
    {
        Ok((ep, secret)) => {
            let mut r = created_with_secret(lang, &ep, &secret);
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        Err(e) => core_refusal(lang, e),
    }
}

/// An endpoint.
#[utoipa::path(get, path = "/ext/v1/webhooks/{id}", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "data: the endpoint", body = WebhookOut),
        (status = 404, description = "NOT_FOUND")))]
pub async fn webhook(State(state): State<AppState>, a: Admin, Path(id): Path<i64>) -> Response {
    match state
        .core
        .webhooks()
        .get(a.s.p.org, WebhookEndpointId(id))
        .await
    {
        Ok(ep) => ok(a.lang, &WebhookOut::of(&ep)),
        Err(e) => core_refusal(a.lang, e),
    }
}

/// Removes an endpoint.
#[utoipa::path(delete, path = "/ext/v1/webhooks/{id}", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "NOT_FOUND")))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> Response {
    match state
        .core
        .webhooks()
        .delete(a.s.p.org, WebhookEndpointId(id), &a.s.actor)
        .await
    {
        Ok(()) => Reply::ok(a.lang, Value::Null).into_response(),
        Err(e) => core_refusal(a.lang, e),
    }
}

/// A new secret; the previous one still signs for a while (both signatures are sent).
#[utoipa::path(post, path = "/ext/v1/webhooks/{id}/rotate", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "data: the endpoint and its new secret", body = WebhookCreatedOut),
        (status = 404, description = "NOT_FOUND")))]
pub async fn rotate_webhook(
    State(state): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> Response {
    match state
        .core
        .webhooks()
        .rotate(a.s.p.org, WebhookEndpointId(id), &a.s.actor)
        .await
    {
        Ok((ep, secret)) => created_with_secret(a.lang, &ep, &secret),
        Err(e) => core_refusal(a.lang, e),
    }
}

/// `POST /ext/v1/webhooks/{id}/enable` and `…/disable`.
async fn set_enabled(state: &AppState, a: &Admin, id: i64, enabled: bool) -> Response {
    match state
        .core
        .webhooks()
        .set_enabled(a.s.p.org, WebhookEndpointId(id), enabled, &a.s.actor)
        .await
    {
        Ok(ep) => ok(a.lang, &WebhookOut::of(&ep)),
        Err(e) => core_refusal(a.lang, e),
    }
}

/// Delivers to the endpoint again.
#[utoipa::path(post, path = "/ext/v1/webhooks/{id}/enable", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "data: the endpoint", body = WebhookOut)))]
pub async fn enable_webhook(
    State(state): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> Response {
    set_enabled(&state, &a, id, true).await
}

/// Stops delivering to the endpoint (events are not kept for it meanwhile).
#[utoipa::path(post, path = "/ext/v1/webhooks/{id}/disable", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "data: the endpoint", body = WebhookOut)))]
pub async fn disable_webhook(
    State(state): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> Response {
    set_enabled(&state, &a, id, false).await
}

/// `GET …/deliveries` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// At most this many, newest first (1–100, default 50).
    pub limit: Option<u32>,
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/ext/v1/webhooks/{id}/deliveries", tag = "ext",
    params(("id" = i64, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses((status = 200, description = "data: the deliveries", body = Vec<DeliveryOut>),
        (status = 404, description = "NOT_FOUND")))]
pub async fn deliveries(
    State(state): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
    Query(q): Query<DeliveriesQuery>,
) -> Response {
    let lang = a.lang;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return invalid(lang, "limit", "from 1 to 100").into_response();
    }
    let hooks = state.core.webhooks();
    let ep = match hooks.get(a.s.p.org, WebhookEndpointId(id)).await {
        Ok(ep) => ep,
        Err(e) => return core_refusal(lang, e),
    };
    match hooks.deliveries(a.s.p.org, Some(ep.id), limit).await {
        Ok(list) => ok(lang, &list.iter().map(DeliveryOut::of).collect::<Vec<_>>()),
        Err(e) => core_refusal(lang, e),
    }
}

/// Sends a delivery's event again (a new attempt, now).
#[utoipa::path(post, path = "/ext/v1/webhooks/deliveries/{delivery}/redeliver", tag = "ext",
    params(("delivery" = i64, Path, description = "The delivery's id")),
    responses((status = 200, description = "data: the job", body = RedeliveryOut),
        (status = 404, description = "NOT_FOUND")))]
pub async fn redeliver(
    State(state): State<AppState>,
    a: Admin,
    Path(delivery): Path<i64>,
) -> Response {
    match state
        .core
        .webhooks()
        .redeliver(a.s.p.org, WebhookDeliveryId(delivery), &a.s.actor)
        .await
    {
        Ok(job) => ok(a.lang, &RedeliveryOut { job: job.0 }),
        Err(e) => core_refusal(a.lang, e),
    }
}
