//! `paraf verify`: validate the signatures of a PDF and print a summary or the full JSON report.
//!
//! Exit codes: 0 every signature passed, 1 any failed or is indeterminate, 2 no signature,
//! 3 unreadable input (missing file, not a PDF, truncated, wrong password, bad trust anchor).
//! Nothing is trusted unless given with `--trust`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use paraf_verify::{Indication, SignatureKind, SignatureReport, ValidationReport, VerifyOptions};

use crate::net::HttpRevocation;

#[derive(Args)]
pub struct VerifyArgs {
    /// The PDF to verify.
    file: PathBuf,
    /// A trust anchor (PEM or DER certificate, e.g. the CA's root.pem); repeatable. Without
    /// any, no chain is trusted.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
    /// Password of an encrypted PDF.
    #[arg(long)]
    password: Option<String>,
    /// Fetch revocation information (OCSP, CRL) the document does not carry from the URLs in
    /// the certificates.
    #[arg(long)]
    online: bool,
    /// How missing revocation information counts: `soft` (default, as pyHanko and Adobe: a
    /// certificate naming no CRL or OCSP address passes with a warning; one whose named
    /// information is missing is INDETERMINATE), `hard` (any missing information is
    /// INDETERMINATE) or `off` (not checked).
    #[arg(long, default_value = "soft", value_parser = revocation_policy)]
    revocation: paraf_verify::RevocationPolicy,
    /// Do not render the signed revisions and the final file to compare what they show (only
    /// the structural analysis then judges later changes).
    #[arg(long)]
    no_render: bool,
}

fn revocation_policy(s: &str) -> Result<paraf_verify::RevocationPolicy, String> {
    s.parse()
}

const EXIT_FAILED: u8 = 1;
const EXIT_NO_SIGNATURE: u8 = 2;
const EXIT_UNREADABLE: u8 = 3;

fn unreadable(msg: String) -> ExitCode {
    eprintln!("paraf: {msg}");
    ExitCode::from(EXIT_UNREADABLE)
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let shown = args.file.display().to_string();
    let data = match std::fs::read(&args.file) {
        Ok(d) => d,
        Err(e) => return unreadable(format!("cannot read {shown}: {e}")),
    };
    let mut anchors = Vec::new();
    for t in &args.trust {
        let bytes = match std::fs::read(t) {
            Ok(b) => b,
            Err(e) => {
                return unreadable(format!("cannot read the trust anchor {}: {e}", t.display()))
            }
        };
        match paraf_verify::parse_certificates(&bytes) {
            Ok(mut c) if !c.is_empty() => anchors.append(&mut c),
            Ok(_) => return unreadable(format!("{} holds no certificate", t.display())),
            Err(e) => return unreadable(format!("{} is not a certificate: {e}", t.display())),
        }
    }
    let live = HttpRevocation;
    let mut opts = VerifyOptions::new(SystemTime::now());
    opts.trust_anchors = anchors;
    opts.file_digest = true;
    opts.revocation_policy = args.revocation;
    opts.render_compare = !args.no_render;
    if args.online {
        opts.revocation = Some(&live);
    }
    let report =
        match paraf_verify::verify(data, args.password.as_deref().map(str::as_bytes), &opts) {
            Ok(r) => r,
            Err(e) => return unreadable(format!("{shown}: {e}")),
        };
    if args.json {
        println!("{}", report.to_json_pretty());
    } else {
        print!("{}", summary(&shown, &report));
    }
    match report.indication {
        Indication::TotalPassed => ExitCode::SUCCESS,
        Indication::NoSignature => ExitCode::from(EXIT_NO_SIGNATURE),
        _ => ExitCode::from(EXIT_FAILED),
    }
}

/// The readable summary.
fn summary(file: &str, r: &ValidationReport) -> String {
    let mut s = String::new();
    let d = &r.document;
    let _ = writeln!(
        s,
        "{file}: {} bytes, {} revision(s){}{}",
        d.size,
        d.revisions,
        d.pages
            .map(|p| format!(", {p} page(s)"))
            .unwrap_or_default(),
        if d.encrypted { ", encrypted" } else { "" }
    );
    if let Some(p) = d.docmdp {
        let _ = writeln!(s, "certified: DocMDP P={p}");
    }
    for f in &r.findings {
        let _ = writeln!(s, "note: {f}");
    }
    if r.signatures.is_empty() {
        let _ = writeln!(s, "no signature");
    }
    for sig in &r.signatures {
        signature(&mut s, sig);
    }
    let failed = r
        .signatures
        .iter()
        .filter(|x| x.indication == Indication::TotalFailed)
        .count();
    let indeterminate = r
        .signatures
        .iter()
        .filter(|x| x.indication == Indication::Indeterminate)
        .count();
    let _ = writeln!(
        s,
        "\nresult: {}{} ({} passed, {failed} failed, {indeterminate} indeterminate; validated at {})",
        r.indication,
        r.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default(),
        r.passed(),
        r.validation_time
    );
    s
}

