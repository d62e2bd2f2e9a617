//! PAdES signing (ETSI EN 319 142-1): one signature = one incremental update holding the
//! signature field, its widget and a signature dictionary whose `/Contents` is a detached CMS.
//!
//! Levels: B-B (CMS with signing-certificate-v2), B-T (+ RFC 3161 signature timestamp),
//! B-LT (+ a DSS update with certificates, OCSP responses and CRLs of the signer's and the TSA's
//! chains), B-LTA (+ a document timestamp update over the DSS).
//!
//! **Invariant**: the input bytes are the prefix of the output; every update only appends.
//! **Invariant**: `/ByteRange` is exactly `[0 a b c]` around this dictionary's `/Contents`
//! hex string and the last range ends at the end of the file.

use std::time::SystemTime;

use paraf_pdf::{Dict, Document, IncrementalUpdate, Object, PdfString};
use paraf_pki::{DigestAlg, RevocationSource, Signer, Timestamper};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

use crate::appearance::{build_appearance, AppearanceSpec};
use crate::error::{Result, SignError, SignErrorKind};
use crate::fields::{self, FieldTarget};
use crate::placement::{self, Placement};

/// The PAdES baseline level to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    BB,
    BT,
    BLT,
    BLTA,
}

impl std::str::FromStr for Level {
    type Err = SignError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "b-b" | "bb" => Ok(Level::BB),
            "b-t" | "bt" => Ok(Level::BT),
            "b-lt" | "blt" => Ok(Level::BLT),
            "b-lta" | "blta" => Ok(Level::BLTA),
            _ => Err(SignError::invalid(format!(
                "unknown level {s:?}: expected b-b, b-t, b-lt or b-lta"
            ))),
        }
    }
}

/// The `/SubFilter` of the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubFilter {
    /// `ETSI.CAdES.detached`: PAdES baseline (no signing-time attribute; the time is `/M`).
    CadesDetached,
    /// `adbe.pkcs7.detached`: the older profile, for readers that require it.
    Pkcs7Detached,
}

/// A certification signature's DocMDP permissions (§12.8.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocMdp {
    /// P=1: no changes at all.
    NoChanges = 1,
    /// P=2: form filling and signing.
    FormFilling = 2,
    /// P=3: also annotations.
    Annotations = 3,
}

impl DocMdp {
    pub fn from_level(p: u8) -> Result<Self> {
        match p {
            1 => Ok(DocMdp::NoChanges),
            2 => Ok(DocMdp::FormFilling),
            3 => Ok(DocMdp::Annotations),
            _ => Err(SignError::invalid(format!(
                "certification level must be 1, 2 or 3, not {p}"
            ))),
        }
    }
}

/// What a visible signature shows and where.
#[derive(Clone, Debug)]
pub struct Visible {
    pub placement: Placement,
    pub spec: AppearanceSpec,
}

/// Everything about one signature except the key.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Fill the empty signature field of this name, or create a field with this name.
    pub field_name: Option<String>,
    pub level: Level,
    pub subfilter: SubFilter,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// `/Name`; defaults to the certificate's common name.
    pub name: Option<String>,
    /// The claimed signing time (`/M`), and the time certificate validity is checked at.
    pub signing_time: SystemTime,
    pub certify: Option<DocMdp>,
    pub visible: Option<Visible>,
    /// Bytes reserved for the CMS; estimated from the certificates when `None`.
    pub reserve: Option<usize>,
}

impl SignOptions {
    pub fn new(signing_time: SystemTime) -> Self {
        Self {
            field_name: None,
            level: Level::BB,
            subfilter: SubFilter::CadesDetached,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            signing_time,
            certify: None,
            visible: None,
            reserve: None,
        }
    }
}

/// The services a signature may need besides the key.
#[derive(Clone, Copy, Default)]
pub struct Services<'a> {
    pub timestamper: Option<&'a dyn Timestamper>,
    pub revocation: Option<&'a dyn RevocationSource>,
}

