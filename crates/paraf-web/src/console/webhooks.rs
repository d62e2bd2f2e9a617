//! `/console/webhooks`: the organisation's webhook endpoints (GesDocs' "Mon compte > URL du
//! webhook" is this page) — add one (URL, events, description; its secret `whsec_…` shown
//! once), enable or disable, rotate the secret (the old one keeps signing for a day), delete —
//! and the delivery log (event, attempt, answer, time) with redelivery. Everything goes
//! through `paraf_core::webhooks`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use paraf_core::domain::{WebhookDeliveryId, WebhookEndpointId};
use serde::Deserialize;

use super::html::{self, Nav};
use super::{
    internal, not_found, see_other, user_message, ActionForm, Done, Session, SessionForm, WithCsrf,
};
use paraf_http::state::AppState;

const DONE: [(&str, &str); 4] = [
    ("enable", "Webhook diaktifkan."),
    ("disable", "Webhook dinonaktifkan."),
    ("delete", "Webhook dihapus."),
    ("redeliver", "Pengiriman ulang dijadwalkan."),
];

/// Deliveries shown in the log.
const LOG_SIZE: u32 = 50;

impl WithCsrf for WebhookForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The "add an endpoint" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookForm {
    url: String,
    events: String,
    description: String,
    csrf: Option<String>,
}

struct EndpointRow {
    id: i64,
    url: String,
    events: String,
    description: String,
    enabled: bool,
    created: String,
    actions: Vec<html::RowAction>,
}

struct DeliveryRow {
    id: i64,
    at: String,
    event: String,
    url: String,
    attempt: u32,
    answer: String,
    ok: bool,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage<'a> {
    notice: Option<(bool, String)>,
    /// A secret to show once.
    secret: Option<String>,
    csrf: &'a str,
    endpoints: Vec<EndpointRow>,
    deliveries: Vec<DeliveryRow>,
    form: &'a WebhookForm,
    form_error: Option<String>,
}

/// What the page says at the top.
struct Shown {
    status: StatusCode,
    notice: Option<(bool, String)>,
    secret: Option<String>,
    form_error: Option<String>,
}

async fn render(state: &AppState, session: &Session, shown: Shown, form: &WebhookForm) -> Response {
    let org = session.org.id;
    let hooks = state.webhooks();
    let (endpoints, deliveries) = match (
        hooks.list(org).await,
        hooks.deliveries(org, None, LOG_SIZE).await,
    ) {
        (Ok(e), Ok(d)) => (e, d),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let endpoints = endpoints
        .iter()
        .map(|ep| EndpointRow {
            id: ep.id.0,
            url: ep.url.clone(),
            events: if ep.events.is_empty() {
                "*".into()
            } else {
                ep.events.join(", ")
            },
            description: ep.description.clone(),
            enabled: ep.enabled,
            created: html::time(ep.created_at),
            actions: html::toggle_rotate_delete("/console/webhooks", ep.id.0, ep.enabled),
        })
        .collect();
    let deliveries = deliveries
        .iter()
        .map(|d| DeliveryRow {
            id: d.id.0,
            at: html::time(d.at),
            event: d.event.clone(),
            url: d.url.clone(),
            attempt: d.attempt,
            answer: match (&d.status_code, &d.error) {
                (Some(c), _) => format!("HTTP {c} ({} ms)", d.duration_ms),
                (None, Some(e)) => e.clone(),
                (None, None) => "-".into(),
            },
            ok: d.succeeded(),
        })
        .collect();
    let page = WebhooksPage {
        notice: shown.notice,
        secret: shown.secret,
        csrf: &session.csrf,
        endpoints,
        deliveries,
        form,
        form_error: shown.form_error,
    };
    let body = crate::render::fragment(&page);
    session.page(shown.status, "Webhooks", Nav::Webhooks, &body)
}

/// `GET /console/webhooks`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Done>,
) -> Response {
    let shown = Shown {
        status: StatusCode::OK,
        notice: q.notice(&DONE),
        secret: None,
        form_error: None,
    };
    render(&state, &session, shown, &WebhookForm::default()).await
}

/// The events of the form: comma- or space-separated; none means every event.
fn events_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /console/webhooks`: adds an endpoint and shows its secret once.
pub async fn create(
    State(state): State<AppState>,
    SessionForm { session, form: f }: SessionForm<WebhookForm>,
) -> Response {
    let created = state
        .webhooks()
        .create(
            session.org.id,
            f.url.trim(),
            &events_of(&f.events),
            f.description.trim(),
            &session.actor(),
        )
        .await;
    let shown = match created {
        Ok((ep, secret)) => Shown {
            status: StatusCode::CREATED,
            notice: Some((true, format!("Webhook {} ditambahkan. Simpan secret ini sekarang: tidak akan ditampilkan lagi.", ep.url))),
            secret: Some(secret.expose().to_string()),
            form_error: None,
        },
        Err(e) => {
            return render(
                &state,
                &session,
                Shown {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    notice: None,
                    secret: None,
                    form_error: Some(user_message(&e)),
                },
                &f,
            )
            .await
        }
    };
    render(&state, &session, shown, &WebhookForm::default()).await
}

/// `POST /console/webhooks/{id}/{action}`: enable, disable, rotate (shows the new secret
/// once), delete.
pub async fn act(State(state): State<AppState>, form: ActionForm) -> Response {
    let ActionForm {
        session,
        id,
        action,
    } = form;
    let id = WebhookEndpointId(id);
    let (org, actor, hooks) = (session.org.id, session.actor(), state.webhooks());
    let result = match action.as_str() {
        "enable" | "disable" => hooks
            .set_enabled(org, id, action == "enable", &actor)
            .await
            .map(|_| None),
        "rotate" => hooks.rotate(org, id, &actor).await.map(|(_, s)| Some(s)),
        "delete" => hooks.delete(org, id, &actor).await.map(|_| None),
        _ => return not_found(&session),
    };
    match result {
        Ok(None) => see_other(&format!("/console/webhooks?done={action}")),
        Ok(Some(secret)) => {
            let shown = Shown {
                status: StatusCode::OK,
                notice: Some((true, "Secret baru dibuat; secret lama tetap menandatangani selama 24 jam. Simpan secret ini sekarang: tidak akan ditampilkan lagi.".into())),
                secret: Some(secret.expose().to_string()),
                form_error: None,
            };
            render(&state, &session, shown, &WebhookForm::default()).await
        }
        Err(e) if e.is_not_found() => not_found(&session),
        Err(e) => internal(e),
    }
}

/// `POST /console/webhooks/deliveries/{id}/redeliver`: sends the same event again.
pub async fn redeliver(State(state): State<AppState>, form: ActionForm) -> Response {
    let (session, id) = (form.session, WebhookDeliveryId(form.id));
    match state
        .webhooks()
        .redeliver(session.org.id, id, &session.actor())
        .await
    {
        Ok(_) => see_other("/console/webhooks?done=redeliver"),
        Err(e) if e.is_not_found() => not_found(&session),
        Err(e) => internal(e),
    }
}
