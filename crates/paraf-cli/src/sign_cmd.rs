//! `paraf sign`: sign a PDF offline with a PKCS#12 identity.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use paraf_pdf::Document;
use paraf_pki::ca::CertificateAuthority;
use paraf_pki::{DigestAlg, RevocationSource, SignatureScheme, SoftSigner, Timestamper};
use paraf_sign::appearance::{AppearanceSpec, ImageSource};
use paraf_sign::{DocMdp, Level, Placement, Services, SignOptions, SubFilter, Visible};

use crate::net::{FirstOf, HttpRevocation, HttpTimestamper};

#[derive(Args)]
pub struct SignArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF (written whole or not at all).
    #[arg(short, long)]
    output: PathBuf,
    /// The signer's identity: a PKCS#12 file with key, certificate and chain.
    #[arg(long)]
    p12: PathBuf,
    /// Password of the PKCS#12 file.
    #[arg(long, default_value = "")]
    password: String,
    /// PAdES level: b-b, b-t, b-lt or b-lta.
    #[arg(long, default_value = "b-b")]
    level: String,
    /// An RFC 3161 timestamp authority.
    #[arg(long, conflicts_with = "ca_dir")]
    tsa_url: Option<String>,
    /// A built-in CA directory: its TSA timestamps, it answers revocation for its certificates.
    #[arg(long)]
    ca_dir: Option<PathBuf>,
    /// Page (1-based) of a visible signature placed with --rect or --percent.
    #[arg(long)]
    page: Option<usize>,
    /// X,Y,W,H in points, origin bottom-left of the visible page as displayed.
    #[arg(long, requires = "page", conflicts_with_all = ["tag", "percent"])]
    rect: Option<String>,
    /// X,Y,W,H in percent of the visible page, origin top-left.
    #[arg(long, requires = "page", conflicts_with = "tag")]
    percent: Option<String>,
    /// Place the signature centred on this text found in the document (e.g. `$`, `<@signature@>`).
    #[arg(long, requires = "size")]
    tag: Option<String>,
    /// Which occurrence of the tag (1-based).
    #[arg(long, default_value_t = 1)]
    occurrence: usize,
    /// W,H in points of a tag-placed signature.
    #[arg(long)]
    size: Option<String>,
    /// An image (PNG or JPEG) to show in the signature.
    #[arg(long)]
    image: Option<PathBuf>,
    /// A URL to show as a QR code in the signature.
    #[arg(long)]
    qr: Option<String>,
    /// Free text lines to show (repeatable); the signer's name and date are always shown.
    #[arg(long)]
    text: Vec<String>,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    #[arg(long)]
    contact: Option<String>,
    /// Make a certification signature with DocMDP permissions 1, 2 or 3.
    #[arg(long)]
    certify: Option<u8>,
    /// Password of an encrypted input PDF.
    #[arg(long)]
    pdf_password: Option<String>,
    /// Fill this empty signature field, or create a field of this name.
    #[arg(long)]
    field: Option<String>,
    /// `pades` (ETSI.CAdES.detached, default) or `pkcs7` (adbe.pkcs7.detached).
    #[arg(long, default_value = "pades")]
    subfilter: String,
    /// Digest algorithm: sha256, sha384 or sha512 (default: the key's natural one).
    #[arg(long)]
    digest: Option<String>,
    /// RSA keys: sign with RSASSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    pss: bool,
}