/// What was produced.
#[derive(Debug)]
pub struct Signed {
    pub pdf: Vec<u8>,
    pub field_name: String,
}

/// Serialises an update holding signature (or timestamp) object `sig_ref`: the appended
/// bytes, the original's length, and where the object's body starts in the appended bytes.
fn finish_signed(
    doc: &Document,
    up: IncrementalUpdate<'_>,
    sig_ref: paraf_pdf::ObjRef,
) -> Result<(Vec<u8>, usize, usize)> {
    let appended = up.finish()?;
    let sig_body = appended
        .body_offsets
        .get(&sig_ref)
        .copied()
        .ok_or_else(|| {
            SignError::new(SignErrorKind::Pdf, "internal: signature object not written")
        })?;
    Ok((appended.bytes, doc.data().len(), sig_body))
}

/// Signs `doc` and returns the whole signed file (a copy of the input plus the update).
pub fn sign(
    doc: &Document,
    signer: &dyn Signer,
    opts: &SignOptions,
    services: Services<'_>,
) -> Result<Signed> {
    let (tail, field_name) = sign_update(doc, signer, opts, services)?;
    let mut pdf = Vec::with_capacity(doc.data().len() + tail.len());
    pdf.extend_from_slice(doc.data());
    pdf.extend_from_slice(&tail);
    extend_to_level(pdf, doc.password(), field_name, signer, opts, services)
}

/// [`sign`] taking the document by value: its buffer becomes the signed file, so the input is
/// not copied. For a large file this saves a copy of it (time and memory); the digest over the
/// file is then most of the cost. Give the buffer spare capacity for the update (64 KiB is
/// plenty for B-B and B-T): without it, appending may reallocate, which is the copy again.
pub fn sign_owned(
    doc: Document,
    signer: &dyn Signer,
    opts: &SignOptions,
    services: Services<'_>,
) -> Result<Signed> {
    let (tail, field_name) = sign_update(&doc, signer, opts, services)?;
    let password = doc.password().to_vec();
    let mut pdf = doc.into_data();
    pdf.extend_from_slice(&tail);
    extend_to_level(pdf, &password, field_name, signer, opts, services)
}

/// Checks, then the signature's own update: returns the bytes to append to `doc` and the name of
/// the field signed.
fn sign_update(
    doc: &Document,
    signer: &dyn Signer,
    opts: &SignOptions,
    services: Services<'_>,
) -> Result<(Vec<u8>, String)> {
    if doc.xref().recovered {
        return Err(SignError::new(
            SignErrorKind::Pdf,
            "the file is damaged (truncated, or its cross-reference table is broken): repair it before signing, e.g. with `qpdf in.pdf out.pdf`",
        ));
    }
    check_certificate(signer, opts.signing_time, services.revocation)?;
    if opts.level >= Level::BT && services.timestamper.is_none() {
        return Err(SignError::invalid(
            "levels B-T, B-LT and B-LTA need a timestamp authority (a TSA URL or the built-in CA)",
        ));
    }
    if opts.level >= Level::BLT && services.revocation.is_none() {
        return Err(SignError::invalid(
            "levels B-LT and B-LTA need a source of revocation information",
        ));
    }
    fields::check_modifications_allowed(doc)?;
    let signer_cn = common_name(signer.certificate()).unwrap_or_default();
    sign_revision(doc, signer, opts, services.timestamper, &signer_cn)
}

/// Adds what B-LT and B-LTA need after the signature (`pdf` is the signed file).
fn extend_to_level(
    mut pdf: Vec<u8>,
    password: &[u8],
    field_name: String,
    signer: &dyn Signer,
    opts: &SignOptions,
    services: Services<'_>,
) -> Result<Signed> {
    if opts.level >= Level::BLT {
        let revocation = services
            .revocation
            .ok_or_else(|| SignError::invalid("no revocation source"))?;
        let signed = Document::load(pdf, Some(password)).map_err(reload_err)?;
        pdf = add_dss(
            &signed,
            &[signer_chain(signer), tsa_chain_of_last(&signed)?].concat(),
            revocation,
        )?;
    }
    if opts.level == Level::BLTA {
        let ts = services
            .timestamper
            .ok_or_else(|| SignError::invalid("no timestamp authority"))?;
        let with_dss = Document::load(pdf, Some(password)).map_err(reload_err)?;
        pdf = document_timestamp(&with_dss, ts)?;
    }
    Ok(Signed { pdf, field_name })
}

