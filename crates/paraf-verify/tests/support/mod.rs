//! Test fixtures for the validator: a tiny in-memory PKI (root, signers, TSA, OCSP answering
//! at a chosen time), test PDFs, signing through `paraf_sign`, and incremental-update helpers
//! to build attacks. Deterministic times; no network.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use paraf_pdf::{Dict, Document, IncrementalUpdate, ObjRef, Object};
use paraf_pki::oids;
use paraf_pki::x509::{self, CertTemplate, NameValue};
use paraf_pki::{KeyType, PrivateKey, RevocationSource, SoftSigner, TimestampAuthority};
use paraf_sign::{Level, Services, SignOptions};
use paraf_verify::{ValidationReport, VerifyOptions};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::Certificate;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// 2026-01-15T10:00:00Z: when test documents are signed.
pub fn signing_time() -> SystemTime {
    at(1_768_471_200)
}

/// 2026-06-01T00:00:00Z: when they are validated.
pub fn validation_time() -> SystemTime {
    at(1_780_272_000)
}

const YEAR: u64 = 365 * 86_400;

pub struct Pki {
    pub root_key: PrivateKey,
    pub root: Certificate,
    pub tsa: TimestampAuthority,
}

pub struct Identity {
    pub key_der: Vec<u8>,
    pub cert: Certificate,
}

fn name(cn: &str) -> x509_cert::name::Name {
    x509::build_name(&[
        (oids::COMMON_NAME, NameValue::Utf8(cn.into())),
        (oids::ORGANIZATION, NameValue::Utf8("Paraf Test".into())),
    ])
    .unwrap()
}

impl Pki {
    pub fn new() -> Pki {
        let root_key = PrivateKey::generate(KeyType::P256).unwrap();
        let spki = root_key.public_key_spki().to_vec();
        let root = CertTemplate {
            serial: x509::random_serial().unwrap(),
            issuer: name("Paraf Test Root"),
            subject: name("Paraf Test Root"),
            not_before: at(1_735_689_600), // 2025-01-01
            not_after: at(1_735_689_600 + 20 * YEAR),
            spki_der: spki.clone(),
            extensions: vec![
                x509::ext_basic_constraints(true, None).unwrap(),
                x509::ext_key_usage(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)).unwrap(),
                x509::ext_subject_key_id(&spki).unwrap(),
            ],
        }
        .sign(&root_key)
        .unwrap();
        let tsa_key = PrivateKey::generate(KeyType::P256).unwrap();
        let tsa_cert = Self::issue_with(
            &root_key,
            &root,
            "Paraf Test TSA",
            &tsa_key,
            at(1_735_689_600),
            at(1_735_689_600 + 10 * YEAR),
            true,
        );
        let tsa = TimestampAuthority::new(
            tsa_key,
            tsa_cert,
            vec![root.clone()],
            paraf_pki::Clock::fixed(signing_time()),
        )
        .unwrap();
        Pki {
            root_key,
            root,
            tsa,
        }
    }

    fn issue_with(
        root_key: &PrivateKey,
        root: &Certificate,
        cn: &str,
        key: &PrivateKey,
        not_before: SystemTime,
        not_after: SystemTime,
        tsa: bool,
    ) -> Certificate {
        let spki = key.public_key_spki().to_vec();
        let mut extensions = vec![
            x509::ext_basic_constraints(false, None).unwrap(),
            x509::ext_subject_key_id(&spki).unwrap(),
            x509::ext_authority_key_id(root_key.public_key_spki()).unwrap(),
        ];
        if tsa {
            extensions
                .push(x509::ext_key_usage(KeyUsage(KeyUsages::DigitalSignature.into())).unwrap());
            extensions.push(x509::ext_extended_key_usage(&[oids::KP_TIME_STAMPING], true).unwrap());
        } else {
            extensions.push(
                x509::ext_key_usage(KeyUsage(
                    KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
                ))
                .unwrap(),
            );
        }
        CertTemplate {
            serial: x509::random_serial().unwrap(),
            issuer: root.tbs_certificate.subject.clone(),
            subject: name(cn),
            not_before,
            not_after,
            spki_der: spki,
            extensions,
        }
        .sign(root_key)
        .unwrap()
    }

    /// A signer valid 2025-2030 (or within `validity`).
    pub fn identity(
        &self,
        cn: &str,
        kt: KeyType,
        validity: Option<(SystemTime, SystemTime)>,
    ) -> Identity {
        let key = PrivateKey::generate(kt).unwrap();
        let (nb, na) = validity.unwrap_or((at(1_735_689_600), at(1_735_689_600 + 5 * YEAR)));
        let cert = Self::issue_with(&self.root_key, &self.root, cn, &key, nb, na, false);
        Identity {
            key_der: key.to_pkcs8_der().unwrap().to_vec(),
            cert,
        }
    }

    pub fn signer(&self, id: &Identity) -> SoftSigner {
        let key = PrivateKey::from_pkcs8_der(&id.key_der).unwrap();
        SoftSigner::new(key, id.cert.clone(), vec![self.root.clone()], None).unwrap()
    }

    /// An OCSP responder (the root answers for what it issued) answering at `now`.
    pub fn responder(&self, now: SystemTime) -> Responder<'_> {
        Responder {
            pki: self,
            now,
            revoked: Vec::new(),
        }
    }

    pub fn options(&self) -> VerifyOptions<'static> {
        let mut o = VerifyOptions::new(validation_time());
        o.trust_anchors = vec![self.root.clone()];
        o
    }
}

