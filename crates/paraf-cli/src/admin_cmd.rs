//! `paraf admin …`: operator commands on the same data the server uses — organisations,
//! users, API tokens, application credentials, identities, seals, webhook endpoints, the audit
//! chain and the development outbox.
//!
//! Every command takes `--data DIR` (default `./paraf-data`, database `DIR/paraf.db`; env
//! `PARAF_DATA`) or `--database-url URL` (env `PARAF_DATABASE_URL`; wins over `--data`), and
//! reads the rest of the server's settings (`DATA/paraf.toml`, `PARAF_*`) with the server's
//! own loader (`paraf_core::Config::load`).
//! Each change is recorded in the organisation's audit chain with the actor `cli`.
//! Secrets (the API token) are printed alone on stdout, once; everything else is a short
//! confirmation line. Bad input fails with one line on stderr and exit status 1.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use paraf_core::audit::Actor;
use paraf_core::directory;
use paraf_core::{Config, ConfigLayer, Core, CoreError, Services};
use paraf_domain::{
    AuditChainReport, Clock, DomainError, Email, Entity, IpAllowList, KeyAlgorithm, NewApiToken,
    NewAppCredential, NewOrganisation, NewUser, Nik, OrgName, Organisation, Password, PersonName,
    Plan, Role, SignatureLevel, Slug, SystemClock,
};
use paraf_store::Store;

/// `paraf admin`: where the data is, and what to do.
#[derive(Args, Debug)]
pub struct AdminArgs {
    /// Data directory (database at DIR/paraf.db) [default: ./paraf-data; env PARAF_DATA].
    #[arg(long, value_name = "DIR", global = true)]
    data: Option<PathBuf>,
    /// Database URL, sqlite://PATH or postgres://… (wins over --data) [env PARAF_DATABASE_URL].
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Organisations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users of an organisation.
    #[command(subcommand)]
    User(UserCommand),
    /// Named API tokens (shown once).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Basic-auth application credentials.
    #[command(subcommand, name = "app-credential")]
    AppCredential(AppCredentialCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The mail outbox (in development, mail is kept here instead of being sent).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Signing identities (BSrE users: certificate + passphrase-sealed key).
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Organisation seals (BSrE `idSubscriber`).
    #[command(subcommand)]
    Seal(SealCommand),
    /// Envelopes: list them (with why they ended), resume a failed seal, cancel.
    #[command(subcommand)]
    Envelope(crate::envelope_cmd::EnvelopeCommand),
    /// Webhook endpoints (Standard Webhooks signatures) and their delivery log.
    #[command(subcommand)]
    Webhook(crate::webhook_cmd::WebhookCommand),
    /// Application keys of the external API (`/ext/v1`): x-app-key and an Ed25519 key pair.
    #[command(subcommand, name = "app-key")]
    AppKey(crate::app_key_cmd::AppKeyCommand),
    /// Single sign-on: the organisation's SAML identity provider.
    #[command(subcommand)]
    Saml(crate::saml_cmd::SamlCommand),
    /// Checks everything stored: each blob a row names exists and still hashes to its id,
    /// envelope and revision rows agree, every audit chain is intact. Prints each problem;
    /// exits non-zero on any.
    Fsck,
    /// The server's built-in CA (where `ca_store` keeps it: files or the database).
    #[command(subcommand)]
    Ca(AdminCaCommand),
}

#[derive(Subcommand, Debug)]
enum AdminCaCommand {
    /// Its CAs: the root and every issuing CA generation, until when each is valid, and which
    /// one issues.
    Show,
    /// Renew it: a new issuing CA and TSA under the same root, which issue and timestamp from
    /// now on; the earlier issuing CAs keep answering OCSP and CRL requests. Running servers
    /// load it within a minute (with `ca_store = file`, at once). The server also does this by
    /// itself two years before the TSA's certificate ends.
    Renew,
}

#[derive(Subcommand, Debug)]
enum IdentityCommand {
    /// Register, verify, issue and activate in one step: the identity is ISSUE at once.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// National identity number (16 digits).
        #[arg(long)]
        nik: Option<String>,
        /// The passphrase sealing the private key (8+ characters) [env PARAF_IDENTITY_PASSPHRASE].
        #[arg(long)]
        passphrase: Option<String>,
        /// Also allow signing with e-mailed one-time codes (keeps a copy of the key sealed
        /// under the server master key).
        #[arg(long)]
        allow_totp: bool,
        /// rsa2048, rsa3072, p256 or p384 [default: the organisation's, see `org signing`];
        /// kept for the identity's later keys.
        #[arg(long)]
        key_type: Option<String>,
    },
    /// Revoke the certificate (published in the CRL and OCSP at once): REVOKE.
    Revoke(IdentityRef),
    /// Suspend: the identity cannot sign until reinstated.
    Suspend(IdentityRef),
    /// Lift a suspension: ISSUE again.
    Reinstate(IdentityRef),
    /// List an organisation's identities with their status.
    List {
        #[arg(long)]
        org: String,
    },
}