fn reload_err(e: paraf_pdf::PdfError) -> SignError {
    SignError::new(
        SignErrorKind::Pdf,
        format!("internal: the signed file could not be read back: {e}"),
    )
}

/// Refuses certificates that are not valid at the signing time or that the source says are revoked.
fn check_certificate(
    signer: &dyn Signer,
    at: SystemTime,
    revocation: Option<&dyn RevocationSource>,
) -> Result<()> {
    let cert = signer.certificate();
    let v = &cert.tbs_certificate.validity;
    let nb = v.not_before.to_system_time();
    let na = v.not_after.to_system_time();
    if at < nb {
        return Err(SignError::new(
            SignErrorKind::Certificate,
            format!(
                "the signing certificate is not valid before {}",
                rfc3339(nb)
            ),
        ));
    }
    if at > na {
        return Err(SignError::new(
            SignErrorKind::Certificate,
            format!("the signing certificate expired on {}", rfc3339(na)),
        ));
    }
    if let (Some(src), Some(issuer)) = (revocation, signer.chain().first()) {
        if let Ok(Some(resp)) = src.ocsp(cert, issuer) {
            let status =
                paraf_pki::ocsp::parse_response(&resp, cert, issuer, None).map(|r| r.status);
            if let Ok(paraf_pki::ocsp::OcspCertStatus::Revoked { .. }) = status {
                return Err(SignError::new(
                    SignErrorKind::Certificate,
                    "the signing certificate is revoked",
                ));
            }
        }
    }
    Ok(())
}

fn signer_chain(signer: &dyn Signer) -> Vec<Certificate> {
    let mut v = vec![signer.certificate().clone()];
    v.extend(signer.chain().iter().cloned());
    v
}

/// The placeholders of one signature dictionary in the appended bytes.
struct Placeholders {
    byte_range_at: usize,
    byte_range_len: usize,
    contents_at: usize,
    contents_len: usize,
}

/// Writes the signature dictionary by hand so the positions of `/ByteRange` and `/Contents`
/// are known; `extra` are further entries, already serialised (and encrypted if needed).
fn signature_dict_body(extra: &[u8], reserve: usize) -> (Vec<u8>, usize, usize, usize, usize) {
    let mut b = Vec::with_capacity(reserve * 2 + 512);
    b.extend_from_slice(b"<<");
    b.extend_from_slice(extra);
    b.extend_from_slice(b"/ByteRange ");
    let br_at = b.len();
    let br = format!("[0 {0:>10} {0:>10} {0:>10}]", 0);
    b.extend_from_slice(br.as_bytes());
    b.extend_from_slice(b"/Contents ");
    let c_at = b.len();
    b.push(b'<');
    b.resize(b.len() + reserve * 2, b'0');
    b.push(b'>');
    let c_len = b.len() - c_at;
    b.extend_from_slice(b">>");
    (b, br_at, br.len(), c_at, c_len)
}

/// The signature's update: the bytes appended to `doc`, and the field's name.
fn sign_revision(
    doc: &Document,
    signer: &dyn Signer,
    opts: &SignOptions,
    timestamper: Option<&dyn Timestamper>,
    signer_cn: &str,
) -> Result<(Vec<u8>, String)> {
    let reserve = opts
        .reserve
        .unwrap_or_else(|| estimate_reserve(signer, opts.level));
    let mut attempt = reserve;
    for _ in 0..2 {
        match sign_revision_with_reserve(doc, signer, opts, timestamper, signer_cn, attempt)? {
            Ok(done) => return Ok(done),
            Err(needed) => attempt = needed + 1024,
        }
    }
    Err(SignError::new(
        SignErrorKind::Crypto,
        "the signature does not fit in the space reserved for it",
    ))
}

