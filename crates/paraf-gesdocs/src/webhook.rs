//! The GesDocs webhook body (seed 002, section 2): every envelope event of a request made
//! through GesDocs is sent to the account's endpoints in this shape (signed like every Paraf
//! webhook, Standard Webhooks headers; see `docs/gesdocs.md`).

use paraf_core::domain::{Envelope, Timestamp};
use paraf_core::events::EnvelopeEvent;

use crate::signature_requests::{signataire, statut};
use crate::wire::{Demandeur, FileUrl, Personne, Utilisateur, WebhookData, WebhookPayload};

/// GesDocs' event name for a core event.
pub fn event_name(core_event: &str) -> &str {
    match core_event {
        "envelope.sent" => "document_sent",
        "recipient.signed" => "document_signed",
        "envelope.completed" => "document_completed",
        "envelope.declined" => "document_refused",
        "envelope.expired" => "document_expired",
        "envelope.cancelled" => "document_cancelled",
        "envelope.seal_failed" => "document_seal_failed",
        "recipient.replaced" => "signer_replaced",
        "recipient.delegated" => "signer_delegated",
        other => other,
    }
}

fn date(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn completed(e: &Envelope) -> bool {
    e.proof.is_some() && e.completed_at.is_some()
}

/// The body for `ev`.
pub fn body(ev: &EnvelopeEvent<'_>) -> WebhookPayload {
    let e = ev.envelope;
    let h = &e.header;
    let done = completed(e);
    WebhookPayload {
        event: event_name(ev.event).to_string(),
        data: WebhookData {
            id: e.id.0,
            token: e.uuid.clone(),
            document_hash: ev.document_hash.clone(),
            signataire: ev.actor.map(|r| Personne {
                email: r.email.as_str().to_string(),
                prenom: r.first_name.clone(),
                nom: r.last_name.clone(),
            }),
            signataires: ev.recipients.iter().map(|r| signataire(r, None)).collect(),
            statut: statut(e.status).to_string(),
            date_creation: date(e.created_at),
            date_expiration: h.expires_at.map(date),
            date_signature: ev
                .actor
                .and_then(|r| r.signed_at)
                .or(if done { e.completed_at } else { None })
                .map(date),
            demandeur: Demandeur {
                email: h.sender_email.as_str().to_string(),
            },
            utilisateur: Utilisateur {
                email: ev
                    .creator
                    .map_or(h.sender_email.as_str(), |u| u.email.as_str())
                    .to_string(),
                entreprise: ev.organisation.name.as_str().to_string(),
            },
            document_signe: FileUrl {
                url: ev.links.document.clone(),
            },
            certificat_pdf: done.then(|| FileUrl {
                url: ev.links.certificate_pdf.clone(),
            }),
            certificat_json: done.then(|| FileUrl {
                url: ev.links.certificate_json.clone(),
            }),
            ip: ev.actor.and_then(|r| r.ip.clone()),
            navigateur: ev.actor.and_then(|r| r.user_agent.clone()),
            motif_refus: ev.actor.and_then(|r| r.decline_reason.clone()),
            preuve: ev.proof.cloned(),
            metadata: h.metadata.clone(),
        },
        credits_left: ev.credits_left,
    }
}

/// [`body`] as JSON (the dialect's [`paraf_core::events::PayloadFn`]).
pub fn payload(ev: &EnvelopeEvent<'_>) -> serde_json::Value {
    serde_json::to_value(body(ev)).unwrap_or_default()
}
