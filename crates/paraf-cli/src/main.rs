//! `paraf`: the command line — offline signing, the built-in CA, and (later) the server.

mod admin_cmd;
mod app_key_cmd;
mod ca_cmd;
mod envelope_cmd;
mod ltv_cmd;
mod net;
mod saml_cmd;
mod serve_cmd;
mod sign_cmd;
mod verify_cmd;
mod webhook_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "paraf",
    version,
    about = "Paraf: PAdES signatures, a built-in CA and TSA"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Operator tasks on the server's data: organisations, users, tokens, credentials, audit.
    Admin(admin_cmd::AdminArgs),
    /// The built-in certificate authority.
    #[command(subcommand)]
    Ca(ca_cmd::CaCommand),
    /// Sign a PDF (PAdES B-B, B-T, B-LT or B-LTA) in an incremental update.
    Sign(Box<sign_cmd::SignArgs>),
    /// Long-term validation: renew a signed PDF's archive timestamp (B-LTA).
    #[command(subcommand)]
    Ltv(ltv_cmd::LtvCommand),
    /// Run the HTTP server (PKI endpoints, API, background jobs).
    Serve(serve_cmd::ServeArgs),
    /// Verify the signatures of a PDF (exit 0 passed, 1 failed/indeterminate, 2 none, 3 unreadable).
    Verify(verify_cmd::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Admin(a) => admin_cmd::run(a),
        Command::Ca(c) => ca_cmd::run(c),
        Command::Ltv(c) => ltv_cmd::run(c),
        Command::Sign(a) => sign_cmd::run(*a),
        Command::Serve(a) => serve_cmd::run(a),
        Command::Verify(a) => return verify_cmd::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paraf: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