/// The bytes appended to `doc`; `Ok(Err(n))` means the CMS needed `n` bytes, more than reserved.
#[allow(clippy::type_complexity)]
fn sign_revision_with_reserve(
    doc: &Document,
    signer: &dyn Signer,
    opts: &SignOptions,
    timestamper: Option<&dyn Timestamper>,
    signer_cn: &str,
    reserve: usize,
) -> Result<std::result::Result<(Vec<u8>, String), usize>> {
    let mut up = IncrementalUpdate::new(doc);
    let sig_ref = up.alloc();

    // The signature dictionary's other entries.
    let mut extra = Dict::new()
        .with("Type", Object::name("Sig"))
        .with("Filter", Object::name("Adobe.PPKLite"))
        .with(
            "SubFilter",
            Object::name(match opts.subfilter {
                SubFilter::CadesDetached => "ETSI.CAdES.detached",
                SubFilter::Pkcs7Detached => "adbe.pkcs7.detached",
            }),
        );
    let name = opts.name.clone().unwrap_or_else(|| signer_cn.to_string());
    let text = |s: &str| up.string_for(sig_ref, &PdfString::text(s).bytes);
    if !name.is_empty() {
        extra.set("Name", text(&name));
    }
    extra.set("M", text(&pdf_date(opts.signing_time)));
    if let Some(r) = &opts.reason {
        extra.set("Reason", text(r));
    }
    if let Some(l) = &opts.location {
        extra.set("Location", text(l));
    }
    if let Some(c) = &opts.contact_info {
        extra.set("ContactInfo", text(c));
    }
    if let Some(p) = opts.certify {
        let params = Dict::new()
            .with("Type", Object::name("TransformParams"))
            .with("P", p as i64)
            .with("V", Object::name("1.2"));
        let sigref = Dict::new()
            .with("Type", Object::name("SigRef"))
            .with("TransformMethod", Object::name("DocMDP"))
            .with("TransformParams", params);
        extra.set("Reference", vec![Object::Dict(sigref)]);
    }
    let mut extra_bytes = Vec::new();
    for (k, v) in extra.iter() {
        Object::Name(k.to_vec()).write_to(&mut extra_bytes);
        extra_bytes.push(b' ');
        v.write_to(&mut extra_bytes);
    }
    let (body, br_at, br_len, c_at, c_len) = signature_dict_body(&extra_bytes, reserve);
    up.put_raw(sig_ref, body);

    // Field, widget, appearance, AcroForm and page annotations.
    let target = FieldTarget {
        name: opts.field_name.clone(),
    };
    let visible = match &opts.visible {
        Some(v) => {
            let pages = doc.pages()?;
            // A pre-created field keeps the place its author gave it.
            let spot = match pre_created_spot(doc, &pages, opts.field_name.as_deref())? {
                Some(spot) => spot,
                None => placement::resolve(doc, &pages, &v.placement)?,
            };
            let mut spec = v.spec.clone();
            spec.width = spot.width;
            spec.height = spot.height;
            spec.rotate = spot.rotate;
            let ap = build_appearance(&mut up, &spec)
                .map_err(|e| SignError::new(SignErrorKind::Appearance, e.to_string()))?;
            Some((spot, ap))
        }
        None => None,
    };
    let field_name = fields::attach_signature(
        &mut up,
        &target,
        sig_ref,
        visible
            .as_ref()
            .map(|(spot, ap)| (spot.page_ref, spot.rect, *ap)),
        opts.certify.map(|_| sig_ref),
    )?;

    let (tail, base, sig_body) = finish_signed(doc, up, sig_ref)?;
    let ph = Placeholders {
        byte_range_at: sig_body + br_at,
        byte_range_len: br_len,
        contents_at: sig_body + c_at,
        contents_len: c_len,
    };
    let mut tail = tail;
    let total = base + tail.len();
    let a = base + ph.contents_at;
    let b = a + ph.contents_len;
    let br = format!("[0 {} {} {}]", a, b, total - b);
    if br.len() > ph.byte_range_len {
        return Err(SignError::new(
            SignErrorKind::Pdf,
            "internal: byte range too long",
        ));
    }
    let br = format!("{br:<width$}", width = ph.byte_range_len);
    tail[ph.byte_range_at..ph.byte_range_at + ph.byte_range_len].copy_from_slice(br.as_bytes());

    let digest_alg = signer.scheme().digest();
    let mut h = digest_alg.hasher();
    h.update(doc.data());
    h.update(&tail[..ph.contents_at]);
    h.update(&tail[ph.contents_at + ph.contents_len..]);
    let digest = h.finish();

    let cms_opts = paraf_pki::cms::SignedAttrsOptions {
        content_type: const_oid::db::rfc5911::ID_DATA,
        signing_time: match opts.subfilter {
            SubFilter::CadesDetached => None,
            SubFilter::Pkcs7Detached => Some(opts.signing_time),
        },
        include_signing_certificate_v2: true,
        extra: Vec::new(),
    };
    let mut cms = paraf_pki::cms::build_detached_signed_data(signer, &digest, &cms_opts)?;
    if opts.level >= Level::BT {
        let ts = timestamper.ok_or_else(|| SignError::invalid("no timestamp authority"))?;
        let sigval = paraf_pki::cms::signature_value(&cms)?;
        let imprint = digest_alg.digest(&sigval);
        let token = ts
            .timestamp(digest_alg, &imprint)
            .map_err(service_err("timestamp authority"))?;
        let attr = paraf_pki::cms::signature_time_stamp_attribute(&token)?;
        cms = paraf_pki::cms::add_unsigned_attribute(&cms, attr)?;
    }
    if cms.len() > reserve {
        return Ok(Err(cms.len()));
    }
    write_hex_into(
        &mut tail[ph.contents_at + 1..ph.contents_at + ph.contents_len - 1],
        &cms,
    );
    Ok(Ok((tail, field_name)))
}

