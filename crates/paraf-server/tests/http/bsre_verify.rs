//! BSrE verify endpoints (`POST /api/sign/verify` v1, `POST /api/v2/verify/pdf` v2) through the
//! real server: files signed here with the engine and the server's own CA (B-T, its TSA) come
//! out VALID with every seed field filled; unsigned, tampered, foreign-CA, encrypted and broken
//! inputs; languages and credentials; and the public attack corpus (when `PARAF_CORPUS` is set)
//! compared with `paraf_verify::verify` run directly with the same options.
//! SQLite only: verification touches no table besides the credential check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, SystemTime};

use base64::Engine;
use paraf_core::verification::{options, LiveCa};
use paraf_domain::Plan;
use paraf_pdf::Document;
use paraf_pki::ca::{CaInitOptions, CertificateAuthority};
use paraf_pki::{IssueRequest, KeyType, SoftSigner, Timestamper};
use paraf_sign::{Level, Services, SignOptions};
use paraf_verify::{Indication, SignatureKind, ValidationReport};
use serde_json::{json, Value};

use crate::common::*;

const USER: &str = "esign-app";
const FIELD: &str = "sig_1697437714025";

struct Fx {
    app: TestApp,
    auth: String,
}

async fn setup() -> Fx {
    let app = spawn(Backend::Sqlite).await;
    let t = tenant(&app, "bsre-verify", Plan::Nusantara).await;
    app_credential(&app, t.org.id, USER, &[]).await;
    Fx {
        app,
        auth: basic(USER, PASSWORD),
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Signs `pdf` at B-T with a key and certificate from `ca` and `ca`'s TSA.
fn sign_with(
    ca: &CertificateAuthority,
    pdf: Vec<u8>,
    password: Option<&str>,
    now: SystemTime,
) -> Vec<u8> {
    let (key, cert) = ca
        .issue(IssueRequest {
            common_name: "Budi Santoso".into(),
            email: None,
            nik: Some("3171012345678901".into()),
            key_type: KeyType::Rsa2048,
            validity_days: 365,
            not_before: now - Duration::from_secs(3600),
        })
        .unwrap();
    let signer = SoftSigner::new(key, cert, ca.signer_chain(), None).unwrap();
    let doc = Document::load(pdf, password.map(str::as_bytes)).unwrap();
    let mut opts = SignOptions::new(now);
    opts.level = Level::BT;
    opts.reason = Some("Dokumen telah disetujui".into());
    opts.location = Some("Jakarta".into());
    opts.field_name = Some(FIELD.into());
    let services = Services {
        timestamper: Some(ca.tsa() as &dyn Timestamper),
        revocation: None,
    };
    paraf_sign::sign(&doc, &signer, &opts, services)
        .unwrap()
        .pdf
}

/// Signs with the server's CA, then moves the server's clock past the TSA's (system) time.
pub(crate) fn sign(app: &TestApp, pdf: Vec<u8>, password: Option<&str>) -> Vec<u8> {
    let now: SystemTime = app.clock.now_ts().into();
    let signed = app
        .state
        .pki
        .modify(|ca| Ok(sign_with(ca, pdf, password, now)))
        .unwrap();
    app.clock.advance(chrono::Duration::minutes(2));
    signed
}

async fn v1(fx: &Fx, name: &str, pdf: Vec<u8>, lang: Option<&str>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(pdf)
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("signed_file", part);
    v1_form(fx, form, lang).await
}

/// `POST /api/sign/verify` with any multipart form.
async fn v1_form(fx: &Fx, form: reqwest::multipart::Form, lang: Option<&str>) -> (u16, Value) {
    let mut rb = fx
        .app
        .post("/api/sign/verify")
        .header("authorization", &fx.auth)
        .multipart(form);
    if let Some(l) = lang {
        rb = rb.header("x-language", l);
    }
    json(rb.send().await.unwrap()).await
}

async fn v2(fx: &Fx, body: Value, lang: Option<&str>) -> (u16, Value) {
    let mut rb = fx
        .app
        .post("/api/v2/verify/pdf")
        .header("authorization", &fx.auth)
        .json(&body);
    if let Some(l) = lang {
        rb = rb.header("x-language", l);
    }
    json(rb.send().await.unwrap()).await
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn is_hex_id(v: &Value, prefix: &str) -> bool {
    v.as_str().is_some_and(|s| {
        s.strip_prefix(prefix).is_some_and(|h| {
            h.len() == 64
                && h.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        })
    })
}

fn sha256_upper(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode_upper(sha2::Sha256::digest(data))
}

/// The first signature's CMS (zero padding removed) and its signature time-stamp token, read
/// here independently of the server.
fn cms_and_token(pdf: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use paraf_pki::asn1::der::{Decode, Encode, Reader};
    let start = pdf.windows(11).position(|w| w == b"/Contents <").unwrap() + 11;
    let len = pdf[start..].iter().position(|b| *b == b'>').unwrap();
    let all = hex::decode(&pdf[start..start + len]).unwrap();
    let mut reader = paraf_pki::asn1::der::SliceReader::new(&all).unwrap();
    let header = paraf_pki::asn1::der::Header::decode(&mut reader).unwrap();
    let total = usize::try_from((reader.position() + header.length).unwrap()).unwrap();
    let cms = all[..total].to_vec();
    let sd = paraf_pki::cms::parse_signed_data(&cms).unwrap();
    let si = sd.signer_infos.0.iter().next().unwrap();
    let attr = si
        .unsigned_attrs
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.oid == paraf_pki::oids::SIGNATURE_TIME_STAMP_TOKEN)
        .unwrap();
    let token = attr.values.iter().next().unwrap().to_der().unwrap();
    (cms, token)
}

fn assert_error(status: u16, v: &Value, want_status: u16, code: u64) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(keys(v), set(&["error", "status_code"]), "{v}");
    assert_eq!(v["status_code"], code, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_file_is_valid_with_every_seed_field() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let fx = setup().await;
    let pdf = sign(&fx.app, simple_pdf(), None);

    // v1
    let (s, v) = v1(&fx, "kontrak.pdf", pdf.clone(), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        keys(&v),
        set(&[
            "nama_dokumen",
            "jumlah_signature",
            "notes",
            "details",
            "summary"
        ])
    );
    assert_eq!(v["nama_dokumen"], "kontrak.pdf");
    assert_eq!(v["jumlah_signature"], 1);
    assert_eq!(v["summary"], "VALID", "{v}");
    assert!(v["notes"].as_str().unwrap().contains("valid"), "{v}");
    let d = &v["details"][0];
    assert_eq!(
        keys(d),
        set(&[
            "info_tsa",
            "signature_field",
            "info_signer",
            "signature_document"
        ])
    );
    assert_eq!(keys(&d["info_tsa"]), set(&["name", "tsa_cert_validity"]));
    assert_eq!(
        keys(&d["info_signer"]),
        set(&[
            "issuer_dn",
            "signer_name",
            "signer_cert_validity",
            "signer_dn",
            "cert_user_certified"
        ])
    );
    assert_eq!(
        keys(&d["signature_document"]),
        set(&[
            "signed_using_tsa",
            "reason",
            "document_integrity",
            "signature_value",
            "signed_in",
            "location",
            "hash_value"
        ])
    );
    assert_eq!(d["signature_field"], FIELD);
    assert!(!d["info_tsa"]["name"].as_str().unwrap().is_empty(), "{d}");
    let validity = d["info_tsa"]["tsa_cert_validity"].as_str().unwrap();
    assert!(validity.contains(" to "), "{validity}");
    let si = &d["info_signer"];
    assert_eq!(si["signer_name"], "Budi Santoso");
    assert!(
        si["signer_dn"]
            .as_str()
            .unwrap()
            .contains("CN=Budi Santoso"),
        "{si}"
    );
    assert!(si["issuer_dn"].as_str().unwrap().contains("CN="), "{si}");
    assert_eq!(si["cert_user_certified"], true);
    let validity = si["signer_cert_validity"].as_str().unwrap();
    let (from, to) = validity.split_once(" to ").unwrap();
    for t in [from, to] {
        // 2023-10-06 12:56:15.00
        assert_eq!(t.len(), 22, "{t}");
        assert!(
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").is_ok(),
            "{t}"
        );
    }
    let sd = &d["signature_document"];
    assert_eq!(sd["signed_using_tsa"], true);
    assert_eq!(sd["document_integrity"], true);
    assert_eq!(sd["reason"], "Dokumen telah disetujui");
    assert_eq!(sd["location"], "Jakarta");
    let signed_in = sd["signed_in"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(signed_in, "%Y-%m-%d %H:%M:%S%.f").is_ok());
    assert!(signed_in.ends_with(".00"), "{signed_in}");
    assert_eq!(sd["hash_value"].as_str().unwrap().len(), 64, "{sd}");
    assert_eq!(
        sd["signature_value"].as_str().unwrap().len(),
        512,
        "RSA-2048: {sd}"
    );

    // v2
    let (s, v) = v2(&fx, json!({"file": b64(&pdf)}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        keys(&v),
        set(&[
            "conclusion",
            "description",
            "signatureInformations",
            "signatureCount"
        ])
    );
    assert_eq!(v["conclusion"], "VALID", "{v}");
    assert_eq!(v["signatureCount"], 1);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Dokumen memiliki 1 tanda tangan"),
        "{v}"
    );
    let i = &v["signatureInformations"][0];
    assert_eq!(
        keys(i),
        set(&[
            "id",
            "signatureFormat",
            "signerName",
            "signatureDate",
            "fieldName",
            "reason",
            "location",
            "certLevelCode",
            "signatureAlgorithm",
            "digestAlgorithm",
            "timestampInformation",
            "certificateDetails",
            "integrityValid",
            "certificateTrusted",
            "lastSignature"
        ])
    );
    assert!(is_hex_id(&i["id"], "S-"), "{i}");
    assert_eq!(i["signatureFormat"], "PKCS7-T");
    assert_eq!(i["signerName"], "Budi Santoso");
    let date = i["signatureDate"].as_str().unwrap();
    assert!(date.ends_with(".000+00:00") && date.len() == 29, "{date}");
    assert!(chrono::DateTime::parse_from_rfc3339(date).is_ok(), "{date}");
    assert_eq!(i["fieldName"], FIELD);
    assert_eq!(i["reason"], "Dokumen telah disetujui");
    assert_eq!(i["location"], "Jakarta");
    assert_eq!(i["certLevelCode"], 0);
    assert_eq!(i["signatureAlgorithm"], "RSA with SHA256");
    assert_eq!(i["digestAlgorithm"], "SHA256");
    assert_eq!(i["integrityValid"], true);
    assert_eq!(i["certificateTrusted"], true);
    assert_eq!(i["lastSignature"], true);
    let ts = &i["timestampInformation"];
    assert_eq!(keys(ts), set(&["id", "signerName", "timestampDate"]));
    assert!(is_hex_id(&ts["id"], "T-"), "{ts}");
    assert!(ts["signerName"].is_string());
    assert!(chrono::DateTime::parse_from_rfc3339(ts["timestampDate"].as_str().unwrap()).is_ok());
    let certs = i["certificateDetails"].as_array().unwrap();
    assert!(certs.len() >= 2, "leaf and CA(s): {i}");
    for c in certs {
        assert_eq!(
            keys(c),
            set(&[
                "id",
                "commonName",
                "issuerName",
                "serialNumber",
                "notAfterDate",
                "notBeforeDate",
                "signatureAlgorithm",
                "keyUsages"
            ])
        );
        assert!(is_hex_id(&c["id"], "C-"), "{c}");
        assert!(c["serialNumber"]
            .as_str()
            .unwrap()
            .chars()
            .all(|ch| ch.is_ascii_digit()));
        assert!(c["notAfterDate"].as_str().unwrap().ends_with("+00:00"));
    }
    assert_eq!(certs[0]["commonName"], "Budi Santoso");
    let ku: Vec<&str> = certs[0]["keyUsages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(ku, ["digitalSignature", "nonRepudiation"]);
    let ca_ku = certs.last().unwrap()["keyUsages"].to_string();
    assert!(
        ca_ku.contains("keyCertSign") && ca_ku.contains("crlSign"),
        "{ca_ku}"
    );
    // Ids: SHA-256 of the CMS, of the time-stamp token, of the certificate.
    let (cms, token) = cms_and_token(&pdf);
    assert_eq!(i["id"], format!("S-{}", sha256_upper(&cms)));
    assert_eq!(ts["id"], format!("T-{}", sha256_upper(&token)));
    // The same file gives the same ids.
    let (_, again) = v2(&fx, json!({"file": b64(&pdf)}), None).await;
    assert_eq!(again["signatureInformations"][0]["id"], i["id"]);

    // English.
    let (s, v) = v2(&fx, json!({"file": b64(&pdf)}), Some("en")).await;
    assert_eq!(s, 200);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("The document has 1 valid"),
        "{v}"
    );
    let (_, v) = v1(&fx, "kontrak.pdf", pdf, Some("en")).await;
    assert!(
        v["notes"]
            .as_str()
            .unwrap()
            .starts_with("The document has 1 valid"),
        "{v}"
    );
    fx.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_tampered_and_foreign_files() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let fx = setup().await;

    // No signature: 200, NO_SIGNATURE with the seed's sentence.
    let (s, v) = v2(&fx, json!({"file": b64(&simple_pdf())}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["conclusion"], "NO_SIGNATURE");
    assert_eq!(
        v["description"],
        "Dokumen tidak memiliki tandatangan elektronik"
    );
    assert_eq!(v["signatureCount"], 0);
    assert_eq!(v["signatureInformations"], json!([]));
    let (s, v) = v1(&fx, "polos.pdf", simple_pdf(), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["jumlah_signature"], 0);
    assert_eq!(v["summary"], "NO_SIGNATURE");
    assert_eq!(v["details"], json!([]));
    assert_eq!(v["nama_dokumen"], "polos.pdf");

    // One byte flipped inside the signed range (the page's text).
    let mut pdf = sign(&fx.app, simple_pdf(), None);
    let at = pdf.windows(10).position(|w| w == b"Perjanjian").unwrap();
    pdf[at] = b'Q';
    let (s, v) = v2(&fx, json!({"file": b64(&pdf)}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["conclusion"], "INVALID", "{v}");
    assert_eq!(v["signatureInformations"][0]["integrityValid"], false);
    assert!(
        v["description"].as_str().unwrap().contains("berubah"),
        "{v}"
    );
    let (_, v) = v1(&fx, "diubah.pdf", pdf, None).await;
    assert_eq!(v["summary"], "INVALID", "{v}");
    assert_eq!(
        v["details"][0]["signature_document"]["document_integrity"],
        false
    );

    // Signed by a CA the server does not trust: intact but indeterminate → WARNING.
    let dir = tempfile::tempdir().unwrap();
    let now: SystemTime = fx.app.clock.now_ts().into();
    let foreign = CertificateAuthority::init(
        &dir.path().join("ca"),
        CaInitOptions {
            key_type: KeyType::P256,
            public_url: "http://127.0.0.1:9".into(),
            org_name: "CA Asing".into(),
            passphrase: None,
        },
        now - Duration::from_secs(7200),
    )
    .unwrap();
    let pdf = sign_with(&foreign, simple_pdf(), None, now);
    fx.app.clock.advance(chrono::Duration::minutes(2));
    let (s, v) = v2(&fx, json!({"file": b64(&pdf)}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["conclusion"], "WARNING", "{v}");
    let i = &v["signatureInformations"][0];
    assert_eq!(i["integrityValid"], true);
    assert_eq!(i["certificateTrusted"], false);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("CA yang dipercaya"),
        "{v}"
    );
    let (_, v) = v1(&fx, "asing.pdf", pdf, None).await;
    assert_eq!(v["summary"], "WARNING", "{v}");
    assert_eq!(v["details"][0]["info_signer"]["cert_user_certified"], false);
    assert_eq!(
        v["details"][0]["signature_document"]["document_integrity"],
        true
    );
    fx.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_files_and_passwords() {
    if !selected(Backend::Sqlite) {
        return;
    }
    require_tool("qpdf", "qpdf");
    let fx = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "in.pdf", &simple_pdf());
    let enc = dir.path().join("enc.pdf");
    let out = Command::new("qpdf")
        .args(["--encrypt", "u", "o", "256", "--"])
        .arg(&plain)
        .arg(&enc)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "{}",
        text(&out)
    );
    let pdf = sign(&fx.app, std::fs::read(&enc).unwrap(), Some("u"));

    let (s, v) = v2(&fx, json!({"file": b64(&pdf), "password": "u"}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["conclusion"], "VALID", "{v}");
    for body in [
        json!({"file": b64(&pdf)}),
        json!({"file": b64(&pdf), "password": "salah"}),
    ] {
        let (s, v) = v2(&fx, body, None).await;
        assert_error(s, &v, 400, 2043);
        assert!(v["error"].as_str().unwrap().contains("password"), "{v}");
    }
    let (s, v) = v1(&fx, "terkunci.pdf", pdf.clone(), None).await;
    assert_error(s, &v, 400, 2043);
    // v1 takes an optional `password` part too.
    let form = reqwest::multipart::Form::new()
        .part(
            "signed_file",
            reqwest::multipart::Part::bytes(pdf).file_name("terkunci.pdf"),
        )
        .text("password", "u");
    let (s, v) = v1_form(&fx, form, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["summary"], "VALID", "{v}");
    fx.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_credentials() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let fx = setup().await;

    // Not a PDF.
    let (s, v) = v1(&fx, "bukan.pdf", b"hello, this is not a PDF".to_vec(), None).await;
    assert_error(s, &v, 400, 2081);
    let (s, v) = v2(&fx, json!({"file": b64(b"hello, this is not a PDF")}), None).await;
    assert_error(s, &v, 400, 2081);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("Dokumen tidak dapat dibaca"),
        "{v}"
    );
    // Truncated PDF.
    let mut cut = simple_pdf();
    cut.truncate(cut.len() - 30);
    let (s, v) = v2(&fx, json!({"file": b64(&cut)}), None).await;
    assert_error(s, &v, 400, 2081);
    assert!(v["error"].as_str().unwrap().contains("terpotong"), "{v}");
    let (s, v) = v2(&fx, json!({"file": b64(&cut)}), Some("en")).await;
    assert_error(s, &v, 400, 2081);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("The document cannot be read: the file is truncated"),
        "{v}"
    );

    // Base64 garbage.
    let (s, v) = v2(&fx, json!({"file": "%%%% bukan base64 ****"}), None).await;
    assert_error(s, &v, 400, 2042);
    assert_eq!(v["error"], "Parameter file bukan string base64 yang valid");

    // Missing fields, in both languages.
    let (s, v) = v2(&fx, json!({"password": "x"}), None).await;
    assert_error(s, &v, 400, 2001);
    assert_eq!(v["error"], "Parameter file wajib diisi");
    let (s, v) = v2(&fx, json!({}), Some("en")).await;
    assert_error(s, &v, 400, 2001);
    assert_eq!(v["error"], "Parameter file is required");
    let (s, v) = v2(&fx, json!({"file": 42}), None).await;
    assert_error(s, &v, 400, 2002);
    let form = reqwest::multipart::Form::new().text("something_else", "x");
    let (s, v) = v1_form(&fx, form, None).await;
    assert_error(s, &v, 400, 2001);
    assert_eq!(v["error"], "Parameter signed_file wajib diisi");
    // v1 without a multipart body.
    let (s, v) = json(
        fx.app
            .post("/api/sign/verify")
            .header("authorization", &fx.auth)
            .json(&json!({"signed_file": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(s, &v, 415, 415);

    // No credential, wrong credential: 401 in the BSrE shape.
    for auth in [None, Some(basic(USER, "salah sekali"))] {
        for path in ["/api/sign/verify", "/api/v2/verify/pdf"] {
            let mut rb = fx.app.post(path).json(&json!({"file": b64(&simple_pdf())}));
            if let Some(a) = &auth {
                rb = rb.header("authorization", a);
            }
            let r = rb.send().await.unwrap();
            assert!(r.headers().get("www-authenticate").is_some());
            let (s, v) = json(r).await;
            assert_error(s, &v, 401, 401);
        }
    }
    // The paths are in the OpenAPI document.
    let doc = paraf_server::bsre::openapi::paths();
    assert!(doc["/api/sign/verify"]["post"].is_object());
    assert!(doc["/api/v2/verify/pdf"]["post"].is_object());
    fx.app.stop().await;
}

// ------------------------------------------------------------------------------ corpus

/// The conclusion, computed here independently of the server's mapping.
fn expected_conclusion(r: &ValidationReport) -> &'static str {
    let broken = r
        .signatures
        .iter()
        .any(|s| !s.integrity.intact() || !s.modifications.illegal.is_empty());
    if r.signatures.is_empty() {
        "NO_SIGNATURE"
    } else if r.indication == Indication::TotalFailed || broken {
        "INVALID"
    } else if r.indication == Indication::TotalPassed {
        "VALID"
    } else if r.indication == Indication::Indeterminate {
        "WARNING"
    } else {
        "INVALID"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_corpus_agrees_with_the_engine() {
    let Some(cases) =
        paraf_testkit::corpus::attack_cases("the BSrE verify check over the attack corpus")
    else {
        return;
    };
    if !selected(Backend::Sqlite) {
        return;
    }
    let fx = setup().await;
    let now: SystemTime = fx.app.clock.now_ts().into();
    let ca = fx.app.state.pki.current().unwrap();
    let live = LiveCa::new(ca.clone(), now);
    let opts = options(&ca, now, &live);
    let mut failures = Vec::new();
    let counted = cases.len();
    for case in cases {
        let (file, expect, data) = (case.file.as_str(), case.expect.as_str(), case.data);
        let engine = paraf_verify::verify(data.clone(), None, &opts);
        let (s2, r2) = v2(&fx, json!({"file": b64(&data)}), None).await;
        let (s1, r1) = v1(&fx, file, data, None).await;
        let mut fail = |m: String| failures.push(format!("{file} ({expect}): {m}"));
        let report = match engine {
            Err(e) => {
                let code = match e.kind {
                    paraf_verify::VerifyErrorKind::BadPassword => 2043,
                    _ => 2081,
                };
                for (s, r) in [(s1, &r1), (s2, &r2)] {
                    if s != 400 || r["status_code"] != code {
                        fail(format!("engine says unreadable ({e}), server said {s} {r}"));
                    }
                }
                println!("{expect:9} {file}: unreadable");
                continue;
            }
            Ok(r) => r,
        };
        if s1 != 200 || s2 != 200 {
            fail(format!("status v1 {s1} {r1}, v2 {s2} {r2}"));
            continue;
        }
        let want = expected_conclusion(&report);
        println!("{expect:9} {file}: {want} ({})", report.indication);
        if r2["conclusion"] != want || r1["summary"] != want {
            fail(format!(
                "conclusion v2 {} / v1 {}, engine maps to {want}",
                r2["conclusion"], r1["summary"]
            ));
        }
        let sigs: Vec<_> = report
            .signatures
            .iter()
            .filter(|s| s.kind == SignatureKind::Signature)
            .collect();
        if r2["signatureCount"] != sigs.len() || r1["jumlah_signature"] != sigs.len() {
            fail(format!(
                "count v2 {} / v1 {}, engine {}",
                r2["signatureCount"],
                r1["jumlah_signature"],
                sigs.len()
            ));
        }
        for (n, s) in sigs.iter().enumerate() {
            let intact = s.integrity.intact() && s.modifications.illegal.is_empty();
            let i = &r2["signatureInformations"][n];
            let d = &r1["details"][n];
            if i["integrityValid"] != intact
                || d["signature_document"]["document_integrity"] != intact
                || i["certificateTrusted"] != s.trust.trusted
                || d["info_signer"]["cert_user_certified"] != s.trust.trusted
                || i["fieldName"] != json!(s.field_name)
                || d["signature_field"] != json!(s.field_name)
                || i["signatureFormat"] != json!(s.signature_format)
            {
                fail(format!(
                    "signature {n} differs from the engine: v2 {i} v1 {d}"
                ));
            }
        }
        if expect == "tampered" {
            if want == "VALID" || r2["conclusion"] == "VALID" || r1["summary"] == "VALID" {
                fail("a tampered file called VALID".into());
            }
            let all_intact = !sigs.is_empty()
                && sigs.iter().enumerate().all(|(n, s)| {
                    r1["details"][n]["signature_document"]["document_integrity"] == true
                        && s.problems.iter().all(|p| p.sub_indication.is_trust_only())
                });
            if all_intact
                && report
                    .signatures
                    .iter()
                    .all(|s| s.modifications.illegal.is_empty())
            {
                fail(format!(
                    "a tampered file reported intact and unmodified: {r1}"
                ));
            }
        }
    }
    paraf_testkit::corpus::assert_agreement(counted, &failures);
    fx.app.stop().await;
}