/// The signature scheme asked for on the command line, for a key.
fn scheme_for(
    key: &paraf_pki::PrivateKey,
    digest: Option<&str>,
    pss: bool,
) -> anyhow::Result<SignatureScheme> {
    let natural = key.default_scheme();
    let d = match digest {
        None => natural.digest(),
        Some("sha256") => DigestAlg::Sha256,
        Some("sha384") => DigestAlg::Sha384,
        Some("sha512") => DigestAlg::Sha512,
        Some(other) => bail!("unknown --digest {other:?}: expected sha256, sha384 or sha512"),
    };
    let scheme = match natural {
        SignatureScheme::RsaPkcs1v15(_) | SignatureScheme::RsaPss(_) if pss => {
            SignatureScheme::RsaPss(d)
        }
        SignatureScheme::RsaPkcs1v15(_) | SignatureScheme::RsaPss(_) => {
            SignatureScheme::RsaPkcs1v15(d)
        }
        SignatureScheme::Ecdsa(_) if pss => bail!("--pss applies to RSA keys only"),
        SignatureScheme::Ecdsa(_) => SignatureScheme::Ecdsa(d),
    };
    if !key.supports(scheme) {
        bail!("this key cannot sign with {scheme:?} (an EC key signs with its curve's digest)");
    }
    Ok(scheme)
}

fn parse_numbers<const N: usize>(what: &str, s: &str) -> anyhow::Result<[f64; N]> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow!("{what} must be {N} comma-separated numbers, not {s:?}"))?;
    v.try_into()
        .map_err(|_| anyhow!("{what} must be {N} comma-separated numbers, not {s:?}"))
}

pub fn run(a: SignArgs) -> anyhow::Result<()> {
    let now = SystemTime::now();
    let level: Level = a.level.parse()?;
    let subfilter = match a.subfilter.as_str() {
        "pades" | "cades" | "ETSI.CAdES.detached" => SubFilter::CadesDetached,
        "pkcs7" | "adbe.pkcs7.detached" => SubFilter::Pkcs7Detached,
        other => bail!("unknown --subfilter {other:?}: expected pades or pkcs7"),
    };
    let p12 = std::fs::read(&a.p12).with_context(|| format!("cannot read {}", a.p12.display()))?;
    let (key, cert, chain) = paraf_pki::pkcs12::parse(&p12, &a.password)
        .map_err(|e| anyhow!("cannot open {}: {e}", a.p12.display()))?;
    let scheme = scheme_for(&key, a.digest.as_deref(), a.pss)?;
    let signer = SoftSigner::new(key, cert, chain, Some(scheme))?;
    let input = read_with_headroom(&a.input)?;
    let doc = Document::load(input, a.pdf_password.as_deref().map(str::as_bytes))
        .map_err(|e| anyhow!("{}: {e}", a.input.display()))?;

    let placement = if let Some(r) = &a.rect {
        let [x, y, width, height] = parse_numbers::<4>("--rect", r)?;
        Some(Placement::Rect {
            page: a.page.unwrap_or(1),
            x,
            y,
            width,
            height,
        })
    } else if let Some(r) = &a.percent {
        let [x, y, width, height] = parse_numbers::<4>("--percent", r)?;
        Some(Placement::Percent {
            page: a.page.unwrap_or(1),
            x,
            y,
            width,
            height,
        })
    } else if let Some(t) = &a.tag {
        let [width, height] = parse_numbers::<2>("--size", a.size.as_deref().unwrap_or(""))?;
        if a.occurrence == 0 {
            bail!("--occurrence counts from 1");
        }
        Some(Placement::Tag {
            text: t.clone(),
            occurrence: a.occurrence - 1,
            width,
            height,
        })
    } else {
        if a.image.is_some() || a.qr.is_some() || !a.text.is_empty() {
            bail!("--image, --qr and --text need a place: --page with --rect/--percent, or --tag with --size");
        }
        None
    };
    let visible = match placement {
        Some(placement) => {
            let image = match &a.image {
                Some(p) => {
                    Some(ImageSource::Auto(std::fs::read(p).with_context(|| {
                        format!("cannot read image {}", p.display())
                    })?))
                }
                None => None,
            };
            let cn = paraf_sign::common_name(paraf_pki::Signer::certificate(&signer))
                .unwrap_or_default();
            let mut lines = vec![
                format!("Signed by {cn}"),
                format!("Date: {}", paraf_sign::human_date(now)),
            ];
            if let Some(r) = &a.reason {
                lines.push(format!("Reason: {r}"));
            }
            if let Some(l) = &a.location {
                lines.push(format!("Location: {l}"));
            }
            lines.extend(a.text.iter().cloned());
            Some(Visible {
                placement,
                spec: AppearanceSpec {
                    width: 0.0,
                    height: 0.0,
                    image,
                    qr_url: a.qr.clone(),
                    lines,
                    border: true,
                    ..Default::default()
                },
            })
        }
        None => None,
    };

    let sources = Sources::open(a.tsa_url.clone(), a.ca_dir.as_deref())?;
    let timestamper = sources.timestamper();
    // Revocation is consulted when the level needs it (B-LT, B-LTA: fetched over HTTP from the
    // URLs in the certificates) or when the built-in CA can answer locally; a plain B-B or B-T
    // signature with a foreign identity makes no network call besides the TSA's.
    let revocation = sources.revocation(level >= Level::BLT);
    let mut opts = SignOptions::new(now);
    opts.level = level;
    opts.subfilter = subfilter;
    opts.reason = a.reason.clone();
    opts.location = a.location.clone();
    opts.contact_info = a.contact.clone();
    opts.field_name = a.field.clone();
    opts.certify = a.certify.map(DocMdp::from_level).transpose()?;
    opts.visible = visible;
    let services = Services {
        timestamper,
        revocation: (!revocation.0.is_empty()).then_some(&revocation as &dyn RevocationSource),
    };
    // The input's own buffer becomes the output: a large file is not copied.
    let signed = paraf_sign::sign_owned(doc, &signer, &opts, services)?;
    write_atomically(&a.output, &signed.pdf)?;
    println!(
        "signed field {} -> {}",
        signed.field_name,
        a.output.display()
    );
    Ok(())
}

