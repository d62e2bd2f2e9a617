//! `paraf serve`: runs the HTTP server (`paraf_server::Application`) on a tokio runtime built
//! here (`main` stays synchronous). Settings: these flags, then `PARAF_*` variables, then
//! `DATA/paraf.toml` (see docs/configuration.md). On the very first start it prints the admin
//! password and an API token once, to stdout; logs go to stderr.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use paraf_server::{Config, ConfigLayer};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080; env PARAF_LISTEN].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Data directory: SQLite database, blobs, CA [default: ./paraf-data; env PARAF_DATA].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [default: sqlite://DIR/paraf.db; env PARAF_DATABASE_URL].
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Base URL clients and certificates use to reach this server [default: http://ADDR; env PARAF_PUBLIC_URL].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Largest request body, e.g. 20MiB [default: 21MiB; env PARAF_BODY_LIMIT].
    #[arg(long, value_name = "SIZE")]
    body_limit: Option<String>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let flags = ConfigLayer {
        listen: args.listen,
        data: args.data,
        database_url: args.database_url,
        public_url: args.public_url,
        body_limit: args.body_limit,
        ..ConfigLayer::default()
    };
    let config = Config::load(flags, |k| std::env::var(k).ok())?;
    paraf_server::logging::init(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("paraf-server")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let app = paraf_server::build(config)
            .await
            .context("starting the server")?;
        if let Some(first) = app.first_start() {
            // Printed once, never logged: the only copy of these secrets.
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Paraf first start: organisation `{}` created.\n\
                 \n  admin e-mail:    {}\n  admin password:  {}\n  API token:       {}\n\n\
                 Keep them now: they are shown only this once.\n\
                 Try: curl -H 'Authorization: Bearer {}' {}/api/me",
                first.org_slug,
                first.admin_email,
                first.admin_password,
                first.api_token,
                first.api_token,
                app.public_url()
            )?;
            out.flush()?;
        }
        eprintln!(
            "paraf: listening on {} ({})",
            app.address(),
            app.public_url()
        );
        app.run_until_stopped().await.context("serving")
    })
}
