//! `paraf ltv`: long-term validation of a signed PDF kept outside the server — renew its
//! archive timestamp (B-LTA) before the newest one's TSA certificate expires.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use paraf_pdf::Document;
use paraf_sign::Services;

use crate::sign_cmd::{write_atomically, Sources};

#[derive(Subcommand)]
pub enum LtvCommand {
    /// Add the validation data of the newest signature or document timestamp (DSS) and a new
    /// document timestamp over it all; with --within, only when the newest document
    /// timestamp's certificate expires within that many days.
    Refresh(RefreshArgs),
    /// Say until when the newest document timestamp's certificate is valid.
    Show {
        input: PathBuf,
        /// Password of an encrypted PDF.
        #[arg(long)]
        pdf_password: Option<String>,
    },
}

#[derive(Args)]
pub struct RefreshArgs {
    /// The signed PDF.
    input: PathBuf,
    /// Where to write the extended PDF (written whole or not at all; may be the input).
    #[arg(short, long)]
    output: PathBuf,
    /// An RFC 3161 timestamp authority.
    #[arg(long, conflicts_with = "ca_dir", required_unless_present = "ca_dir")]
    tsa_url: Option<String>,
    /// A built-in CA directory: its TSA timestamps, it answers revocation for its certificates
    /// (others are fetched from the URLs in the certificates).
    #[arg(long)]
    ca_dir: Option<PathBuf>,
    /// Renew only when the newest document timestamp expires within this many days (a file
    /// without one is always extended).
    #[arg(long, value_name = "DAYS")]
    within: Option<u64>,
    /// Password of an encrypted PDF.
    #[arg(long)]
    pdf_password: Option<String>,
}

fn load(path: &PathBuf, password: Option<&str>) -> anyhow::Result<Document> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Document::load(data, password.map(str::as_bytes))
        .map_err(|e| anyhow!("cannot read {} as a PDF: {e}", path.display()))
}

fn date(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub fn run(c: LtvCommand) -> anyhow::Result<()> {
    match c {
        LtvCommand::Show {
            input,
            pdf_password,
        } => {
            let doc = load(&input, pdf_password.as_deref())?;
            match paraf_sign::archive_expiry(&doc)? {
                Some(t) => println!("archive timestamp valid until {}", date(t)),
                None => println!("no document timestamp (not B-LTA)"),
            }
            Ok(())
        }
        LtvCommand::Refresh(a) => refresh(a),
    }
}

fn refresh(a: RefreshArgs) -> anyhow::Result<()> {
    let doc = load(&a.input, a.pdf_password.as_deref())?;
    let expiry = paraf_sign::archive_expiry(&doc)?;
    if let (Some(days), Some(until)) = (a.within, expiry) {
        let horizon =
            SystemTime::now().checked_add(Duration::from_secs(days.saturating_mul(86_400)));
        if horizon.is_some_and(|h| until > h) {
            println!(
                "archive timestamp valid until {}: not renewed (more than {days} days left)",
                date(until)
            );
            return Ok(());
        }
    }
    let sources = Sources::open(a.tsa_url.clone(), a.ca_dir.as_deref())?;
    let revocation = sources.revocation(true);
    let services = Services {
        timestamper: sources.timestamper(),
        revocation: Some(&revocation),
    };
    let pdf = paraf_sign::renew_archive(&doc, services, std::time::SystemTime::now())?;
    write_atomically(&a.output, &pdf)?;
    let renewed = Document::load(pdf, a.pdf_password.as_deref().map(str::as_bytes))
        .ok()
        .and_then(|d| paraf_sign::archive_expiry(&d).ok().flatten());
    match renewed {
        Some(t) => println!(
            "renewed -> {}; archive timestamp valid until {}",
            a.output.display(),
            date(t)
        ),
        None => println!("renewed -> {}", a.output.display()),
    }
    Ok(())
}