pub struct Responder<'a> {
    pki: &'a Pki,
    now: SystemTime,
    /// (serial, revocation time)
    pub revoked: Vec<(Vec<u8>, SystemTime)>,
}

impl RevocationSource for Responder<'_> {
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> paraf_pki::Result<Option<Vec<u8>>> {
        if issuer != &self.pki.root {
            return Ok(None);
        }
        let id = paraf_pki::ocsp::cert_id(cert, issuer)?;
        let serial = cert.tbs_certificate.serial_number.as_bytes().to_vec();
        let status = match self.revoked.iter().find(|(s, _)| *s == serial) {
            Some((_, t)) => {
                paraf_pki::ocsp::revoked_status(*t, paraf_pki::RevocationReason::KeyCompromise)?
            }
            None => x509_ocsp::CertStatus::Good(der::asn1::Null),
        };
        let b = paraf_pki::ocsp::ResponseBuilder {
            key: &self.pki.root_key,
            cert: &self.pki.root,
            validity: Duration::from_secs(7 * 86_400),
        };
        Ok(Some(b.build(vec![(id, status)], None, self.now)?))
    }

    fn crls(&self, _cert: &Certificate) -> paraf_pki::Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
}

/// A small PDF: `pages` pages of Helvetica text, classic xref table.
pub fn simple_pdf(pages: usize) -> Vec<u8> {
    paraf_testkit::pdf::numbered_pages(
        pages,
        "BT /F1 12 Tf 72 700 Td (Harga: Rp 10.000.000) Tj ET\n",
    )
}

/// A PDF from object bodies (numbered from 1) plus raw stream objects `(body_dict, data)`.
pub fn build_pdf(objs: &[&str], streams: &[(String, Vec<u8>)]) -> Vec<u8> {
    paraf_testkit::pdf::build(objs, streams, "")
}

/// A one-page PDF whose page draws an uncompressed RGB image of about `bytes` bytes.
pub fn big_pdf(bytes: usize) -> Vec<u8> {
    let side = ((bytes / 3) as f64).sqrt() as usize;
    let data: Vec<u8> = (0..side * side * 3).map(|i| (i * 7 % 251) as u8).collect();
    let content =
        b"q 500 0 0 500 40 200 cm /Im1 Do Q\nBT /F1 12 Tf 72 770 Td (Lampiran) Tj ET\n".to_vec();
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 5 0 R >>",
    ];
    let streams = vec![
        (format!("<< /Length {} >>", content.len()), content),
        (
            format!("<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>", data.len()),
            data,
        ),
    ];
    build_pdf(&objs, &streams)
}