/// Which identity: by NIK or e-mail.
#[derive(Args, Debug)]
struct IdentityRef {
    /// Organisation slug.
    #[arg(long)]
    org: String,
    #[arg(long)]
    nik: Option<String>,
    #[arg(long)]
    email: Option<String>,
}

#[derive(Subcommand, Debug)]
enum SealCommand {
    /// Create an organisation seal: a key sealed under the server master key and a certificate
    /// from the built-in CA.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// BSrE's idSubscriber.
        #[arg(long)]
        id_subscriber: String,
        /// The seal's name (certificate CN) [default: the organisation's name].
        #[arg(long)]
        name: Option<String>,
        /// Where activation codes are mailed [default: the organisation's first admin].
        #[arg(long)]
        email: Option<String>,
        /// rsa2048, rsa3072, p256 or p384 [default: the organisation's, see `org signing`].
        #[arg(long)]
        key_type: Option<String>,
        /// Generate the key on a PKCS#11 token (HSM) through this module instead of sealing
        /// it under the master key; the server then needs PARAF_PKCS11_MODULE/PARAF_PKCS11_PIN.
        #[arg(long, value_name = "PATH", requires_all = ["pkcs11_token", "pkcs11_key"])]
        pkcs11_module: Option<PathBuf>,
        /// The token's label.
        #[arg(long, value_name = "LABEL")]
        pkcs11_token: Option<String>,
        /// The label to give the key on the token.
        #[arg(long, value_name = "LABEL")]
        pkcs11_key: Option<String>,
    },
    /// List an organisation's seals.
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
enum OrgCommand {
    /// Create an organisation on a plan.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        /// lontar, prasasti, piagam, keraton or nusantara.
        #[arg(long)]
        plan: String,
    },
    /// List organisations.
    List,
    /// Move an organisation to another plan (its rate limits and quotas become the plan's).
    Plan {
        #[arg(long)]
        org: String,
        /// lontar, prasasti, piagam, keraton or nusantara.
        #[arg(long)]
        plan: String,
    },
    /// Show or change how an organisation signs: the PAdES level of its direct (BSrE)
    /// signatures and the key type of its new identity and seal keys.
    Signing {
        #[arg(long)]
        org: String,
        /// B-T, B-LT or B-LTA (the default).
        #[arg(long)]
        level: Option<String>,
        /// rsa2048 (the default), rsa3072, p256 or p384.
        #[arg(long)]
        key_type: Option<String>,
    },
    /// Show or change an organisation's credits (one per GesDocs signature request).
    Credits {
        #[arg(long)]
        org: String,
        /// Add this many to a limited balance.
        #[arg(long, conflicts_with_all = ["set", "unlimited"])]
        add: Option<i64>,
        /// Set the balance.
        #[arg(long, conflicts_with = "unlimited", allow_negative_numbers = true)]
        set: Option<i64>,
        /// No limit (the default of organisations made here).
        #[arg(long)]
        unlimited: bool,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user (or, with --robot, a service account).
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Password for console login and the OAuth2 password grant (8+ characters).
        #[arg(long)]
        password: Option<String>,
        /// admin, instructor or signer.
        #[arg(long)]
        role: String,
        /// National identity number (16 digits).
        #[arg(long)]
        nik: Option<String>,
        /// A robot: authenticates with API tokens only.
        #[arg(long)]
        robot: bool,
    },
    /// List an organisation's users.
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create an API token for a user; prints the token, alone, once.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// The user's email.
        #[arg(long)]
        user: String,
        /// A name to recognise it by ("Backend ERP").
        #[arg(long)]
        name: String,
        /// Expire after this many days (default: never).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
