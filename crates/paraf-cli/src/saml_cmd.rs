//! `paraf admin saml …`: an organisation's SAML identity provider, for Signing Today's
//! `POST /api/auth/saml`. `set` reads the IdP's metadata from a file, `-` (stdin) or an
//! `https://` URL (fetched through the guarded outbound client: private, loopback and
//! link-local addresses refused unless `outbound_allow_private`, 1 MiB, 30 s) and prints the settings
//! the IdP needs (our entity id and assertion consumer URL) and, the first time or with
//! `--rotate-secret`, the relay secret (once: it is sealed in the database after).

use std::io::Read as _;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use paraf_core::audit::Actor;
use paraf_core::saml::{SamlSettings, SamlSetup};
use paraf_core::{Core, CoreError};
use paraf_domain::DomainError;

/// The largest metadata file read.
const MAX_METADATA_BYTES: u64 = 1024 * 1024;

#[derive(Subcommand, Debug)]
pub enum SamlCommand {
    /// Set (or replace) the identity provider; prints the settings and, when one is made,
    /// `relay-secret:\t<hex>` (the only time it is shown).
    Set {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// The IdP's SAML metadata (an EntityDescriptor): a file, `-` for stdin, or an
        /// http(s) URL.
        #[arg(long)]
        metadata: String,
        /// Our entity id, the audience the IdP names [default: PUBLIC_URL/saml/ORG].
        #[arg(long)]
        sp_entity_id: Option<String>,
        /// Our assertion consumer URL, the recipient the IdP names
        /// [default: PUBLIC_URL/api/auth/saml].
        #[arg(long)]
        acs_url: Option<String>,
        /// Where the browser goes after a login, the token in the URL fragment
        /// [default: PUBLIC_URL/].
        #[arg(long)]
        redirect_url: Option<String>,
        /// Make a new relay secret (the old one stops working).
        #[arg(long)]
        rotate_secret: bool,
    },
    /// Show the organisation's SAML settings (never the relay secret).
    Show {
        #[arg(long)]
        org: String,
    },
    /// Turn SAML off for the organisation.
    Remove {
        #[arg(long)]
        org: String,
    },
}

fn print(s: &SamlSettings) {
    println!("idp-entity-id:\t{}", s.idp_entity_id);
    println!("idp-certificates:\t{}", s.idp_certificates);
    if let Some(sso) = &s.idp_sso_url {
        println!("idp-sso-url:\t{sso}");
    }
    println!("sp-entity-id:\t{}", s.sp_entity_id);
    println!("acs-url:\t{}", s.acs_url);
    println!("redirect-url:\t{}", s.redirect_url);
}

async fn read_metadata(core: &Core, path: &str) -> anyhow::Result<Vec<u8>> {
    if path.starts_with("https://") || path.starts_with("http://") {
        let client = paraf_http::outbound::Outbound::new(
            core.outbound(),
            concat!("Paraf/", env!("CARGO_PKG_VERSION")),
            std::time::Duration::from_secs(30),
        )
        .map_err(|e| anyhow!("{e}"))?;
        return client
            .fetch(path, MAX_METADATA_BYTES)
            .await
            .map(|f| f.bytes)
            .map_err(|e| anyhow!("invalid --metadata: fetching the URL: {e}"));
    }
    let mut buf = Vec::new();
    if path == "-" {
        std::io::stdin()
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut buf)
            .context("reading the metadata from stdin")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {path}"))?
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {path}"))?;
    }
    if buf.len() as u64 > MAX_METADATA_BYTES {
        return Err(anyhow!("the metadata is larger than 1 MiB"));
    }
    Ok(buf)
}

/// Runs one SAML command.
pub async fn run(core: &Core, c: SamlCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    let org_id = |slug: String| async move { crate::admin_cmd::org_id(core, &slug).await };
    match c {
        SamlCommand::Set {
            org,
            metadata,
            sp_entity_id,
            acs_url,
            redirect_url,
            rotate_secret,
        } => {
            let setup = SamlSetup {
                metadata: read_metadata(core, &metadata).await?,
                sp_entity_id,
                acs_url,
                redirect_url,
                rotate_secret,
            };
            let done = core
                .set_saml(org_id(org).await?, setup, &cli)
                .await
                .map_err(crate::admin_cmd::core_refusal)?;
            print(&done.settings);
            if let Some(secret) = done.relay_secret {
                // The only copy of the secret.
                println!("relay-secret:\t{}", secret.expose());
            }
        }
        SamlCommand::Show { org } => match core
            .saml_settings(org_id(org.clone()).await?)
            .await
            .map_err(crate::admin_cmd::core_refusal)?
        {
            Some(s) => print(&s),
            None => return Err(anyhow!("SAML is not set up for {org:?}")),
        },
        SamlCommand::Remove { org } => {
            core.remove_saml(org_id(org.clone()).await?, &cli)
                .await
                .map_err(|e| match e {
                    CoreError::Domain(DomainError::NotFound { .. }) => {
                        anyhow!("SAML is not set up for {org:?}")
                    }
                    other => crate::admin_cmd::core_refusal(other),
                })?;
        }
    }
    Ok(())
}
