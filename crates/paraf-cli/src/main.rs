//! `paraf`: the command line — offline signing, the built-in CA, and (later) the server.

mod ca_cmd;
mod net;
mod sign_cmd;
mod verify_cmd;

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
    /// The built-in certificate authority.
    #[command(subcommand)]
    Ca(ca_cmd::CaCommand),
    /// Sign a PDF (PAdES B-B, B-T, B-LT or B-LTA) in an incremental update.
    Sign(Box<sign_cmd::SignArgs>),
    /// Verify the signatures of a PDF (exit 0 passed, 1 failed/indeterminate, 2 none, 3 unreadable).
    Verify(verify_cmd::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ca(c) => ca_cmd::run(c),
        Command::Sign(a) => sign_cmd::run(*a),
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