/// Signs `pdf` with `id` at `level` (TSA and OCSP at the signing time).
pub fn sign(
    pki: &Pki,
    pdf: &[u8],
    id: &Identity,
    level: Level,
    tweak: impl FnOnce(&mut SignOptions),
) -> Vec<u8> {
    let doc = Document::load(pdf.to_vec(), None).unwrap();
    let signer = pki.signer(id);
    let mut opts = SignOptions::new(signing_time());
    opts.level = level;
    opts.reason = Some("Persetujuan".into());
    opts.location = Some("Jakarta".into());
    tweak(&mut opts);
    let rev = pki.responder(signing_time());
    let services = Services {
        timestamper: Some(&pki.tsa),
        revocation: Some(&rev),
    };
    paraf_sign::sign(&doc, &signer, &opts, services)
        .unwrap()
        .pdf
}

pub fn verify(pdf: &[u8], opts: &VerifyOptions<'_>) -> ValidationReport {
    paraf_verify::verify(pdf.to_vec(), None, opts).unwrap()
}

/// Appends an incremental update made by `f`.
pub fn update(pdf: &[u8], f: impl FnOnce(&Document, &mut IncrementalUpdate<'_>)) -> Vec<u8> {
    let doc = Document::load(pdf.to_vec(), None).unwrap();
    let mut up = IncrementalUpdate::new(&doc);
    f(&doc, &mut up);
    let appended = up.finish().unwrap();
    let mut out = pdf.to_vec();
    out.extend_from_slice(&appended.bytes);
    out
}

pub fn first_page(doc: &Document) -> (ObjRef, Dict) {
    let p = doc.pages().unwrap().into_iter().next().unwrap();
    (p.id, p.dict)
}

/// The object number of the (first) signature dictionary.
pub fn sig_ref(doc: &Document) -> ObjRef {
    let cat = doc.catalog().unwrap();
    let form = doc.resolve_key(&cat, "AcroForm").unwrap();
    let fields = doc.resolve_key(form.as_dict().unwrap(), "Fields").unwrap();
    let f = doc.resolve(&fields.as_array().unwrap()[0]).unwrap();
    f.as_dict().unwrap().get("V").unwrap().as_ref().unwrap()
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

pub fn describe(r: &ValidationReport) -> String {
    r.to_json_pretty()
}

pub fn name_obj(s: &str) -> Object {
    Object::name(s)
}

/// A form XObject `width` × `height` drawing `ops`.
pub fn form_xobject(width: i64, height: i64, ops: &[u8]) -> paraf_pdf::Stream {
    paraf_pdf::Stream {
        dict: Dict::new()
            .with("Type", Object::name("XObject"))
            .with("Subtype", Object::name("Form"))
            .with(
                "BBox",
                vec![
                    Object::Int(0),
                    Object::Int(0),
                    Object::Int(width),
                    Object::Int(height),
                ],
            ),
        data: ops.to_vec(),
    }
}

/// Appends `annot` to the `/Annots` of `page` (object `page_ref`) in `up`.
pub fn add_annotation(
    doc: &Document,
    up: &mut IncrementalUpdate<'_>,
    page_ref: ObjRef,
    mut page: Dict,
    annot: ObjRef,
) {
    let mut annots: Vec<Object> = doc
        .resolve_key(&page, "Annots")
        .unwrap()
        .as_array()
        .map(<[Object]>::to_vec)
        .unwrap_or_default();
    annots.push(Object::Ref(annot));
    page.set("Annots", annots);
    up.put(page_ref, page);
}

/// A bordered "Disetujui" stamp at `[x, y, width, height]` (points) on `page`.
pub fn stamp(page: usize, [x, y, width, height]: [f64; 4]) -> paraf_sign::Visible {
    paraf_sign::Visible {
        placement: paraf_sign::Placement::Rect {
            page,
            x,
            y,
            width,
            height,
        },
        spec: paraf_sign::appearance::AppearanceSpec {
            width: 0.0,
            height: 0.0,
            image: None,
            qr_url: None,
            lines: vec!["Disetujui".into()],
            border: true,
            rotate: 0,
        },
    }
}
