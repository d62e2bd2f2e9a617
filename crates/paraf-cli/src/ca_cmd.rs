//! `paraf ca`: create the built-in CA, issue signer certificates as PKCS#12 files, revoke them
//! and write CRLs.
//!
//! The CA keys' passphrase comes from the environment variable `PARAF_CA_PASSPHRASE` when it is
//! set; otherwise `ca init` creates `DIR/master.key` and later commands use it. Output files are
//! written to a temporary file in the target directory and renamed, so a failed command never
//! leaves a partial file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap::Subcommand;
use paraf_pki::ca::{
    write_file_atomically, CaInitOptions, CaName, CertificateAuthority, IssueRequest,
};
use paraf_pki::x509::serial_hex;
use paraf_pki::{pkcs12, KeyType, RevocationReason};

/// Environment variable holding the CA keys' passphrase.
const PASSPHRASE_ENV: &str = "PARAF_CA_PASSPHRASE";

/// `paraf ca ...` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CaCommand {
    /// Create a new CA (root, issuing CA, time-stamping authority) in a directory.
    Init {
        /// Directory to create the CA in (created if missing; must not hold a CA yet).
        #[arg(long)]
        dir: PathBuf,
        /// Key type of the CA and TSA keys: rsa2048, rsa3072, p256, p384.
        #[arg(long, default_value = "rsa2048")]
        key_type: KeyType,
        /// Base URL the server is reached at; certificates point to {public-url}/pki/...
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Organisation name (O) of the certificates.
        #[arg(long, default_value = "Paraf")]
        org_name: String,
    },
    /// Issue a signer certificate with a fresh key, written as a PKCS#12 file; prints its serial.
    Issue {
        /// CA directory.
        #[arg(long)]
        dir: PathBuf,
        /// Signer's name (certificate CN).
        #[arg(long)]
        cn: String,
        /// Signer's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Signer's NIK (16 digits).
        #[arg(long)]
        nik: Option<String>,
        /// Key type: rsa2048, rsa3072, p256, p384.
        #[arg(long, default_value = "rsa2048")]
        key_type: KeyType,
        /// PKCS#12 file to write.
        #[arg(long)]
        out: PathBuf,
        /// Password protecting the PKCS#12 file.
        #[arg(long)]
        password: String,
        /// Validity in days, starting now.
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
    /// Revoke a certificate this CA issued.
    Revoke {
        /// CA directory.
        #[arg(long)]
        dir: PathBuf,
        /// Serial number in hex, as printed by `paraf ca issue`.
        #[arg(long)]
        serial: String,
        /// RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged,
        /// superseded, cessationOfOperation, privilegeWithdrawn.
        #[arg(long, default_value = "unspecified")]
        reason: RevocationReason,
    },
    /// Renew the CA: a new issuing CA and time-stamping authority under the same root (ten
    /// years, or until the root ends), which issue and timestamp from now on. The earlier
    /// issuing CAs keep answering OCSP and CRL requests about what they issued. A server
    /// running on this directory loads it at once; it also renews by itself, two years before
    /// the TSA's certificate ends.
    Renew {
        /// CA directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Write the current CRL (DER) of the root or an issuing CA.
    Crl {
        /// CA directory.
        #[arg(long)]
        dir: PathBuf,
        /// Which CA: root, issuing (the first issuing CA), or issuing-N (the Nth, after
        /// renewals); by default the issuing CA that issues now.
        #[arg(long)]
        ca: Option<CaName>,
        /// File to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `paraf ca` subcommand, printing results to standard output.
pub fn run(cmd: CaCommand) -> Result<()> {
    let passphrase = std::env::var_os(PASSPHRASE_ENV)
        .filter(|v| !v.is_empty())
        .map(|v| v.into_encoded_bytes());
    let stdout = std::io::stdout();
    run_with(cmd, passphrase, SystemTime::now(), &mut stdout.lock())
}

/// [`run`] with the passphrase, the time and the output given (for tests).
fn run_with(
    cmd: CaCommand,
    passphrase: Option<Vec<u8>>,
    now: SystemTime,
    out: &mut dyn Write,
) -> Result<()> {
    match cmd {
        CaCommand::Init {
            dir,
            key_type,
            public_url,
            org_name,
        } => {
            let uses_master_key = passphrase.is_none();
            CertificateAuthority::init(
                &dir,
                CaInitOptions {
                    key_type,
                    public_url,
                    org_name,
                    passphrase,
                },
                now,
            )
            .with_context(|| format!("creating the CA in {}", dir.display()))?;
            writeln!(out, "created CA in {}", dir.display())?;
            writeln!(out, "trust anchor: {}", dir.join("root.pem").display())?;
            if uses_master_key {
                writeln!(
                    out,
                    "keys are sealed with {} (no {PASSPHRASE_ENV} was set): protect the directory",
                    dir.join("master.key").display()
                )?;
            }
        }
        CaCommand::Issue {
            dir,
            cn,
            email,
            nik,
            key_type,
            out: out_path,
            password,
            days,
        } => {
            let ca = open(&dir, passphrase.as_deref())?;
            let (key, cert) = ca
                .issue(IssueRequest {
                    common_name: cn.clone(),
                    email,
                    nik,
                    key_type,
                    validity_days: days,
                    // A minute of slack for clocks slightly behind ours.
                    not_before: now.checked_sub(Duration::from_secs(60)).unwrap_or(now),
                })
                .context("issuing the certificate")?;
            let p12 = pkcs12::build(&key, &cert, &ca.signer_chain(), &password, &cn)
                .context("building the PKCS#12 file")?;
            write_output(&out_path, &p12, true)?;
            writeln!(out, "{}", serial_hex(&cert.tbs_certificate.serial_number))?;
        }
        CaCommand::Revoke {
            dir,
            serial,
            reason,
        } => {
            let ca = open(&dir, passphrase.as_deref())?;
            ca.revoke(&serial, reason, now)
                .with_context(|| format!("revoking {serial}"))?;
            writeln!(out, "revoked {serial} ({reason})")?;
        }
        CaCommand::Renew { dir } => {
            let generation = CertificateAuthority::renew_dir(&dir, passphrase.as_deref(), now)
                .with_context(|| format!("renewing the CA in {}", dir.display()))?;
            let name = CaName::Issuing(generation);
            let ca = open(&dir, passphrase.as_deref())?;
            let until = chrono::DateTime::<chrono::Utc>::from(ca.issuing_not_after());
            writeln!(
                out,
                "renewed: {name} (and its TSA) issue from now on, until {}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )?;
            writeln!(
                out,
                "certificate: {}",
                dir.join(format!("{name}.pem")).display()
            )?;
        }
        CaCommand::Crl {
            dir,
            ca: which,
            out: out_path,
        } => {
            let ca = open(&dir, passphrase.as_deref())?;
            let which = which.unwrap_or_else(|| ca.current_issuing());
            let crl = ca
                .crl(which, now)
                .with_context(|| format!("making the {which} CRL"))?;
            write_output(&out_path, &crl, false)?;
            writeln!(out, "wrote {} CRL to {}", which, out_path.display())?;
        }
    }
    Ok(())
}

fn open(dir: &Path, passphrase: Option<&[u8]>) -> Result<CertificateAuthority> {
    CertificateAuthority::open(dir, passphrase)
        .with_context(|| format!("opening the CA in {}", dir.display()))
}

fn write_output(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    write_file_atomically(path, bytes, private)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn openssl(args: &[&str]) -> (bool, String) {
        let o = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl is installed");
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    }

    /// `paraf ca crl` of `ca` into `out`, then what `openssl crl -noout FLAG` says of it.
    fn crl_read(dir: &Path, ca: CaName, out: &Path, pass: Option<&[u8]>, flag: &str) -> String {
        run_text(
            CaCommand::Crl {
                dir: dir.to_path_buf(),
                ca: Some(ca),
                out: out.to_path_buf(),
            },
            pass,
        )
        .unwrap();
        let (ok, text) = openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            out.to_str().unwrap(),
            "-noout",
            flag,
        ]);
        assert!(ok, "{text}");
        text
    }

    fn run_text(cmd: CaCommand, pass: Option<&[u8]>) -> Result<String> {
        let mut out = Vec::new();
        run_with(cmd, pass.map(<[u8]>::to_vec), SystemTime::now(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    #[test]
    fn init_issue_revoke_crl() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        let pass: Option<&[u8]> = Some(b"s3cret");
        run_text(
            CaCommand::Init {
                dir: dir.clone(),
                key_type: KeyType::P256,
                public_url: "http://127.0.0.1:9".into(),
                org_name: "Paraf".into(),
            },
            pass,
        )
        .unwrap();
        assert!(!dir.join("master.key").exists());

        let p12 = tmp.path().join("budi.p12");
        let serial = run_text(
            CaCommand::Issue {
                dir: dir.clone(),
                cn: "Budi".into(),
                email: Some("budi@example.id".into()),
                nik: Some("3201234567890123".into()),
                key_type: KeyType::P256,
                out: p12.clone(),
                password: "pw".into(),
                days: 30,
            },
            pass,
        )
        .unwrap();
        let serial = serial.trim().to_owned();
        assert_eq!(serial.len(), 32, "{serial}");
        let (ok, text) = openssl(&[
            "pkcs12",
            "-in",
            p12.to_str().unwrap(),
            "-passin",
            "pass:pw",
            "-nokeys",
            "-info",
        ]);
        assert!(ok, "{text}");
        assert!(
            text.contains("CN = Budi") || text.contains("CN=Budi"),
            "{text}"
        );

        // A bad NIK fails and writes nothing.
        let bad = tmp.path().join("bad.p12");
        let e = run_text(
            CaCommand::Issue {
                dir: dir.clone(),
                cn: "X".into(),
                email: None,
                nik: Some("12".into()),
                key_type: KeyType::P256,
                out: bad.clone(),
                password: "pw".into(),
                days: 30,
            },
            pass,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("NIK"), "{e:#}");
        assert!(!bad.exists());
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());

        // Wrong passphrase.
        let e = run_text(
            CaCommand::Revoke {
                dir: dir.clone(),
                serial: serial.clone(),
                reason: RevocationReason::Superseded,
            },
            Some(b"nope"),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("passphrase"), "{e:#}");

        run_text(
            CaCommand::Revoke {
                dir: dir.clone(),
                serial: serial.clone(),
                reason: RevocationReason::Superseded,
            },
            pass,
        )
        .unwrap();
        let e = run_text(
            CaCommand::Revoke {
                dir: dir.clone(),
                serial: "0badc0de".into(),
                reason: RevocationReason::Unspecified,
            },
            pass,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("0badc0de"), "{e:#}");

        let crl = tmp.path().join("issuing.crl");
        let text = crl_read(&dir, CaName::FIRST_ISSUING, &crl, pass, "-text");
        assert!(text.to_lowercase().contains(&serial), "{text}");
    }

    #[test]
    fn renew_adds_an_issuing_ca_and_keeps_the_first_one_answering() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        run_text(
            CaCommand::Init {
                dir: dir.clone(),
                key_type: KeyType::P256,
                public_url: "http://127.0.0.1:9".into(),
                org_name: "Paraf".into(),
            },
            None,
        )
        .unwrap();
        let text = run_text(CaCommand::Renew { dir: dir.clone() }, None).unwrap();
        assert!(
            text.contains("issuing-2 (and its TSA) issue from now on"),
            "{text}"
        );
        assert!(dir.join("issuing-2.pem").exists() && dir.join("tsa-2.key.sealed").exists());
        for (which, file) in [("issuing", "first.crl"), ("issuing-2", "second.crl")] {
            let crl = tmp.path().join(file);
            let text = crl_read(&dir, which.parse().unwrap(), &crl, None, "-issuer");
            let second = text.contains("Issuing CA 2");
            assert_eq!(second, which == "issuing-2", "{text}");
        }
    }

    #[test]
    fn init_without_passphrase_uses_master_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        let text = run_text(
            CaCommand::Init {
                dir: dir.clone(),
                key_type: KeyType::P256,
                public_url: "http://127.0.0.1:9".into(),
                org_name: "Paraf".into(),
            },
            None,
        )
        .unwrap();
        assert!(text.contains("master.key"), "{text}");
        let crl = tmp.path().join("root.crl");
        run_text(
            CaCommand::Crl {
                dir: dir.clone(),
                ca: Some(CaName::Root),
                out: crl.clone(),
            },
            None,
        )
        .unwrap();
        assert!(crl.exists());
    }

    #[test]
    fn arguments_parse() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            cmd: CaCommand,
        }
        let cli = Cli::try_parse_from([
            "paraf", "crl", "--dir", "d", "--ca", "root", "--out", "x.crl",
        ])
        .unwrap();
        assert!(matches!(
            cli.cmd,
            CaCommand::Crl {
                ca: Some(CaName::Root),
                ..
            }
        ));
        let cli = Cli::try_parse_from([
            "paraf",
            "revoke",
            "--dir",
            "d",
            "--serial",
            "ab",
            "--reason",
            "key-compromise",
        ])
        .unwrap();
        assert!(matches!(
            cli.cmd,
            CaCommand::Revoke {
                reason: RevocationReason::KeyCompromise,
                ..
            }
        ));
        let cli = Cli::try_parse_from(["paraf", "init", "--dir", "d"]).unwrap();
        assert!(matches!(
            cli.cmd,
            CaCommand::Init {
                key_type: KeyType::Rsa2048,
                ..
            }
        ));
        assert!(Cli::try_parse_from(["paraf", "init", "--dir", "d", "--key-type", "dsa"]).is_err());
    }
}