/// The place of an empty, visible, pre-created signature field named `name`.
fn pre_created_spot(
    doc: &Document,
    pages: &[paraf_pdf::Page],
    name: Option<&str>,
) -> Result<Option<placement::Spot>> {
    let Some(name) = name else { return Ok(None) };
    let Some(field) = fields::find_field(doc, name)? else {
        return Ok(None);
    };
    let Some(rect) = field.rect(doc) else {
        return Ok(None);
    };
    let found = pages
        .iter()
        .enumerate()
        .find(|(_, p)| Some(p.id) == field.page_ref());
    let Some((i, page)) = found else {
        return Ok(None);
    };
    let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
    let (width, height) = if page.rotate % 180 == 0 {
        (w, h)
    } else {
        (h, w)
    };
    Ok(Some(placement::Spot {
        page_ref: page.id,
        page_no: i + 1,
        rect,
        width,
        height,
        rotate: page.rotate,
    }))
}

fn service_err(what: &'static str) -> impl Fn(paraf_pki::PkiError) -> SignError {
    move |e| SignError::new(SignErrorKind::Service, format!("{what}: {e}"))
}

fn write_hex_into(dst: &mut [u8], src: &[u8]) {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    for (i, &c) in src.iter().enumerate() {
        if let Some(pair) = dst.get_mut(2 * i..2 * i + 2) {
            pair[0] = H[(c >> 4) as usize];
            pair[1] = H[(c & 15) as usize];
        }
    }
}

fn estimate_reserve(signer: &dyn Signer, level: Level) -> usize {
    let certs: usize = signer_chain(signer)
        .iter()
        .map(|c| c.to_der().map(|d| d.len()).unwrap_or(2048))
        .sum();
    let base = certs + 2048;
    if level >= Level::BT {
        base + 6144
    } else {
        base
    }
}