fn signature(s: &mut String, sig: &SignatureReport) {
    let what = match sig.kind {
        SignatureKind::Signature => "signature",
        SignatureKind::DocumentTimestamp => "document timestamp",
    };
    let _ = writeln!(
        s,
        "\n{what} {} {}: {}{}",
        sig.index,
        sig.field_name
            .as_deref()
            .map(|n| format!("{n:?}"))
            .unwrap_or_else(|| "(no field)".into()),
        sig.indication,
        sig.sub_indication
            .map(|x| format!(" / {x}"))
            .unwrap_or_default()
    );
    if let Some(c) = &sig.signer {
        let _ = writeln!(
            s,
            "  signer: {} (serial {}, issued by {})",
            c.subject, c.serial, c.issuer
        );
        let _ = writeln!(s, "          valid {} to {}", c.not_before, c.not_after);
    }
    let _ = writeln!(
        s,
        "  format: {}{}{}",
        sig.sub_filter.as_deref().unwrap_or("?"),
        sig.level
            .as_deref()
            .map(|l| format!(", PAdES {l}"))
            .unwrap_or_default(),
        sig.docmdp
            .map(|p| format!(", certification P={p}"))
            .unwrap_or_default()
    );
    if let Some(t) = &sig.claimed_signing_time {
        let _ = writeln!(s, "  signing time (claimed): {t}");
    }
    for (k, v) in [
        ("reason", &sig.reason),
        ("location", &sig.location),
        ("name", &sig.name),
    ] {
        if let Some(v) = v {
            let _ = writeln!(s, "  {k}: {v}");
        }
    }
    if let Some(t) = &sig.timestamp {
        let _ = writeln!(
            s,
            "  timestamp: {} by {} ({}, {})",
            t.time,
            t.tsa.as_ref().map(|c| c.subject.as_str()).unwrap_or("?"),
            if t.intact { "intact" } else { "NOT intact" },
            if t.trusted { "trusted" } else { "not trusted" }
        );
    }
    let i = &sig.integrity;
    let _ = writeln!(
        s,
        "  integrity: {} (byte range {}, digest {}, signature {}{})",
        if i.intact() { "intact" } else { "NOT intact" },
        ok(i.byte_range_ok),
        ok(i.digest_ok),
        ok(i.signature_ok),
        i.signature_algorithm
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "  revision {} of the file{}",
        sig.revision
            .map(|r| r.to_string())
            .unwrap_or_else(|| "?".into()),
        if sig.covers_whole_file {
            ", covers the whole file"
        } else {
            ""
        }
    );
    let m = &sig.modifications;
    let _ = writeln!(
        s,
        "  changes after signing: {:?} ({} later revision(s), {} illegal)",
        m.level,
        m.later_revisions,
        m.illegal.len()
    );
    let t = &sig.trust;
    let _ = writeln!(
        s,
        "  trust: {}{}",
        if t.trusted {
            "chain to a trust anchor"
        } else {
            "not trusted"
        },
        t.validated_at
            .as_deref()
            .map(|a| format!(
                ", judged at {a}{}",
                if t.time_from_timestamp {
                    " (time-stamp)"
                } else {
                    ""
                }
            ))
            .unwrap_or_default()
    );
    for rc in &t.revocation {
        let _ = writeln!(
            s,
            "    revocation of {}: {}{}",
            rc.subject,
            rc.status,
            rc.how
                .as_deref()
                .or(rc.source.as_deref())
                .map(|x| format!(" ({x})"))
                .unwrap_or_default()
        );
    }
    for p in &sig.problems {
        let _ = writeln!(s, "  ! {}: {}", p.sub_indication, p.message);
    }
    for w in &sig.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

fn ok(b: bool) -> &'static str {
    if b {
        "ok"
    } else {
        "FAILED"
    }
}
