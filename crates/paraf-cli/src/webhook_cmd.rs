//! `paraf admin webhook …`: an organisation's webhook endpoints (Standard Webhooks), through
//! the core's `Webhooks` service like the console: create (prints `<id>\t<whsec_ secret>` on
//! stdout, the only time the secret is shown), list, rotate (prints the new secret alone; the
//! old one keeps signing for a day), enable, disable, delete, the delivery log, redelivery.

use clap::Subcommand;
use paraf_core::audit::Actor;
use paraf_core::Core;
use paraf_domain::{WebhookDeliveryId, WebhookEndpointId};

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Add an endpoint; prints its id and its secret (once), separated by a tab.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Where events are POSTed (http:// or https://).
        #[arg(long)]
        url: String,
        /// Event types it receives, comma-separated (`envelope.completed`, `envelope.*`)
        /// [default: every event].
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the organisation's endpoints.
    List {
        #[arg(long)]
        org: String,
    },
    /// A new secret (printed alone, once); the old one signs beside it for 24 hours.
    Rotate(EndpointRef),
    /// Deliver events to the endpoint again.
    Enable(EndpointRef),
    /// Stop delivering (events meanwhile are dropped).
    Disable(EndpointRef),
    /// Delete the endpoint (its delivery log stays).
    Delete(EndpointRef),
    /// The newest delivery attempts.
    Deliveries {
        #[arg(long)]
        org: String,
        /// Only this endpoint's.
        #[arg(long)]
        id: Option<i64>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Send the event of a recorded delivery again (same id and body).
    Redeliver {
        #[arg(long)]
        org: String,
        /// The delivery's id (from `deliveries`).
        #[arg(long)]
        delivery: i64,
    },
}

/// Which endpoint.
#[derive(clap::Args, Debug)]
pub struct EndpointRef {
    /// Organisation slug.
    #[arg(long)]
    org: String,
    /// The endpoint's id.
    #[arg(long)]
    id: i64,
}

/// Runs one webhook command.
pub async fn run(core: &Core, c: WebhookCommand) -> anyhow::Result<()> {
    let hooks = core.webhooks();
    let cli = Actor::cli();
    let org_id = |slug: String| async move { crate::admin_cmd::org_id(core, &slug).await };
    match c {
        WebhookCommand::Create {
            org,
            url,
            events,
            description,
        } => {
            let (ep, secret) = hooks
                .create(org_id(org).await?, &url, &events, &description, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            // The only copy of the secret.
            println!("{}\t{}", ep.id, secret.expose());
        }
        WebhookCommand::List { org } => {
            for ep in hooks
                .list(org_id(org).await?)
                .await
                .map_err(crate::admin_cmd::core_refusal)?
            {
                let events = if ep.events.is_empty() {
                    "*".to_string()
                } else {
                    ep.events.join(",")
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    ep.id,
                    if ep.enabled { "enabled" } else { "disabled" },
                    ep.url,
                    events,
                    ep.description
                );
            }
        }
        WebhookCommand::Rotate(r) => {
            let (_, secret) = hooks
                .rotate(org_id(r.org).await?, WebhookEndpointId(r.id), &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            println!("{}", secret.expose());
        }
        WebhookCommand::Enable(r) => {
            let ep = hooks
                .set_enabled(org_id(r.org).await?, WebhookEndpointId(r.id), true, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            println!("webhook endpoint {} enabled", ep.id);
        }
        WebhookCommand::Disable(r) => {
            let ep = hooks
                .set_enabled(org_id(r.org).await?, WebhookEndpointId(r.id), false, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            println!("webhook endpoint {} disabled", ep.id);
        }
        WebhookCommand::Delete(r) => {
            hooks
                .delete(org_id(r.org).await?, WebhookEndpointId(r.id), &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            println!("webhook endpoint {} deleted", r.id);
        }
        WebhookCommand::Deliveries { org, id, limit } => {
            let org = org_id(org).await?;
            for d in hooks
                .deliveries(org, id.map(WebhookEndpointId), limit)
                .await
                .map_err(crate::admin_cmd::core_refusal)?
            {
                let outcome = match (d.status_code, &d.error) {
                    (Some(c), None) => c.to_string(),
                    (Some(c), Some(e)) => format!("{c} {e}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "-".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\tattempt {}\t{}\t{} ms",
                    d.id,
                    d.at.to_rfc3339(),
                    d.endpoint.map(|e| e.to_string()).unwrap_or("-".into()),
                    d.event,
                    d.attempt,
                    outcome,
                    d.duration_ms
                );
            }
        }
        WebhookCommand::Redeliver { org, delivery } => {
            let job = hooks
                .redeliver(org_id(org).await?, WebhookDeliveryId(delivery), &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            println!("delivery {delivery} queued again (job {job})");
        }
    }
    Ok(())
}