/// Certificates of the TSA that timestamped the newest signature (from its CMS).
fn tsa_chain_of_last(doc: &Document) -> Result<Vec<Certificate>> {
    let Some(cms) = last_signature_contents(doc)? else {
        return Ok(Vec::new());
    };
    Ok(timestamp_certificates(&cms).unwrap_or_default())
}

/// The certificates inside the signature timestamp token of a CMS signature.
pub(crate) fn timestamp_certificates(cms: &[u8]) -> Option<Vec<Certificate>> {
    let sd = paraf_pki::cms::parse_signed_data(cms).ok()?;
    let si = sd.signer_infos.0.iter().next()?;
    let attr = si
        .unsigned_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == paraf_pki::oids::SIGNATURE_TIME_STAMP_TOKEN)?;
    let token = attr.values.iter().next()?.to_der().ok()?;
    let tsd = paraf_pki::cms::parse_signed_data(&token).ok()?;
    let certs = tsd.certificates?;
    Some(
        certs
            .0
            .iter()
            .filter_map(|c| match c {
                paraf_pki::asn1::cms_types::cert::CertificateChoices::Certificate(c) => {
                    Some(c.clone())
                }
                _ => None,
            })
            .collect(),
    )
}

/// The `/Contents` of the newest signature dictionary.
fn last_signature_contents(doc: &Document) -> Result<Option<Vec<u8>>> {
    let sigs = fields::signature_dicts(doc)?;
    Ok(sigs.into_iter().last().and_then(|d| {
        d.get("Contents")
            .and_then(Object::as_string)
            .map(trim_trailing_zeros)
    }))
}

pub(crate) fn trim_trailing_zeros(b: &[u8]) -> Vec<u8> {
    // The CMS is DER: its outer length tells where it ends; padding zeros follow.
    let header = x509_cert::der::SliceReader::new(b)
        .and_then(|mut r| x509_cert::der::Header::decode(&mut r));
    match header {
        Ok(h) => {
            let hl = h.encoded_len().map(u32::from).unwrap_or(0) as usize;
            let l = u32::from(h.length) as usize;
            b.get(..hl + l).unwrap_or(b).to_vec()
        }
        Err(_) => b.to_vec(),
    }
}

/// Appends a DSS update (§12.8.4.3 of ISO 32000-2; ETSI EN 319 142-1 §5.4) with the
/// certificates, OCSP responses and CRLs of `certs`.
pub fn add_dss(
    doc: &Document,
    certs: &[Certificate],
    revocation: &dyn RevocationSource,
) -> Result<Vec<u8>> {
    add_dss_at(doc, certs, revocation, None)
}