/// Reads a file into a buffer with room for a signature update after it, so appending the
/// update does not reallocate (that would copy the whole file once more).
fn read_with_headroom(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut buf = Vec::with_capacity(len + 64 * 1024);
    f.read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(buf)
}

/// The timestamp authority and revocation sources of `--tsa-url` / `--ca-dir`.
pub struct Sources {
    ca: Option<CertificateAuthority>,
    http_tsa: Option<HttpTimestamper>,
}

impl Sources {
    pub fn open(tsa_url: Option<String>, ca_dir: Option<&Path>) -> anyhow::Result<Sources> {
        Ok(Sources {
            ca: ca_dir.map(open_ca).transpose()?,
            http_tsa: tsa_url.map(|url| HttpTimestamper { url }),
        })
    }

    /// The TSA at `--tsa-url`, else the built-in CA's.
    pub fn timestamper(&self) -> Option<&dyn Timestamper> {
        match (&self.http_tsa, &self.ca) {
            (Some(t), _) => Some(t),
            (None, Some(ca)) => Some(ca.tsa()),
            (None, None) => None,
        }
    }

    /// The built-in CA (for its own certificates), then, with `fetch`, the OCSP/CRL/CA-issuer
    /// URLs the certificates name.
    pub fn revocation(&self, fetch: bool) -> FirstOf<'_> {
        let mut sources: Vec<&dyn RevocationSource> = Vec::new();
        if let Some(ca) = &self.ca {
            sources.push(ca);
        }
        if fetch {
            sources.push(&HttpRevocation);
        }
        FirstOf(sources)
    }
}

pub fn open_ca(dir: &Path) -> anyhow::Result<CertificateAuthority> {
    let pass = std::env::var("PARAF_CA_PASSPHRASE").ok();
    CertificateAuthority::open(dir, pass.as_deref().map(str::as_bytes))
        .map_err(|e| anyhow!("cannot open the CA in {}: {e}", dir.display()))
}

/// Writes to a temporary file beside `path`, then renames: never a partial output.
pub fn write_atomically(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}