enum AppCredentialCommand {
    /// Create a Basic-auth application credential.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// Allowed client address or CIDR (repeat; none: any address).
        #[arg(long = "allow-ip", value_name = "CIDR")]
        allow_ip: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check an organisation's audit chain (exit 1 if broken).
    Verify {
        /// Organisation slug.
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
enum OutboxCommand {
    /// Show the newest mails.
    List {
        /// Only this organisation's mail.
        #[arg(long)]
        org: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print the bodies too.
        #[arg(long)]
        full: bool,
    },
}

/// Runs an admin command on the data the server uses: the same settings (`--data`,
/// `--database-url`, `PARAF_*`, `DATA/paraf.toml`) resolved by the same loader.
pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    let flags = ConfigLayer {
        data: args.data,
        database_url: args.database_url,
        ..ConfigLayer::default()
    };
    let config = Config::load(flags, |k| std::env::var(k).ok())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let store = Store::connect(&config.database_url())
            .await
            .map_err(|e| anyhow!("opening the database: {e}"))?;
        let result = match args.command {
            AdminCommand::Identity(c) => match open_core(&config, &store).await {
                Ok(core) => identity_command(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::Seal(c) => match open_core(&config, &store).await {
                Ok(core) => seal_command(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::Webhook(c) => match open_core(&config, &store).await {
                Ok(core) => crate::webhook_cmd::run(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::Envelope(c) => match open_core(&config, &store).await {
                Ok(core) => crate::envelope_cmd::run(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::AppKey(c) => match open_core(&config, &store).await {
                Ok(core) => crate::app_key_cmd::run(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::Fsck => match open_core(&config, &store).await {
                Ok(core) => fsck(&core).await,
                Err(e) => Err(e),
            },
            AdminCommand::Saml(c) => match open_core(&config, &store).await {
                Ok(core) => crate::saml_cmd::run(&core, c).await,
                Err(e) => Err(e),
            },
            AdminCommand::Ca(c) => match open_core(&config, &store).await {
                Ok(core) => admin_ca(&core, c).await,
                Err(e) => Err(e),
            },
            other => execute(&store, other).await,
        };
        store.close().await;
        result
    })
}

/// `paraf admin ca show|renew`.
async fn admin_ca(core: &Core, cmd: AdminCaCommand) -> anyhow::Result<()> {
    if let AdminCaCommand::Renew = cmd {
        let name = core
            .pki
            .renew(core.now().into())
            .await
            .context("renewing the CA")?;
        println!("renewed: {name} (and its TSA) issue from now on");
    }
    let pki = core.pki.clone();
    let ca = tokio::task::spawn_blocking(move || pki.current()).await??;
    let current = ca.current_issuing();
    for (name, cert) in ca.ca_certificates() {
        let until = chrono::DateTime::<chrono::Utc>::from(
            cert.tbs_certificate.validity.not_after.to_system_time(),
        );
        let mark = if name == current { "\tissues" } else { "" };
        println!(
            "{name}\t{}\tuntil {}{mark}",
            cert.tbs_certificate.subject,
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    Ok(())
}

/// `paraf admin fsck`.
async fn fsck(core: &Core) -> anyhow::Result<()> {
    let r = core.fsck().await?;
    for p in &r.problems {
        println!("{p}");
    }
    println!(
        "fsck: {} blobs ({} references), {} audit chains: {} problems",
        r.blobs,
        r.references,
        r.chains,
        r.problems.len()
    );
    if !r.problems.is_empty() {
        bail!("{} problems found", r.problems.len());
    }
    Ok(())
}

/// The core on the data directory's CA (which `paraf serve` created).
async fn open_core(config: &Config, store: &Store) -> anyhow::Result<Core> {
    let ca_dir = config.ca_dir();
    let in_database = config.ca_store == paraf_core::config::CaLocation::Database;
    if in_database {
        if store.ca_authority().await?.is_none() {
            bail!("no CA in the database: start `paraf serve` once first");
        }
    } else if !ca_dir.join("state.json").exists() {
        bail!(
            "no CA in {}: start `paraf serve --data {}` once first",
            ca_dir.display(),
            config.data_dir.display()
        );
    }
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| config.public_url_for(config.listen));
    let services = Services {
        store: Some(store.clone()),
        ..Services::default()
    };
    let opened = Core::open(config.clone(), public_url, services)
        .await
        .map_err(|e| {
            if in_database {
                anyhow!("cannot open the CA in the database: {e}")
            } else {
                anyhow!("cannot open the CA in {}: {e}", ca_dir.display())
            }
        })?;
    Ok(opened.core)
}

fn identity_error(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::Domain(DomainError::Invalid { field, reason }) => {
            anyhow!("invalid --{field}: {reason}")
        }
        CoreError::Domain(DomainError::AlreadyExists { key, .. }) => {
            anyhow!("{key:?} is already registered in this organisation")
        }
        other => anyhow!("{other}"),
    }
}

async fn find_identity(
    store: &Store,
    r: &IdentityRef,
) -> anyhow::Result<(Organisation, paraf_domain::Identity)> {
    let org = org_by_slug(store, &r.org).await?;
    let found = match (&r.nik, &r.email) {
        (Some(n), _) => store.identity_by_nik(org.id, &parsed(Nik::parse(n))?).await,
        (None, Some(e)) => {
            store
                .identity_by_email(org.id, &parsed(Email::parse(e))?)
                .await
        }
        (None, None) => bail!("give --nik or --email"),
    };
    match found {
        Ok(i) => Ok((org, i)),
        Err(e) if e.is_not_found() => bail!("no such identity in {}", r.org),
        Err(e) => Err(e.into()),
    }
}

async fn identity_command(core: &Core, c: IdentityCommand) -> anyhow::Result<()> {
    let store = &core.store;
    let cli = Actor::cli();
    let now = SystemClock.now();
    let verb = match &c {
        IdentityCommand::Revoke(_) => "revoke",
        IdentityCommand::Suspend(_) => "suspend",
        _ => "reinstate",
    };
    match c {
        IdentityCommand::Create {
            org,
            name,
            email,
            nik,
            passphrase,
            allow_totp,
            key_type,
        } => {
            let org = org_by_slug(store, &org).await?;
            let key_type = parsed(key_type.as_deref().map(KeyAlgorithm::parse).transpose())?;
            let passphrase = passphrase
                .or_else(|| std::env::var("PARAF_IDENTITY_PASSPHRASE").ok())
                .ok_or_else(|| anyhow!("give --passphrase (or PARAF_IDENTITY_PASSPHRASE)"))?;
            let svc = core.identities().with_key_type(key_type);
            let i = svc
                .create_active(
                    org.id,
                    &name,
                    email.as_deref(),
                    nik.as_deref(),
                    &passphrase,
                    allow_totp,
                    &cli,
                )
                .await
                .map_err(identity_error)?;
            println!(
                "identity {} {} status {} certificate {}",
                i.nik.as_ref().map(|n| n.as_str()).unwrap_or("-"),
                i.email.as_ref().map(|e| e.as_str()).unwrap_or("-"),
                i.status_at(now),
                i.cert_serial.as_deref().unwrap_or("-")
            );
        }
        IdentityCommand::Revoke(r)
        | IdentityCommand::Suspend(r)
        | IdentityCommand::Reinstate(r) => {
            let (org, i) = find_identity(store, &r).await?;
            let svc = core.identities();
            let done = match verb {
                "revoke" => svc.revoke(org.id, i.id, &cli).await,
                "suspend" => svc.suspend(org.id, i.id, &cli).await,
                _ => svc.reinstate(org.id, i.id, &cli).await,
            };
            let i = done.map_err(identity_error)?;
            println!("identity {} status {}", i.id, i.status_at(now));
        }
        IdentityCommand::List { org } => {
            let org = org_by_slug(store, &org).await?;
            for i in store.list_identities(org.id).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    i.status_at(now),
                    i.nik.as_ref().map(|n| n.as_str()).unwrap_or("-"),
                    i.email.as_ref().map(|e| e.as_str()).unwrap_or("-"),
                    i.name,
                    i.cert_serial.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

async fn seal_command(core: &Core, c: SealCommand) -> anyhow::Result<()> {
    let store = &core.store;
    let cli = Actor::cli();
    let now = SystemClock.now();
    match c {
        SealCommand::Create {
            org,
            id_subscriber,
            name,
            email,
            key_type,
            pkcs11_module,
            pkcs11_token,
            pkcs11_key,
        } => {
            let org = org_by_slug(store, &org).await?;
            let key_type = parsed(key_type.as_deref().map(KeyAlgorithm::parse).transpose())?;
            let email = match email {
                Some(e) => e,
                None => store
                    .list_users(org.id)
                    .await?
                    .into_iter()
                    .find(|u| u.role == Role::Admin && !u.robot)
                    .map(|u| u.email.as_str().to_string())
                    .ok_or_else(|| anyhow!("give --email (the organisation has no admin)"))?,
            };
            let name = name.unwrap_or_else(|| org.name.as_str().to_string());
            let svc = core.identities().with_key_type(key_type);
            let created = match (pkcs11_module, pkcs11_token, pkcs11_key) {
                (Some(module), Some(token), Some(key)) => {
                    let pin = std::env::var("PARAF_PKCS11_PIN")
                        .ok()
                        .filter(|p| !p.is_empty())
                        .ok_or_else(|| anyhow!("set PARAF_PKCS11_PIN to the token's user PIN"))?;
                    svc.create_seal_on_token(
                        org.id,
                        &id_subscriber,
                        &name,
                        &email,
                        &cli,
                        &module,
                        &token,
                        &pin,
                        &key,
                    )
                    .await
                }
                _ => {
                    svc.create_seal(org.id, &id_subscriber, &name, &email, &cli)
                        .await
                }
            };
            let seal = created.map_err(|e| match e {
                CoreError::Domain(DomainError::AlreadyExists { key, .. }) => {
                    anyhow!("a seal with idSubscriber {key:?} already exists")
                }
                other => identity_error(other),
            })?;
            println!(
                "seal {} certificate {} activation codes to {}",
                seal.id_subscriber, seal.cert_serial, seal.email
            );
        }
        SealCommand::List { org } => {
            let org = org_by_slug(store, &org).await?;
            for s in store.list_seals(org.id).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    s.id_subscriber,
                    if s.activated(now) {
                        "activated"
                    } else {
                        "not-activated"
                    },
                    s.cert_serial,
                    s.name
                );
            }
        }
    }
    Ok(())
}

/// One line for a parse failure, naming the flag: "invalid --nik: …".
fn parsed<T>(r: Result<T, DomainError>) -> anyhow::Result<T> {
    r.map_err(|e| match e {
        DomainError::Invalid { field, reason } => {
            let flag = match field {
                "allowed_ips" => "allow-ip",
                "key_type" => "key-type",
                other => other,
            };
            anyhow!("invalid --{flag}: {reason}")
        }
        other => anyhow!("{other}"),
    })
}

/// The id of the organisation of `slug` (one line when unknown).
pub(crate) async fn org_id(core: &Core, slug: &str) -> anyhow::Result<paraf_domain::OrgId> {
    org_by_slug(&core.store, slug).await.map(|o| o.id)
}

/// A core refusal as the one line the CLI prints: an invalid field named as its flag.
pub(crate) fn core_refusal(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::Domain(DomainError::Invalid { field, reason }) => {
            anyhow!("invalid --{}: {reason}", field.replace('_', "-"))
        }
        other => anyhow!("{other}"),
    }
}

pub(crate) async fn org_by_slug(store: &Store, slug: &str) -> anyhow::Result<Organisation> {
    match store.organisation_by_slug(slug).await {
        Ok(o) => Ok(o),
        Err(e) if e.is_not_found() => bail!("unknown organisation {slug:?}"),
        Err(e) => Err(e.into()),
    }
}

fn exists_message(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::Domain(DomainError::AlreadyExists { entity, key }) => match entity {
            Entity::Organisation => anyhow!("an organisation with slug {key:?} already exists"),
            Entity::User => {
                anyhow!("a user with email {key:?} already exists in this organisation")
            }
            Entity::AppCredential => {
                anyhow!("an application credential named {key:?} already exists")
            }
            other => anyhow!("{other} {key:?} already exists"),
        },
        CoreError::Domain(d) => anyhow!("{d}"),
        other => anyhow!("{other}"),
    }
}

async fn execute(store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    let clock = SystemClock;
    match command {
        AdminCommand::Org(OrgCommand::Create { name, slug, plan }) => {
            let new = NewOrganisation {
                slug: parsed(Slug::parse(&slug))?,
                name: parsed(OrgName::parse(&name))?,
                plan: parsed(Plan::parse(&plan))?,
            };
            let org = directory::create_organisation(store, clock.now(), &new, &Actor::cli())
                .await
                .map_err(exists_message)?;
            println!(
                "created organisation {} ({}), plan {}",
                org.slug,
                org.name,
                org.plan.display_name()
            );
        }
        AdminCommand::Org(OrgCommand::Plan { org, plan }) => {
            let org = org_by_slug(store, &org).await?;
            let plan = parsed(Plan::parse(&plan))?;
            let o = directory::change_plan(store, clock.now(), org.id, plan, &Actor::cli()).await?;
            println!(
                "organisation {} is on plan {}",
                o.slug,
                o.plan.display_name()
            );
        }
        AdminCommand::Org(OrgCommand::Signing {
            org,
            level,
            key_type,
        }) => {
            let org = org_by_slug(store, &org).await?;
            let mut profile = org.signing;
            if let Some(l) = level.as_deref() {
                profile.level = parsed(SignatureLevel::parse(l))?;
            }
            if let Some(k) = key_type.as_deref() {
                profile.key_type = parsed(KeyAlgorithm::parse(k))?;
            }
            let o = if profile == org.signing {
                org
            } else {
                directory::change_signing_profile(
                    store,
                    clock.now(),
                    org.id,
                    profile,
                    &Actor::cli(),
                )
                .await?
            };
            println!(
                "{}: level {}, key type {}",
                o.slug,
                o.signing.level.as_str(),
                o.signing.key_type.as_str()
            );
        }
        AdminCommand::Org(OrgCommand::Credits {
            org,
            add,
            set,
            unlimited,
        }) => {
            let org = org_by_slug(store, &org).await?;
            let change = match (add, set, unlimited) {
                (Some(n), _, _) => Some(directory::CreditChange::Add(n)),
                (_, Some(n), _) => Some(directory::CreditChange::Set(Some(n))),
                (_, _, true) => Some(directory::CreditChange::Set(None)),
                _ => None,
            };
            let left = match change {
                Some(c) => directory::change_credits(store, clock.now(), org.id, c, &Actor::cli())
                    .await
                    .map_err(identity_error)?,
                None => store.credits(org.id).await?,
            };
            match left {
                Some(n) => println!("{}: {n} credits", org.slug),
                None => println!("{}: unlimited credits", org.slug),
            }
        }
        AdminCommand::Org(OrgCommand::List) => {
            for o in store.list_organisations().await? {
                println!("{}\t{}\t{}", o.slug, o.plan, o.name);
            }
        }
        AdminCommand::User(UserCommand::Create {
            org,
            name,
            email,
            password,
            role,
            nik,
            robot,
        }) => {
            let name = parsed(PersonName::parse(&name))?;
            let email = parsed(Email::parse(&email))?;
            let role = parsed(Role::parse(&role))?;
            let nik = parsed(nik.as_deref().map(Nik::parse).transpose())?;
            let password = parsed(password.as_deref().map(Password::parse).transpose())?;
            if robot && password.is_some() {
                bail!("a robot has no password (it uses API tokens): drop --password");
            }
            let org = org_by_slug(store, &org).await?;
            let new = NewUser {
                org: org.id,
                name,
                email,
                nik,
                role,
                robot,
                password,
                profile: Default::default(),
            };
            let user = directory::create_user(store, clock.now(), &new, &Actor::cli())
                .await
                .map_err(exists_message)?;
            println!(
                "created {} {} <{}> in {}",
                if user.robot {
                    "robot"
                } else {
                    user.role.as_str()
                },
                user.name,
                user.email,
                org.slug
            );
        }
        AdminCommand::User(UserCommand::List { org }) => {
            let org = org_by_slug(store, &org).await?;
            for u in store.list_users(org.id).await? {
                println!(
                    "{}\t{}\t{}{}\t{}",
                    u.email,
                    u.role,
                    if u.robot { "robot" } else { "person" },
                    if u.disabled { " (disabled)" } else { "" },
                    u.name
                );
            }
        }
        AdminCommand::Token(TokenCommand::Create {
            org,
            user,
            name,
            expires_in_days,
        }) => {
            let email = parsed(Email::parse(&user))?;
            let org = org_by_slug(store, &org).await?;
            let user = match store.user_by_email(org.id, &email).await {
                Ok(u) => u,
                Err(e) if e.is_not_found() => bail!("no user {email} in organisation {}", org.slug),
                Err(e) => return Err(e.into()),
            };
            let now = clock.now();
            let new = NewApiToken {
                org: org.id,
                user: user.id,
                name,
                expires_at: expires_in_days.map(|d| now + chrono::Duration::days(i64::from(d))),
            };
            let (_, secret) = directory::create_api_token(store, now, &new, &Actor::cli())
                .await
                .map_err(exists_message)?;
            // The only copy of the secret: alone on stdout.
            println!("{}", secret.expose());
        }
        AdminCommand::AppCredential(AppCredentialCommand::Create {
            org,
            username,
            password,
            allow_ip,
            description,
        }) => {
            let username = parsed(NewAppCredential::parse_username(&username))?;
            let password = parsed(Password::parse(&password))?;
            let allowed_ips = parsed(IpAllowList::parse(&allow_ip))?;
            let org = org_by_slug(store, &org).await?;
            let new = NewAppCredential {
                org: org.id,
                username,
                password,
                description,
                allowed_ips,
            };
            let cred =
                directory::create_app_credential(store, clock.now(), &new, true, &Actor::cli())
                    .await
                    .map_err(exists_message)?;
            let ips = if cred.allowed_ips.is_empty() {
                "any address".to_owned()
            } else {
                cred.allowed_ips.to_strings().join(", ")
            };
            println!(
                "created application credential {} in {} (allowed: {ips})",
                cred.username, org.slug
            );
        }
        AdminCommand::Audit(AuditCommand::Verify { org }) => {
            let org = org_by_slug(store, &org).await?;
            match store.verify_audit_chain(org.id).await? {
                AuditChainReport::Intact { records, head } => {
                    println!(
                        "audit chain of {} intact: {records} records, head {head}",
                        org.slug
                    );
                }
                AuditChainReport::Broken(b) => {
                    let why = paraf_core::fsck::break_words(b.reason);
                    bail!(
                        "audit chain of {} is broken at record {}: {why}",
                        org.slug,
                        b.seq
                    );
                }
            }
        }
        AdminCommand::Identity(_)
        | AdminCommand::Seal(_)
        | AdminCommand::Webhook(_)
        | AdminCommand::Envelope(_)
        | AdminCommand::Saml(_)
        | AdminCommand::Fsck
        | AdminCommand::Ca(_)
        | AdminCommand::AppKey(_) => {
            bail!("identity, seal, webhook, envelope, saml, app-key, fsck and ca commands need the core: dispatched in run()")
        }
        AdminCommand::Outbox(OutboxCommand::List { org, limit, full }) => {
            let org_id = match org {
                Some(slug) => Some(org_by_slug(store, &slug).await?.id),
                None => None,
            };
            for m in store.list_mail(org_id, limit).await? {
                println!(
                    "#{}\t{}\t{}\t{}\t{}",
                    m.id,
                    m.created_at.to_rfc3339(),
                    m.status,
                    m.to,
                    m.subject
                );
                if full {
                    println!("{}\n", m.text);
                }
            }
        }
    }
    Ok(())
}