/// [`add_dss`] for an archive renewal at `at`: no revocation information for certificates
/// expired then — what was collected while they were valid is their evidence (a response
/// given after expiry proves nothing about the signing time, and validators such as pyHanko
/// then judge the path at a time the certificate no longer covers); they are still listed.
/// No fresh CRL of an issuer whose certificates here have expired, when OCSP answers.
pub fn add_dss_at(
    doc: &Document,
    certs: &[Certificate],
    revocation: &dyn RevocationSource,
    at: Option<std::time::SystemTime>,
) -> Result<Vec<u8>> {
    let mut all: Vec<Certificate> = Vec::new();
    for c in certs {
        if !all.contains(c) {
            all.push(c.clone());
        }
    }
    // Complete chains whose issuers are missing (a TSA token may carry only its own
    // certificate): the revocation source can fetch them (AIA caIssuers).
    let mut i = 0;
    while i < all.len() {
        let c = all[i].clone();
        let has_issuer = is_self_signed(&c)
            || all
                .iter()
                .any(|x| x.tbs_certificate.subject == c.tbs_certificate.issuer && *x != c);
        if !has_issuer {
            if let Ok(Some(iss)) = revocation.issuer(&c) {
                if !all.contains(&iss) {
                    all.push(iss);
                }
            }
        }
        i += 1;
    }
    let mut ocsps: Vec<Vec<u8>> = Vec::new();
    let mut crls: Vec<Vec<u8>> = Vec::new();
    let expired_at = |c: &Certificate| {
        at.is_some_and(|t| c.tbs_certificate.validity.not_after.to_system_time() < t)
    };
    let expired_issuers: Vec<&x509_cert::name::Name> = all
        .iter()
        .filter(|c| expired_at(c))
        .map(|c| &c.tbs_certificate.issuer)
        .collect();
    for c in &all {
        let expired = expired_at(c);
        if is_self_signed(c) || expired {
            continue;
        }
        let issuer = all
            .iter()
            .find(|i| i.tbs_certificate.subject == c.tbs_certificate.issuer && *i != c);
        let mut got = false;
        if let Some(issuer) = issuer {
            if let Some(r) = revocation.ocsp(c, issuer).map_err(service_err("OCSP"))? {
                if !ocsps.contains(&r) {
                    ocsps.push(r);
                }
                got = true;
            }
        }
        // With `at` (an archive renewal), no fresh CRL of an issuer whose certificates here
        // have expired, unless OCSP gave nothing: the CRL also speaks, by omission, for them —
        // validators (pyHanko) then take it as their newest evidence and judge them at a time
        // they no longer cover.
        let crls_too = !got || !expired_issuers.contains(&&c.tbs_certificate.issuer);
        for crl in crls_too
            .then(|| revocation.crls(c))
            .transpose()
            .map_err(service_err("CRL"))?
            .unwrap_or_default()
        {
            if !crls.contains(&crl) {
                crls.push(crl);
            }
            got = true;
        }
        if !got {
            return Err(SignError::new(
                SignErrorKind::Service,
                format!(
                    "no revocation information could be obtained for {}",
                    common_name(c).unwrap_or_else(|| "a certificate of the chain".into())
                ),
            ));
        }
    }
    let mut up = IncrementalUpdate::new(doc);
    let mut dss = match existing_dss(doc)? {
        Some(d) => d,
        None => Dict::new().with("Type", Object::name("DSS")),
    };
    // The existing entries are kept, whether the arrays are direct or indirect (pyHanko and
    // Acrobat write both).
    let existing = |key: &str| -> Vec<Object> {
        dss.get(key)
            .and_then(|o| doc.resolve(o).ok())
            .and_then(|o| o.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
    };
    let existing: Vec<(&str, Vec<Object>)> = ["Certs", "OCSPs", "CRLs"]
        .into_iter()
        .map(|k| (k, existing(k)))
        .collect();
    let mut add_streams = |up: &mut IncrementalUpdate<'_>, key: &str, items: Vec<Vec<u8>>| {
        let mut arr: Vec<Object> = existing
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        // What the DSS holds already is not added again (each archive renewal collects the
        // chains of every signature; most of it is there).
        let held: Vec<Vec<u8>> = arr
            .iter()
            .filter_map(|o| match doc.resolve(o).ok()? {
                Object::Stream(st) => doc.decode_stream(&st).ok(),
                _ => None,
            })
            .collect();
        for data in items {
            if held.contains(&data) {
                continue;
            }
            let r = up.alloc();
            up.put(
                r,
                paraf_pdf::Stream {
                    dict: Dict::new(),
                    data,
                },
            );
            arr.push(Object::Ref(r));
        }
        if !arr.is_empty() {
            dss.set(key, arr);
        }
    };
    let cert_ders: Vec<Vec<u8>> = all.iter().filter_map(|c| c.to_der().ok()).collect();
    add_streams(&mut up, "Certs", cert_ders);
    add_streams(&mut up, "OCSPs", ocsps);
    add_streams(&mut up, "CRLs", crls);
    let dss_ref = up.alloc();
    up.put(dss_ref, dss);
    let cat_ref = doc.catalog_ref()?;
    let mut cat = doc.catalog()?;
    cat.set("DSS", Object::Ref(dss_ref));
    cat.remove("Extensions");
    cat.set("Extensions", extensions());
    up.put(cat_ref, cat);
    Ok(up.finish_file()?)
}

