//! `paraf admin envelope …`: what an operator needs to see and unstick envelopes — the list
//! (with the reason of a `seal_failed`, `declined`, `expired` or `cancelled` one), resuming a
//! failed seal at once, cancelling.

use anyhow::anyhow;
use clap::Subcommand;
use paraf_core::audit::Actor;
use paraf_core::Core;
use paraf_domain::{EnvelopeId, EnvelopeStatus};

#[derive(Subcommand, Debug)]
pub enum EnvelopeCommand {
    /// The organisation's envelopes, newest first: id, uuid, status, title, reason.
    List {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Only those in this status (`seal_failed`, `sent`, `completed`…).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Seal a `seal_failed` envelope again now (the server also retries every minute).
    Reseal {
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
    },
    /// Cancel an envelope that is not finished.
    Cancel {
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: i64,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// Runs one envelope command.
pub async fn run(core: &Core, c: EnvelopeCommand) -> anyhow::Result<()> {
    let org_id = |slug: String| async move {
        match core.store.organisation_by_slug(&slug).await {
            Ok(o) => Ok(o.id),
            Err(e) if e.is_not_found() => Err(anyhow!("unknown organisation {slug:?}")),
            Err(e) => Err(anyhow!("{e}")),
        }
    };
    let show = |e: &paraf_domain::Envelope| {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            e.id,
            e.uuid,
            e.status,
            e.header.title,
            e.status_reason.as_deref().unwrap_or("")
        );
    };
    match c {
        EnvelopeCommand::List { org, status, limit } => {
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(
                    EnvelopeStatus::from_db(s)
                        .ok_or_else(|| anyhow!("invalid --status: {s:?} is not a status"))?,
                ),
            };
            for e in core
                .envelopes(org_id(org).await?, status, limit)
                .await
                .map_err(|e| anyhow!("{e}"))?
            {
                show(&e);
            }
        }
        EnvelopeCommand::Reseal { org, id } => {
            let e = core
                .reseal(org_id(org).await?, EnvelopeId(id))
                .await
                .map_err(|e| anyhow!("{e}"))?;
            show(&e);
            if e.status != EnvelopeStatus::Completed {
                return Err(anyhow!("the envelope is still {}", e.status));
            }
        }
        EnvelopeCommand::Cancel { org, id, reason } => {
            let e = core
                .cancel_envelope(org_id(org).await?, EnvelopeId(id), &reason, &Actor::cli())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            show(&e);
        }
    }
    Ok(())
}
