//! `paraf admin app-key …`: application keys of the external API (`/ext/v1`, seed-004
//! conventions). `create` and `rotate` print `x-app-key:\t<key>` and then the Ed25519 private
//! key as PKCS#8 PEM — the only time it is shown (Paraf keeps the public key); `list` prints
//! `<id>\t<x-app-key>\t<enabled|disabled>\t<signature required|optional>\t<name>`.

use clap::Subcommand;
use paraf_core::app_keys::IssuedAppKey;
use paraf_core::audit::Actor;
use paraf_core::Core;
use paraf_domain::GatewayAppId;

#[derive(Subcommand, Debug)]
pub enum AppKeyCommand {
    /// Make a key for a client system; prints its x-app-key and private key (once).
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// What the client system is (shown in lists).
        #[arg(long)]
        name: String,
        /// Every request must carry x-signature (Ed25519 over method, path, x-request-id
        /// and the body's SHA-256).
        #[arg(long)]
        require_signature: bool,
    },
    /// The organisation's keys.
    List {
        #[arg(long)]
        org: String,
    },
    /// Accept requests with the key again.
    Enable(AppKeyRef),
    /// Refuse requests with the key (401) until enabled.
    Disable(AppKeyRef),
    /// A new key pair (printed once); the old private key stops working at once.
    Rotate(AppKeyRef),
    /// Delete the key: refused from then on, and its users' tokens revoked.
    Delete(AppKeyRef),
}

/// Which key.
#[derive(clap::Args, Debug)]
pub struct AppKeyRef {
    /// Organisation slug.
    #[arg(long)]
    org: String,
    /// The key's id (from `list`).
    #[arg(long)]
    id: i64,
}

fn print_issued(k: &IssuedAppKey) {
    println!("x-app-key:\t{}", k.app.app_key);
    // The only copy of the private key.
    print!("{}", k.private_key_pem.expose());
}

/// Runs one app-key command.
pub async fn run(core: &Core, c: AppKeyCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    let org_id = |slug: String| async move { crate::admin_cmd::org_id(core, &slug).await };
    match c {
        AppKeyCommand::Create {
            org,
            name,
            require_signature,
        } => {
            let k = core
                .create_app_key(org_id(org).await?, &name, require_signature, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            print_issued(&k);
        }
        AppKeyCommand::List { org } => {
            for a in core
                .app_keys(org_id(org).await?)
                .await
                .map_err(crate::admin_cmd::core_refusal)?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.id.0,
                    a.app_key,
                    if a.enabled { "enabled" } else { "disabled" },
                    if a.require_signature {
                        "signature required"
                    } else {
                        "signature optional"
                    },
                    a.name
                );
            }
        }
        AppKeyCommand::Enable(r) => {
            core.set_app_key_enabled(org_id(r.org).await?, GatewayAppId(r.id), true, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
        }
        AppKeyCommand::Disable(r) => {
            core.set_app_key_enabled(org_id(r.org).await?, GatewayAppId(r.id), false, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
        }
        AppKeyCommand::Rotate(r) => {
            let k = core
                .rotate_app_key(org_id(r.org).await?, GatewayAppId(r.id), &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            print_issued(&k);
        }
        AppKeyCommand::Delete(r) => {
            core.delete_app_key(org_id(r.org).await?, GatewayAppId(r.id), &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
        }
    }
    Ok(())
}