fn extensions() -> Dict {
    Dict::new().with(
        "ESIC",
        Dict::new()
            .with("BaseVersion", Object::name("1.7"))
            .with("ExtensionLevel", 5i64),
    )
}

fn existing_dss(doc: &Document) -> Result<Option<Dict>> {
    let cat = doc.catalog()?;
    match doc.resolve_key(&cat, "DSS")? {
        Object::Dict(d) => Ok(Some(d)),
        _ => Ok(None),
    }
}

/// Appends a document timestamp (`/Type /DocTimeStamp`, `ETSI.RFC3161`) over the whole file.
pub fn document_timestamp(doc: &Document, ts: &dyn Timestamper) -> Result<Vec<u8>> {
    let reserve = 12_000;
    let mut up = IncrementalUpdate::new(doc);
    let sig_ref = up.alloc();
    let extra = b"/Type /DocTimeStamp/Filter /Adobe.PPKLite/SubFilter /ETSI.RFC3161".to_vec();
    let (body, br_at, br_len, c_at, c_len) = signature_dict_body(&extra, reserve);
    up.put_raw(sig_ref, body);
    let target = FieldTarget { name: None };
    fields::attach_signature(&mut up, &target, sig_ref, None, None)?;
    let (mut tail, base, sig_body) = finish_signed(doc, up, sig_ref)?;
    let total = base + tail.len();
    let contents_at = sig_body + c_at;
    let a = base + contents_at;
    let b = a + c_len;
    let br = format!(
        "{:<width$}",
        format!("[0 {} {} {}]", a, b, total - b),
        width = br_len
    );
    tail[sig_body + br_at..sig_body + br_at + br_len].copy_from_slice(br.as_bytes());
    let alg = DigestAlg::Sha256;
    let mut h = alg.hasher();
    h.update(doc.data());
    h.update(&tail[..contents_at]);
    h.update(&tail[contents_at + c_len..]);
    let digest = h.finish();
    let token = ts
        .timestamp(alg, &digest)
        .map_err(service_err("timestamp authority"))?;
    if token.len() > reserve {
        return Err(SignError::new(
            SignErrorKind::Service,
            "the document timestamp token is larger than the space reserved for it",
        ));
    }
    write_hex_into(&mut tail[contents_at + 1..contents_at + c_len - 1], &token);
    let mut pdf = Vec::with_capacity(total);
    pdf.extend_from_slice(doc.data());
    pdf.extend_from_slice(&tail);
    Ok(pdf)
}

fn is_self_signed(c: &Certificate) -> bool {
    c.tbs_certificate.subject == c.tbs_certificate.issuer
}

/// The subject's common name.
pub fn common_name(c: &Certificate) -> Option<String> {
    for rdn in c.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == const_oid::db::rfc4519::CN {
                if let Ok(s) = x509_cert::der::asn1::Utf8StringRef::try_from(&atv.value) {
                    return Some(s.as_str().to_string());
                }
                if let Ok(s) = x509_cert::der::asn1::PrintableStringRef::try_from(&atv.value) {
                    return Some(s.as_str().to_string());
                }
            }
        }
    }
    None
}

/// `D:YYYYMMDDHHmmSSZ` (§7.9.4), always in UTC.
pub fn pdf_date(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(t);
    format!("D:{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")
}

/// `YYYY-MM-DD HH:MM UTC`, for text shown in a signature's appearance.
pub fn human_date(t: SystemTime) -> String {
    let (y, mo, d, h, mi, _) = utc_fields(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
}

fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Calendar fields in UTC, by `der`'s `DateTime` (years 1970–9999; times outside read as the
/// epoch).
fn utc_fields(t: SystemTime) -> (u16, u8, u8, u8, u8, u8) {
    match x509_cert::der::DateTime::from_system_time(t) {
        Ok(dt) => (
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minutes(),
            dt.seconds(),
        ),
        Err(_) => (1970, 1, 1, 0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_are_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(pdf_date(t), "D:20261118110640Z");
    }
}
