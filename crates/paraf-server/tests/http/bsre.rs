//! The BSrE dialect over HTTP with the seed's exact field names: v1 multipart signing and the
//! single download, v2 bulk signing with passphrase or TOTP, seals, user status and
//! registration with the activation page, every bad input with its documented error body, the
//! IP allow-list, the lock after wrong passphrases, and TOTP expiry and single use (injected
//! clock). The PDFs produced are checked by pyHanko and pdfsig, with the server's own OCSP
//! responder answering them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use base64::Engine;
use paraf_domain::{Identity, Plan};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::common::*;
use paraf_testkit::tools::assert_pyhanko_lta;

const NIK: &str = "3171012345678901";
const PASS: &str = "rahasia-budi-2026";
const APP: &str = "sistem-informasi";

struct Bsre {
    app: TestApp,
    tenant: Tenant,
    auth: String,
    budi: Identity,
}

async fn setup_with(backend: Backend, tweak: impl FnOnce(&mut paraf_server::Config)) -> Bsre {
    let app = spawn_with(backend, tweak).await;
    let tenant = tenant(&app, "kominfo", Plan::Nusantara).await;
    app_credential(&app, tenant.org.id, APP, &["127.0.0.1/32"]).await;
    let budi = app
        .state
        .identities()
        .create_active(
            tenant.org.id,
            "Budi Santoso",
            Some("budi@kominfo.example"),
            Some(NIK),
            PASS,
            true,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    Bsre {
        auth: basic(APP, PASSWORD),
        app,
        tenant,
        budi,
    }
}

async fn setup(backend: Backend) -> Bsre {
    setup_with(backend, |_| {}).await
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap()
}

fn tag_pdf() -> Vec<u8> {
    pdf_with_pages(&["Surat Keputusan", "Hormat kami, $"])
}

/// `POST /api/sign/pdf` with text fields and optional files.
async fn v1_sign(
    t: &Bsre,
    fields: &[(&str, &str)],
    file: Option<Vec<u8>>,
    image: Option<Vec<u8>>,
) -> reqwest::Response {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(f) = file {
        form = form.part(
            "file",
            Part::bytes(f)
                .file_name("surat.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    }
    if let Some(i) = image {
        form = form.part(
            "imageTTD",
            Part::bytes(i)
                .file_name("ttd.png")
                .mime_str("image/png")
                .unwrap(),
        );
    }
    t.app
        .post("/api/sign/pdf")
        .header("authorization", &t.auth)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn v2(t: &Bsre, path: &str, body: Value) -> (u16, Value) {
    json(
        t.app
            .post(path)
            .header("authorization", &t.auth)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Asserts a BSrE error body: status, code, and that the message mentions `needle`.
async fn expect_error(resp: reqwest::Response, status: u16, code: i64, needle: &str) {
    let (s, v) = json(resp).await;
    assert_eq!(s, status, "{v}");
    assert_eq!(v["status_code"].as_i64(), Some(code), "{v}");
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    assert_eq!(
        v.as_object().unwrap().len(),
        2,
        "only error and status_code: {v}"
    );
}

fn expect_v2_error(r: (u16, Value), status: u16, code: i64, needle: &str) {
    let (s, v) = r;
    assert_eq!(s, status, "{v}");
    assert_eq!(v["status_code"].as_i64(), Some(code), "{v}");
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
}

/// Checks signed PDFs with pyHanko (strict, then its AdES B-LTA validation offline: the
/// organisation's default level) and pdfsig, trusting the server's root.
async fn validate_all(app: &TestApp, pdfs: &[(&str, Vec<u8>)]) {
    let f = ca_files(app).await;
    let nss = nss_db(&f);
    for (name, pdf) in pdfs {
        let path: PathBuf = write(f.tmp.path(), &format!("{name}.pdf"), pdf);
        let (ok, t) = pyhanko_validate(&path, &f.root);
        assert!(ok && t.contains("INTACT:TRUSTED"), "{name}: pyHanko: {t}");
        assert!(
            t.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
            "{name}: B-T: {t}"
        );
        assert_pyhanko_lta(&path, &f.root);
        let t = pdfsig(&path, &nss);
        assert!(t.contains("Signature is Valid."), "{name}: pdfsig: {t}");
        assert!(t.contains("Certificate is Trusted."), "{name}: pdfsig: {t}");
        let out = std::process::Command::new("qpdf")
            .arg("--check")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: qpdf: {}", text(&out));
    }
}

// ---------------------------------------------------------------- v1

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_signs_every_variant_and_downloads_once() {
    let t = setup(Backend::Sqlite).await;
    let base = [("nik", NIK), ("passphrase", PASS)];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    // a. Invisible.
    let r = v1_sign(
        &t,
        &with(&[("tampilan", "invisible")]),
        Some(simple_pdf()),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let id = r.headers()["id_dokumen"].to_str().unwrap().to_string();
    let invisible = r.bytes().await.unwrap().to_vec();
    assert!(
        invisible.starts_with(&simple_pdf()),
        "an incremental update"
    );
    // b. Visible with a custom specimen at coordinates, reason, location, text.
    let fields = with(&[
        ("tampilan", "visible"),
        ("image", "true"),
        ("page", "1"),
        ("xAxis", "100"),
        ("yAxis", "120"),
        ("width", "160"),
        ("height", "60"),
        ("reason", "Menyetujui dokumen"),
        ("location", "Jakarta"),
        ("text", "Kepala Dinas"),
    ]);
    let r = v1_sign(&t, &fields, Some(simple_pdf()), Some(PNG.to_vec())).await;
    assert_eq!(r.status(), 200);
    let specimen = r.bytes().await.unwrap().to_vec();
    // c. Visible QR code on the last page (`halaman`).
    let fields = with(&[
        ("tampilan", "visible"),
        ("image", "false"),
        ("linkQR", "https://verif.example.go.id/d/123"),
        ("halaman", "last"),
        ("xAxis", "400"),
        ("yAxis", "50"),
        ("width", "120"),
        ("height", "120"),
    ]);
    let r = v1_sign(&t, &fields, Some(tag_pdf()), None).await;
    assert_eq!(r.status(), 200);
    let qr = r.bytes().await.unwrap().to_vec();
    // d. Visible at a tag.
    let fields = with(&[
        ("tampilan", "visible"),
        ("image", "true"),
        ("width", "100"),
        ("height", "50"),
        ("tag_koordinat", "$"),
    ]);
    let r = v1_sign(&t, &fields, Some(tag_pdf()), Some(PNG.to_vec())).await;
    assert_eq!(r.status(), 200);
    let tagged = r.bytes().await.unwrap().to_vec();

    // The single download gives the same file; the second is refused.
    let dl = || {
        t.app
            .get(&format!("/api/sign/download/{id}"))
            .header("authorization", &t.auth)
    };
    let r = dl().send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), invisible);
    // The server keeps no copy after the download (deleted once the stream is done with).
    let blob = paraf_domain::BlobId::of(&invisible);
    eventually(10, "the downloaded copy deleted", || async {
        (!t.app.state.blobs.exists(&blob).await.unwrap()).then_some(())
    })
    .await;
    // A document never downloaded expires after a week, file and all.
    let r = v1_sign(
        &t,
        &with(&[("tampilan", "invisible")]),
        Some(simple_pdf()),
        None,
    )
    .await;
    let late = r.headers()["id_dokumen"].to_str().unwrap().to_string();
    let late_blob = paraf_domain::BlobId::of(&r.bytes().await.unwrap());
    assert!(t.app.state.blobs.exists(&late_blob).await.unwrap());
    paraf_server::Core::expire_signed_documents(
        &t.app.state,
        t.app.clock.now_ts() + chrono::Duration::days(8),
    )
    .await;
    assert!(!t.app.state.blobs.exists(&late_blob).await.unwrap());
    let r = t
        .app
        .get(&format!("/api/sign/download/{late}"))
        .header("authorization", &t.auth)
        .send()
        .await
        .unwrap();
    expect_error(r, 404, 2051, &late).await;
    expect_error(dl().send().await.unwrap(), 410, 2052, &id).await;
    // Another organisation's application cannot download it either.
    let other = tenant(&t.app, "lain", Plan::Nusantara).await;
    app_credential(&t.app, other.org.id, "lain-app", &[]).await;
    let r = t
        .app
        .get("/api/sign/download/0123456789abcdef0123456789abcdef")
        .header("authorization", basic("lain-app", PASSWORD))
        .send()
        .await
        .unwrap();
    expect_error(r, 404, 2051, "tidak ditemukan").await;

    // The signature counts on the dashboard and in the audit log.
    t.app.state.usage.flush().await;
    let usage = t
        .app
        .store
        .app_usage(t.tenant.org.id, t.app.clock.now_ts())
        .await
        .unwrap();
    assert_eq!(
        usage.iter().map(|u| u.signatures).sum::<u64>(),
        5,
        "{usage:?}"
    );
    assert!(
        usage.iter().map(|u| u.requests).sum::<u64>() >= 6,
        "{usage:?}"
    );

    validate_all(
        &t.app,
        &[
            ("invisible", invisible),
            ("specimen", specimen),
            ("qr", qr),
            ("tag", tagged),
        ],
    )
    .await;
    t.app.stop().await;
}

async fn v1_refuses_bad_input(backend: Backend) {
    let t = setup(backend).await;
    let ok = [
        ("nik", NIK),
        ("passphrase", PASS),
        ("tampilan", "invisible"),
    ];
    let drop = |name: &str| -> Vec<(&str, &str)> {
        ok.iter().copied().filter(|(k, _)| *k != name).collect()
    };
    let visible = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> =
            vec![("nik", NIK), ("passphrase", PASS), ("tampilan", "visible")];
        v.extend_from_slice(extra);
        v
    };
    let pdf = || Some(simple_pdf());
    expect_error(v1_sign(&t, &ok, None, None).await, 400, 2001, "file").await;
    expect_error(
        v1_sign(&t, &drop("nik"), pdf(), None).await,
        400,
        2001,
        "nik",
    )
    .await;
    expect_error(
        v1_sign(&t, &drop("passphrase"), pdf(), None).await,
        400,
        2001,
        "passphrase",
    )
    .await;
    expect_error(
        v1_sign(&t, &drop("tampilan"), pdf(), None).await,
        400,
        2001,
        "tampilan",
    )
    .await;
    let unknown = [
        ("nik", "9999999999999999"),
        ("passphrase", PASS),
        ("tampilan", "invisible"),
    ];
    expect_error(
        v1_sign(&t, &unknown, pdf(), None).await,
        400,
        2011,
        "User tidak terdaftar",
    )
    .await;
    let short = [
        ("nik", "12345"),
        ("passphrase", PASS),
        ("tampilan", "invisible"),
    ];
    expect_error(v1_sign(&t, &short, pdf(), None).await, 400, 2002, "nik").await;
    let wrong = [
        ("nik", NIK),
        ("passphrase", "bukan-ini"),
        ("tampilan", "invisible"),
    ];
    expect_error(
        v1_sign(&t, &wrong, pdf(), None).await,
        400,
        2031,
        "Passphrase anda salah",
    )
    .await;
    let odd = [("nik", NIK), ("passphrase", PASS), ("tampilan", "kadang")];
    expect_error(v1_sign(&t, &odd, pdf(), None).await, 400, 2002, "tampilan").await;
    let coords = [
        ("page", "1"),
        ("xAxis", "10"),
        ("yAxis", "10"),
        ("width", "100"),
        ("height", "50"),
    ];
    let mut f = visible(&[("image", "true")]);
    f.extend_from_slice(&coords);
    expect_error(v1_sign(&t, &f, pdf(), None).await, 400, 2001, "imageTTD").await;
    expect_error(
        v1_sign(&t, &f, pdf(), Some(b"GIF89a not a png".to_vec())).await,
        400,
        2046,
        "imageTTD",
    )
    .await;
    let mut f = visible(&[("image", "false")]);
    f.extend_from_slice(&coords);
    expect_error(v1_sign(&t, &f, pdf(), None).await, 400, 2047, "linkQR").await;
    let f = visible(&[
        ("image", "true"),
        ("width", "100"),
        ("height", "50"),
        ("tag_koordinat", "#"),
    ]);
    expect_error(
        v1_sign(&t, &f, pdf(), Some(PNG.to_vec())).await,
        400,
        2045,
        "#",
    )
    .await;
    let f = visible(&[
        ("image", "true"),
        ("page", "3"),
        ("xAxis", "10"),
        ("yAxis", "10"),
        ("width", "100"),
        ("height", "50"),
    ]);
    expect_error(
        v1_sign(&t, &f, pdf(), Some(PNG.to_vec())).await,
        400,
        2044,
        "3",
    )
    .await;
    let f = visible(&[
        ("image", "true"),
        ("page", "1"),
        ("xAxis", "10"),
        ("yAxis", "10"),
        ("height", "50"),
    ]);
    expect_error(
        v1_sign(&t, &f, pdf(), Some(PNG.to_vec())).await,
        400,
        2001,
        "width",
    )
    .await;
    let f = visible(&[
        ("image", "true"),
        ("page", "1"),
        ("xAxis", "sepuluh"),
        ("yAxis", "10"),
        ("width", "100"),
        ("height", "50"),
    ]);
    expect_error(
        v1_sign(&t, &f, pdf(), Some(PNG.to_vec())).await,
        400,
        2002,
        "xAxis",
    )
    .await;
    expect_error(
        v1_sign(&t, &ok, Some(b"hello, not a pdf".to_vec()), None).await,
        400,
        2041,
        "file",
    )
    .await;
    // English on request.
    let r = t
        .app
        .post("/api/sign/pdf")
        .header("authorization", &t.auth)
        .header("x-language", "en")
        .multipart(
            Form::new()
                .text("nik", NIK)
                .text("passphrase", "x")
                .text("tampilan", "invisible"),
        )
        .send()
        .await
        .unwrap();
    expect_error(r, 400, 2001, "is required").await;
    // Nothing was signed, nothing kept.
    t.app.state.usage.flush().await;
    let usage = t
        .app
        .store
        .app_usage(t.tenant.org.id, t.app.clock.now_ts())
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|u| u.signatures).sum::<u64>(), 0);
    t.app.stop().await;
}

async fn credentials_and_ip_allow_list(backend: Backend) {
    let t = setup(backend).await;
    let call = |auth: Option<String>| {
        let mut r = t
            .app
            .post("/api/v2/user/check/status")
            .json(&json!({"nik": NIK}));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let r = call(Some(t.auth.clone())).await.unwrap();
    assert_eq!(r.status(), 200);
    expect_error(call(None).await.unwrap(), 401, 401, "Unauthorized").await;
    expect_error(
        call(Some(basic(APP, "salah-sekali"))).await.unwrap(),
        401,
        401,
        "Unauthorized",
    )
    .await;
    expect_error(
        call(Some("Bearer paraf_pat_x".into())).await.unwrap(),
        401,
        401,
        "Unauthorized",
    )
    .await;
    // An application allowed only from another network.
    app_credential(&t.app, t.tenant.org.id, "jauh", &["10.1.0.0/16"]).await;
    expect_error(
        call(Some(basic("jauh", PASSWORD))).await.unwrap(),
        401,
        401,
        "Unauthorized",
    )
    .await;
    // Disabled.
    let creds = t
        .app
        .store
        .list_app_credentials(t.tenant.org.id)
        .await
        .unwrap();
    let mine = creds.iter().find(|c| c.username == APP).unwrap();
    t.app
        .store
        .set_app_credential_enabled(t.tenant.org.id, mine.id, false)
        .await
        .unwrap();
    expect_error(
        call(Some(t.auth.clone())).await.unwrap(),
        401,
        401,
        "Unauthorized",
    )
    .await;
    t.app.stop().await;
}

/// The organisation chooses the level of its BSrE signatures: B-LTA by default (a document
/// timestamp over the DSS), B-LT (DSS, no document timestamp) or B-T (neither).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisation_chooses_the_signature_level() {
    let t = setup(Backend::Sqlite).await;
    assert_eq!(
        t.tenant.org.signing,
        paraf_domain::SigningProfile::default()
    );
    let core = &t.app.state.core;
    for (level, dss, doc_ts) in [
        (paraf_domain::SignatureLevel::BT, false, false),
        (paraf_domain::SignatureLevel::BLT, true, false),
        (paraf_domain::SignatureLevel::BLTA, true, true),
    ] {
        let profile = paraf_domain::SigningProfile {
            level,
            ..t.tenant.org.signing
        };
        let o = paraf_core::directory::change_signing_profile(
            &t.app.store,
            t.app.clock.now_ts(),
            t.tenant.org.id,
            profile,
            &paraf_core::Actor::cli(),
        )
        .await
        .unwrap();
        assert_eq!(o.signing.level, level);
        let r = sign_invisible(&t, PASS).await;
        assert_eq!(r.status(), 200);
        let pdf = r.bytes().await.unwrap().to_vec();
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.contains("/DSS"), dss, "{level:?}");
        assert_eq!(text.contains("/DocTimeStamp"), doc_ts, "{level:?}");
        let report = core.verify_pdf(pdf, None).await.unwrap().report;
        let s = &report.signatures[0];
        assert_eq!(s.level.as_deref(), Some(level.as_str()), "{s:?}");
        assert_eq!(
            s.indication,
            paraf_core::engine::verify::Indication::TotalPassed
        );
    }
    t.app.stop().await;
}

/// `RSA 2048`, `secp384r1 384`…: the key of a certificate, as `openssl x509 -text` reads it.
fn key_of(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "cert.pem", pem.as_bytes());
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    let t = text(&out);
    let bits = t
        .split("Public-Key: (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or("?")
        .to_string();
    match t.split("ASN1 OID: ").nth(1) {
        Some(curve) => format!("{} {bits}", curve.lines().next().unwrap_or("?").trim()),
        None if t.contains("rsaEncryption") => format!("RSA {bits}"),
        None => format!("? {bits}"),
    }
}

/// Identities and seals get their organisation's key type — RSA-2048 by default, what BSrE
/// issues — or their own, whatever the CA's key (P-256 here); each key type signs files our
/// validator and pyHanko accept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_follow_the_organisation_or_their_own_choice() {
    let t = setup(Backend::Sqlite).await;
    let org = t.tenant.org.id;
    let core = &t.app.state.core;
    let ca = core.pki.current().unwrap();
    assert_eq!(
        key_of(&paraf_pki::x509::cert_to_pem(ca.root_cert()).unwrap()),
        "prime256v1 256"
    );
    assert_eq!(key_of(t.budi.cert_pem.as_deref().unwrap()), "RSA 2048");
    assert_eq!(t.budi.key_type, None);
    let actor = paraf_core::Actor::cli();
    let seal = t
        .app
        .state
        .identities()
        .create_seal(org, "segel-1", "Kominfo", "ops@kominfo.example", &actor)
        .await
        .unwrap();
    assert_eq!(key_of(&seal.cert_pem), "RSA 2048");

    // The organisation moves to P-384: new keys follow; an identity's own choice wins.
    paraf_core::directory::change_signing_profile(
        &t.app.store,
        t.app.clock.now_ts(),
        org,
        paraf_domain::SigningProfile {
            key_type: paraf_domain::KeyAlgorithm::P384,
            ..t.tenant.org.signing
        },
        &actor,
    )
    .await
    .unwrap();
    let state = &t.app.state;
    let actor = &actor;
    let create = |nik: &'static str,
                  email: &'static str,
                  own: Option<paraf_domain::KeyAlgorithm>| async move {
        state
            .identities()
            .with_key_type(own)
            .create_active(
                org,
                "Siti Rahayu",
                Some(email),
                Some(nik),
                PASS,
                false,
                actor,
            )
            .await
            .unwrap()
    };
    let siti = create("3171012345678902", "siti@kominfo.example", None).await;
    assert_eq!(key_of(siti.cert_pem.as_deref().unwrap()), "secp384r1 384");
    let andi = create(
        "3171012345678903",
        "andi@kominfo.example",
        Some(paraf_domain::KeyAlgorithm::Rsa3072),
    )
    .await;
    assert_eq!(key_of(andi.cert_pem.as_deref().unwrap()), "RSA 3072");
    let stored = t.app.store.identity(org, andi.id).await.unwrap();
    assert_eq!(stored.key_type, Some(paraf_domain::KeyAlgorithm::Rsa3072));
    let seal = t
        .app
        .state
        .identities()
        .with_key_type(Some(paraf_domain::KeyAlgorithm::P256))
        .create_seal(org, "segel-2", "Kominfo", "ops@kominfo.example", actor)
        .await
        .unwrap();
    assert_eq!(key_of(&seal.cert_pem), "prime256v1 256");

    // Each signs (B-LTA, the organisation's level): valid for us and for pyHanko.
    let mut files = Vec::new();
    for (name, nik) in [
        ("p384", "3171012345678902"),
        ("rsa3072", "3171012345678903"),
    ] {
        let r = v1_sign(
            &t,
            &[
                ("nik", nik),
                ("passphrase", PASS),
                ("tampilan", "invisible"),
            ],
            Some(simple_pdf()),
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{name}");
        let pdf = r.bytes().await.unwrap().to_vec();
        let report = core.verify_pdf(pdf.clone(), None).await.unwrap().report;
        assert_eq!(
            report.indication,
            paraf_core::engine::verify::Indication::TotalPassed,
            "{name}: {report:?}"
        );
        files.push((name, pdf));
    }
    validate_all(&t.app, &files).await;
    t.app.stop().await;
}

async fn sign_invisible(t: &Bsre, pass: &str) -> reqwest::Response {
    v1_sign(
        t,
        &[
            ("nik", NIK),
            ("passphrase", pass),
            ("tampilan", "invisible"),
        ],
        Some(simple_pdf()),
        None,
    )
    .await
}

async fn wrong_passphrases_lock_then_the_lock_ends(backend: Backend) {
    let t = setup_with(backend, |c| c.bsre_lock_after = 3).await;
    let sign = |pass: &'static str| sign_invisible(&t, pass);
    expect_error(sign("salah-1").await, 400, 2031, "sisa percobaan: 2").await;
    expect_error(sign("salah-2").await, 400, 2031, "sisa percobaan: 1").await;
    expect_error(sign("salah-3").await, 400, 2022, "suspend").await;
    // Locked: even the right passphrase is refused, and the status says SUSPEND.
    expect_error(sign(PASS).await, 400, 2022, "suspend").await;
    // The reply quotes the configured count, not the default.
    expect_error(sign(PASS).await, 400, 2022, "salah 3 kali").await;
    let (s, v) = v2(&t, "/api/v2/user/check/status", json!({"nik": NIK})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("SUSPEND")), "{v}");
    t.app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(sign(PASS).await.status(), 200);
    let (_, v) = v2(&t, "/api/v2/user/check/status", json!({"nik": NIK})).await;
    assert_eq!(v["status"], "ISSUE");
    t.app.stop().await;
}

/// Why the CA revoked the certificate with `serial`, if it did (a hold is a suspension).
async fn revocation_of(app: &TestApp, serial: &str) -> Option<paraf_pki::RevocationReason> {
    let (pki, serial) = (app.state.pki.clone(), serial.to_string());
    tokio::task::spawn_blocking(move || {
        pki.current()
            .unwrap()
            .find(&serial)
            .unwrap()
            .unwrap()
            .revoked
            .clone()
            .map(|r| r.reason)
    })
    .await
    .unwrap()
}

/// Budi's status as `POST /api/v2/user/check/status` reports it.
async fn budi_status(t: &Bsre) -> Value {
    v2(
        t,
        "/api/v2/user/check/status",
        json!({"email": "budi@kominfo.example"}),
    )
    .await
    .1["status"]
        .clone()
}

async fn suspended_revoked_and_expired_identities_cannot_sign(backend: Backend) {
    let t = setup(backend).await;
    let org = t.tenant.org.id;
    let serial = t.budi.cert_serial.clone().unwrap();
    let svc = || t.app.state.identities();
    svc()
        .suspend(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    assert_eq!(budi_status(&t).await, "SUSPEND");
    // Published: the certificate is on hold in the CRL and OCSP.
    assert_eq!(
        revocation_of(&t.app, &serial).await,
        Some(paraf_pki::RevocationReason::CertificateHold)
    );
    expect_error(sign_invisible(&t, PASS).await, 400, 2025, "suspend").await;
    svc()
        .reinstate(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    assert_eq!(revocation_of(&t.app, &serial).await, None);
    assert_eq!(sign_invisible(&t, PASS).await.status(), 200);
    // Suspended, then revoked: the hold becomes final.
    svc()
        .suspend(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    svc()
        .revoke(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    assert_eq!(
        revocation_of(&t.app, &serial).await,
        Some(paraf_pki::RevocationReason::Unspecified)
    );
    assert!(svc()
        .reinstate(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .is_err());
    assert_eq!(budi_status(&t).await, "REVOKE");
    t.app.stop().await;
    // Expiry and a plain revocation, on a fresh identity.
    let t = setup(backend).await;
    let org = t.tenant.org.id;
    let svc = || t.app.state.identities();
    // A year and a day later the certificate has expired.
    t.app.clock.advance(chrono::Duration::days(366));
    assert_eq!(budi_status(&t).await, "EXPIRED");
    expect_error(sign_invisible(&t, PASS).await, 400, 2023, "kedaluwarsa").await;
    t.app.clock.advance(chrono::Duration::days(-366));
    svc()
        .revoke(org, t.budi.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    assert_eq!(budi_status(&t).await, "REVOKE");
    expect_error(sign_invisible(&t, PASS).await, 400, 2024, "dicabut").await;
    // The revocation is public: the CA's OCSP says so (the engine asks the CA too).
    let serial = t.budi.cert_serial.clone().unwrap();
    assert!(revocation_of(&t.app, &serial).await.is_some());
    t.app.stop().await;
}

// ---------------------------------------------------------------- v2

fn one_page() -> String {
    b64(&simple_pdf())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_bulk_signing_with_every_property_validates() {
    let t = setup(Backend::Sqlite).await;
    // One property for all files.
    let (s, v) = v2(
        &t,
        "/api/v2/sign/pdf",
        json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "INVISIBLE", "reason": "Setuju", "location": "Bandung"}],
               "file": [one_page(), one_page(), one_page()]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["time"].is_u64(), "{v}");
    let files: Vec<Vec<u8>> = v["file"].as_array().unwrap().iter().map(unb64).collect();
    assert_eq!(files.len(), 3);
    // One property per file, by e-mail, mixed looks, a password-protected PDF.
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain.pdf", &simple_pdf());
    let locked = dir.path().join("locked.pdf");
    run_ok(
        std::process::Command::new("qpdf")
            .args(["--encrypt", "kunci", "pemilik", "256", "--"])
            .arg(&plain)
            .arg(&locked),
    );
    let locked = std::fs::read(&locked).unwrap();
    let props = json!([
        {"tampilan": "VISIBLE", "imageBase64": b64(PNG), "page": 1, "originX": 10, "originY": 10, "width": 200, "height": 100, "location": "Jakarta", "reason": "Tanda tangan elektronik"},
        {"tampilan": "INVISIBLE", "location": null, "reason": "Tanda tangan elektronik"},
        {"tampilan": "VISIBLE", "tag_koordinat": "$", "imageBase64": b64(PNG), "width": 120, "height": 40, "location": "Jakarta", "reason": null},
        {"tampilan": "INVISIBLE", "pdfPassword": "kunci"}
    ]);
    let (s, v) = v2(
        &t,
        "/api/v2/sign/pdf",
        json!({"email": "budi@kominfo.example", "passphrase": PASS, "signatureProperties": props,
               "file": [one_page(), one_page(), b64(&tag_pdf()), b64(&locked)]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mixed: Vec<Vec<u8>> = v["file"].as_array().unwrap().iter().map(unb64).collect();
    assert_eq!(mixed.len(), 4);
    // The encrypted one stays encrypted and its signature is valid (checked with the password).
    let enc = write(dir.path(), "enc-signed.pdf", &mixed[3]);
    let f = ca_files(&t.app).await;
    let out = std::process::Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--password",
            "kunci",
            "--trust-replace",
            "--trust",
        ])
        .arg(&f.root)
        .arg(&enc)
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).contains("INTACT:TRUSTED"),
        "{}",
        text(&out)
    );
    // VISIBLE without `imageBase64`: a text stamp (name and date).
    let (s, v) = v2(
        &t,
        "/api/v2/sign/pdf",
        json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "VISIBLE", "page": 1, "originX": 300, "originY": 600, "width": 200, "height": 60}],
               "file": [one_page()]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let stamp = unb64(&v["file"][0]);
    let mut all = vec![("bulk-0", files[0].clone()), ("text-stamp", stamp)];
    for (i, m) in mixed.into_iter().take(3).enumerate() {
        all.push((["mixed-visible", "mixed-invisible", "mixed-tag"][i], m));
    }
    validate_all(&t.app, &all).await;
    t.app.stop().await;
}

async fn v2_refuses_bad_input_and_signs_nothing(backend: Backend) {
    let t = setup(backend).await;
    let inv = json!([{"tampilan": "INVISIBLE"}]);
    let call = |body: Value| v2(&t, "/api/v2/sign/pdf", body);
    expect_v2_error(
        call(json!({"passphrase": PASS, "signatureProperties": inv, "file": [one_page()]})).await,
        400,
        2001,
        "nik",
    );
    expect_v2_error(call(json!({"nik": "9999999999999999", "passphrase": PASS, "signatureProperties": inv, "file": [one_page()]})).await, 400, 2011, "User tidak terdaftar");
    expect_v2_error(
        call(json!({"nik": NIK, "signatureProperties": inv, "file": [one_page()]})).await,
        400,
        2034,
        "totp",
    );
    expect_v2_error(call(json!({"nik": NIK, "passphrase": "salah", "signatureProperties": inv, "file": [one_page()]})).await, 400, 2031, "Passphrase anda salah");
    expect_v2_error(
        call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": inv})).await,
        400,
        2001,
        "file",
    );
    expect_v2_error(
        call(json!({"nik": NIK, "passphrase": PASS, "file": [one_page()]})).await,
        400,
        2001,
        "signatureProperties",
    );
    // One bad file among good ones: base64 garbage → nothing signed.
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": inv, "file": [one_page(), "!!bukan base64!!", one_page()]})).await, 400, 2042, "file[1]");
    // A good base64 that is not a PDF, among good ones → nothing signed.
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": inv, "file": [one_page(), b64(b"just text")]})).await, 400, 2041, "file[1]");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "INVISIBLE"}, {"tampilan": "INVISIBLE"}], "file": [one_page(), one_page(), one_page()]})).await, 400, 2048, "3");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "VISIBLE", "imageBase64": b64(PNG), "page": 9, "originX": 1, "originY": 1, "width": 50, "height": 20}], "file": [one_page()]})).await, 400, 2044, "9");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "VISIBLE", "imageBase64": b64(PNG), "tag_koordinat": "#", "width": 50, "height": 20}], "file": [one_page()]})).await, 400, 2045, "#");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "VISIBLE", "imageBase64": "@@@", "page": 1, "originX": 1, "originY": 1, "width": 50, "height": 20}], "file": [one_page()]})).await, 400, 2042, "signatureProperties[0].imageBase64");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "VISIBLE", "page": 1, "originX": 1, "width": 50, "height": 20}], "file": [one_page()]})).await, 400, 2001, "signatureProperties[0].originY");
    // A password-protected PDF with the wrong password.
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain.pdf", &simple_pdf());
    let locked = dir.path().join("locked.pdf");
    run_ok(
        std::process::Command::new("qpdf")
            .args(["--encrypt", "kunci", "pemilik", "256", "--"])
            .arg(&plain)
            .arg(&locked),
    );
    let locked = b64(&std::fs::read(&locked).unwrap());
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "INVISIBLE", "pdfPassword": "keliru"}], "file": [locked.clone()]})).await, 400, 2043, "file[0]");
    expect_v2_error(call(json!({"nik": NIK, "passphrase": PASS, "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [one_page(), locked]})).await, 400, 2043, "file[1]");
    // Not JSON at all.
    let r = t
        .app
        .post("/api/v2/sign/pdf")
        .header("authorization", &t.auth)
        .header("content-type", "application/json")
        .body("{nik: ")
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!((s, v["status_code"].as_i64()), (400, Some(2002)), "{v}");
    t.app.state.usage.flush().await;
    let usage = t
        .app
        .store
        .app_usage(t.tenant.org.id, t.app.clock.now_ts())
        .await
        .unwrap();
    assert_eq!(
        usage.iter().map(|u| u.signatures).sum::<u64>(),
        0,
        "nothing signed"
    );
    t.app.stop().await;
}

/// The last mail to `to` and the first run of `digits` digits after `after` in it.
async fn code_in_mail(app: &TestApp, to: &str, after: &str) -> String {
    let mails = app.store.list_mail(None, 100).await.unwrap();
    let m = mails
        .iter()
        .filter(|m| m.to == to)
        .max_by_key(|m| m.id)
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let at = m
        .text
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not in {}", m.text))
        + after.len();
    m.text[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect()
}

async fn v2_totp_is_single_use_and_expires(backend: Backend) {
    let t = setup(backend).await;
    let inv = json!([{"tampilan": "INVISIBLE"}]);
    let (s, v) = v2(&t, "/api/v2/sign/get/totp", json!({"nik": NIK, "data": 2})).await;
    assert_eq!((s, &v["success"]), (200, &json!(true)), "{v}");
    let code = code_in_mail(&t.app, "budi@kominfo.example", "Kode TOTP Anda:").await;
    assert_eq!(code.len(), 6);
    // A code for 2 files does not sign 3.
    let sign = |code: &str, n: usize| {
        v2(
            &t,
            "/api/v2/sign/pdf",
            json!({"nik": NIK, "totp": code, "signatureProperties": inv, "file": vec![one_page(); n]}),
        )
    };
    expect_v2_error(sign(&code, 3).await, 400, 2032, "TOTP");
    // A request refused for its document does not burn the code.
    let (st, v) = v2(
        &t,
        "/api/v2/sign/pdf",
        json!({"nik": NIK, "totp": code, "signatureProperties": inv, "file": [one_page(), b64(b"bukan pdf")]}),
    )
    .await;
    expect_v2_error((st, v), 400, 2041, "file[1]");
    let (s, v) = sign(&code, 2).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["file"].as_array().unwrap().len(), 2);
    // Signed with the copy of the key kept for one-time codes: the same identity, valid.
    validate_all(&t.app, &[("totp", unb64(&v["file"][1]))]).await;
    // Spent codes are pruned by housekeeping once old enough.
    let later = t.app.clock.now_ts() + chrono::Duration::days(2);
    assert!(t.app.store.prune_otp_codes(later).await.unwrap() >= 1);
    // Single use.
    expect_v2_error(sign(&code, 1).await, 400, 2032, "TOTP");
    // Expiry (5 minutes), with the seed's `otp` spelling.
    v2(
        &t,
        "/api/v2/sign/get/totp",
        json!({"email": "budi@kominfo.example", "data": 1}),
    )
    .await;
    let code = code_in_mail(&t.app, "budi@kominfo.example", "Kode TOTP Anda:").await;
    t.app.clock.advance(chrono::Duration::minutes(6));
    let (s, v) = v2(&t, "/api/v2/sign/pdf", json!({"email": "budi@kominfo.example", "otp": code, "signatureProperties": inv, "file": [one_page()]})).await;
    expect_v2_error((s, v), 400, 2032, "TOTP");
    expect_v2_error(
        v2(&t, "/api/v2/sign/get/totp", json!({"nik": NIK})).await,
        400,
        2001,
        "data",
    );
    // An identity that did not opt in to e-mailed codes.
    t.app
        .state
        .identities()
        .create_active(
            t.tenant.org.id,
            "Sari",
            Some("sari@kominfo.example"),
            None,
            "passphrase-sari",
            false,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    expect_v2_error(
        v2(
            &t,
            "/api/v2/sign/get/totp",
            json!({"email": "sari@kominfo.example", "data": 1}),
        )
        .await,
        400,
        2033,
        "TOTP",
    );
    t.app.stop().await;
}

async fn seal_activation_totp_and_sealing(backend: Backend) {
    let t = setup(backend).await;
    let org = t.tenant.org.id;
    t.app
        .state
        .identities()
        .create_seal(
            org,
            "SEGEL-01",
            "Dinas Kominfo",
            "segel@kominfo.example",
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    let id = json!("SEGEL-01");
    let inv = json!([{"tampilan": "INVISIBLE", "location": null, "reason": null}]);
    expect_v2_error(v2(&t, "/api/v2/seal/pdf", json!({"idSubscriber": id, "totp": "123456", "signatureProperties": inv, "file": [one_page()]})).await, 400, 2062, "aktivasi");
    expect_v2_error(
        v2(
            &t,
            "/api/v2/seal/get/activation",
            json!({"idSubscriber": "TIDAK-ADA"}),
        )
        .await,
        400,
        2061,
        "idSubscriber",
    );
    let (s, v) = v2(
        &t,
        "/api/v2/seal/get/activation",
        json!({"idSubscriber": id}),
    )
    .await;
    assert_eq!(
        (s, &v["success"], &v["message"]),
        (200, &json!(true), &json!("TOTP Aktivasi berhasil dikirim")),
        "{v}"
    );
    let activation = code_in_mail(&t.app, "segel@kominfo.example", "(SEGEL-01):").await;
    assert_eq!(activation.len(), 6);
    // Refresh.
    let (s, v) = v2(
        &t,
        "/api/v2/seal/get/activation",
        json!({"idSubscriber": id, "totp": activation}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["message"], "TOTP Aktivasi masih berlaku");
    assert_eq!(v["data"]["totp"], json!(activation));
    assert_eq!(v["data"]["result"], json!(true));
    assert!(
        v["data"]["expires"].as_str().unwrap().ends_with("+0000"),
        "{v}"
    );
    // A sealing OTP.
    expect_v2_error(
        v2(
            &t,
            "/api/v2/seal/get/totp",
            json!({"idSubscriber": id, "data": "2", "totp": "000000"}),
        )
        .await,
        400,
        2032,
        "TOTP",
    );
    let (s, v) = v2(
        &t,
        "/api/v2/seal/get/totp",
        json!({"idSubscriber": id, "data": "2", "totp": activation}),
    )
    .await;
    assert_eq!(
        (s, &v["message"], &v["result"]),
        (200, &json!("TOTP berhasil dibuat"), &json!(true)),
        "{v}"
    );
    let otp = v["totp"].as_str().unwrap().to_string();
    // A refused document does not burn the sealing code.
    expect_v2_error(v2(&t, "/api/v2/seal/pdf", json!({"idSubscriber": id, "totp": otp, "signatureProperties": [{"tampilan": "VISIBLE", "tag_koordinat": "#", "width": 50, "height": 20}], "file": [one_page()]})).await, 400, 2045, "#");
    let (s, v) = v2(&t, "/api/v2/seal/pdf", json!({"idSubscriber": id, "totp": otp, "signatureProperties": inv, "file": [one_page(), one_page()]})).await;
    assert_eq!(s, 200, "{v}");
    let sealed: Vec<Vec<u8>> = v["file"].as_array().unwrap().iter().map(unb64).collect();
    expect_v2_error(v2(&t, "/api/v2/seal/pdf", json!({"idSubscriber": id, "totp": otp, "signatureProperties": inv, "file": [one_page()]})).await, 400, 2032, "TOTP");
    // Revoking the activation stops everything.
    let (s, _) = v2(
        &t,
        "/api/v2/seal/revoke/activation",
        json!({"idSubscriber": id, "totp": activation}),
    )
    .await;
    assert_eq!(s, 200);
    expect_v2_error(
        v2(
            &t,
            "/api/v2/seal/get/totp",
            json!({"idSubscriber": id, "data": 1, "totp": activation}),
        )
        .await,
        400,
        2062,
        "aktivasi",
    );
    // Guessing: ten wrong activation codes revoke the activation.
    v2(
        &t,
        "/api/v2/seal/get/activation",
        json!({"idSubscriber": id}),
    )
    .await;
    let activation = code_in_mail(&t.app, "segel@kominfo.example", "(SEGEL-01):").await;
    for n in 0..10 {
        let wrong = format!(
            "{:06}",
            (activation.parse::<u32>().unwrap() + 1 + n) % 1_000_000
        );
        expect_v2_error(
            v2(
                &t,
                "/api/v2/seal/get/totp",
                json!({"idSubscriber": id, "data": 1, "totp": wrong}),
            )
            .await,
            400,
            2032,
            "TOTP",
        );
    }
    expect_v2_error(
        v2(
            &t,
            "/api/v2/seal/get/totp",
            json!({"idSubscriber": id, "data": 1, "totp": activation}),
        )
        .await,
        400,
        2062,
        "aktivasi",
    );
    validate_all(&t.app, &[("sealed", sealed[0].clone())]).await;
    t.app.stop().await;
}

async fn registration_verification_and_activation(backend: Backend) {
    let t = setup(backend).await;
    let org = t.tenant.org.id;
    let (s, v) = v2(
        &t,
        "/api/v2/user/check/status",
        json!({"email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (200, Some("NOT_REGISTERED")),
        "{v}"
    );
    let (s, v) = v2(
        &t,
        "/api/v2/user/registration",
        json!({"nama": "Ani Lestari", "email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("WAITING_FOR_VERIFICATION")),
        "{v}"
    );
    expect_v2_error(
        v2(
            &t,
            "/api/v2/user/registration",
            json!({"nama": "Ani", "email": "ani@kominfo.example"}),
        )
        .await,
        400,
        2071,
        "email",
    );
    expect_v2_error(
        v2(&t, "/api/v2/user/registration", json!({"nama": "Ani"})).await,
        400,
        2001,
        "email",
    );
    expect_v2_error(
        v2(
            &t,
            "/api/v2/user/registration",
            json!({"nama": "Ani", "email": "bukan-email"}),
        )
        .await,
        400,
        2002,
        "email",
    );
    let (_, v) = v2(
        &t,
        "/api/v2/user/check/status",
        json!({"email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(v["status"], "WAITING_FOR_VERIFICATION");
    let ani = t
        .app
        .store
        .identity_by_email(
            org,
            &paraf_domain::Email::parse("ani@kominfo.example").unwrap(),
        )
        .await
        .unwrap();
    let (_, link) = t
        .app
        .state
        .identities()
        .verify(org, ani.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    let (_, v) = v2(
        &t,
        "/api/v2/user/check/status",
        json!({"email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(v["status"], "NEW");
    // The mail carries the link; the page shows a form.
    let mails = t.app.store.list_mail(Some(org), 10).await.unwrap();
    assert!(mails
        .iter()
        .any(|m| m.to == "ani@kominfo.example" && m.text.contains(&link.url)));
    let path = link.url.strip_prefix(&t.app.url).unwrap().to_string();
    let page = t.app.get(&path).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"passphrase\""));
    let r = t
        .app
        .post(&path)
        .form(&[("passphrase", "rahasia-ani-1"), ("confirm", "lain-lagi-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = t
        .app
        .post(&path)
        .form(&[
            ("passphrase", "rahasia-ani-1"),
            ("confirm", "rahasia-ani-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ISSUE"));
    // Single use.
    assert_eq!(t.app.get(&path).send().await.unwrap().status(), 404);
    let (_, v) = v2(
        &t,
        "/api/v2/user/check/status",
        json!({"email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(v["status"], "ISSUE");
    let (s, v) = v2(&t, "/api/v2/sign/pdf", json!({"email": "ani@kominfo.example", "passphrase": "rahasia-ani-1", "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [one_page()]})).await;
    assert_eq!(s, 200, "{v}");
    // The key is sealed under the passphrase: the stored bytes do not contain the PKCS#8 key.
    let ani = t.app.store.identity(org, ani.id).await.unwrap();
    assert!(ani
        .sealed_key
        .as_ref()
        .unwrap()
        .starts_with(b"PARAF SEALED\n"));
    assert!(ani.otp_key.is_none());
    // Renewal: RENEW (no signing) until the owner chooses a passphrase again; then a new key
    // and certificate, and the old certificate is revoked as superseded.
    let (_, link) = t
        .app
        .state
        .identities()
        .renew(org, ani.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    let (_, v) = v2(
        &t,
        "/api/v2/user/check/status",
        json!({"email": "ani@kominfo.example"}),
    )
    .await;
    assert_eq!(v["status"], "RENEW");
    let (s, v) = v2(&t, "/api/v2/sign/pdf", json!({"email": "ani@kominfo.example", "passphrase": "rahasia-ani-1", "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [one_page()]})).await;
    expect_v2_error((s, v), 400, 2021, "RENEW");
    let path = link.url.strip_prefix(&t.app.url).unwrap().to_string();
    let r = t
        .app
        .post(&path)
        .form(&[
            ("passphrase", "rahasia-ani-2"),
            ("confirm", "rahasia-ani-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let renewed = t.app.store.identity(org, ani.id).await.unwrap();
    assert_ne!(renewed.cert_serial, ani.cert_serial);
    let reason = revocation_of(&t.app, ani.cert_serial.as_deref().unwrap()).await;
    assert_eq!(reason, Some(paraf_pki::RevocationReason::Superseded));
    let (s, v) = v2(&t, "/api/v2/sign/pdf", json!({"email": "ani@kominfo.example", "passphrase": "rahasia-ani-2", "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [one_page()]})).await;
    assert_eq!(s, 200, "{v}");
    validate_all(&t.app, &[("renewed", unb64(&v["file"][0]))]).await;
    t.app.stop().await;
}

/// The body limit's 413, unknown paths and wrong methods answer in the BSrE shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limit_and_framework_refusals_take_the_bsre_shape() {
    let t = setup_with(Backend::Sqlite, |c| c.body_limit = 64 * 1024).await;
    // A declared length over the limit is refused before the body is read. (Raw requests: a
    // client still writing the body could meet the closed socket.)
    let raw = |head: String| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", t.app.port))
            .await
            .unwrap();
        sock.write_all(head.as_bytes()).await.unwrap();
        let mut resp = Vec::new();
        let _ = sock.read_to_end(&mut resp).await;
        String::from_utf8_lossy(&resp).to_string()
    };
    for (path, ctype) in [
        ("/api/sign/pdf", "multipart/form-data; boundary=x"),
        ("/api/v2/sign/pdf", "application/json"),
    ] {
        let resp = raw(format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: {ctype}\r\n\
             Content-Length: 200000\r\nConnection: close\r\n\r\n",
            t.auth
        ))
        .await;
        assert!(resp.starts_with("HTTP/1.1 413"), "{path}: {resp}");
        assert!(resp.contains("\"status_code\":413"), "{path}: {resp}");
        assert!(resp.contains("65536"), "{path}: {resp}");
    }
    // A chunked body (no Content-Length) is cut while reading, with the same answer.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", t.app.port))
            .await
            .unwrap();
        let mut req = format!(
            "POST /api/v2/verify/pdf HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
             Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\
             Connection: close\r\n\r\n",
            t.auth
        );
        for _ in 0..9 {
            req.push_str(&format!("{:x}\r\n{}\r\n", 8192, "y".repeat(8192)));
        }
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut resp = Vec::new();
        let _ = sock.read_to_end(&mut resp).await;
        let resp = String::from_utf8_lossy(&resp);
        assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
        assert!(resp.contains("\"status_code\":413"), "{resp}");
    }
    let r = t
        .app
        .post("/api/v2/tidak-ada")
        .header("authorization", &t.auth)
        .send()
        .await
        .unwrap();
    expect_error(r, 404, 404, "tidak ditemukan").await;
    let r = t
        .app
        .get("/api/v2/sign/pdf")
        .header("authorization", &t.auth)
        .send()
        .await
        .unwrap();
    expect_error(r, 405, 405, "tidak diizinkan").await;
    let r = t
        .app
        .post("/api/v2/sign/pdf")
        .header("authorization", &t.auth)
        .header("x-language", "en")
        .body("nik=1")
        .send()
        .await
        .unwrap();
    expect_error(r, 415, 415, "application/json").await;
    t.app.stop().await;
}

crate::both_backends!(
    seal_activation_totp_and_sealing,
    v1_refuses_bad_input,
    credentials_and_ip_allow_list,
    wrong_passphrases_lock_then_the_lock_ends,
    suspended_revoked_and_expired_identities_cannot_sign,
    v2_refuses_bad_input_and_signs_nothing,
    v2_totp_is_single_use_and_expires,
    registration_verification_and_activation,
);

/// A seal whose key was generated on a PKCS#11 token (SoftHSM2) and never leaves it. This is
/// the only test of this binary that loads a PKCS#11 module, so setting `SOFTHSM2_CONF` for
/// the process here is safe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_with_its_key_on_a_pkcs11_token() {
    let dir = tempfile::tempdir().unwrap();
    let module = paraf_testkit::tools::softhsm_token(dir.path(), "segel-hsm", "1234");
    let module_path = module.clone();
    let t = setup_with(Backend::Sqlite, move |c| {
        c.pkcs11 = Some((module_path, "1234".into()))
    })
    .await;
    let seal = t
        .app
        .state
        .identities()
        .create_seal_on_token(
            t.tenant.org.id,
            "SEGEL-HSM",
            "Dinas Kominfo (HSM)",
            "segel@kominfo.example",
            &paraf_core::Actor::system(),
            &module,
            "segel-hsm",
            "1234",
            "kunci-segel",
        )
        .await
        .unwrap();
    assert!(
        seal.wrapped_key.is_empty(),
        "no key bytes outside the token"
    );
    assert_eq!(
        seal.key_ref.as_deref(),
        Some("pkcs11:token=segel-hsm;object=kunci-segel")
    );
    let id = json!("SEGEL-HSM");
    let (s, _) = v2(
        &t,
        "/api/v2/seal/get/activation",
        json!({"idSubscriber": id}),
    )
    .await;
    assert_eq!(s, 200);
    let activation = code_in_mail(&t.app, "segel@kominfo.example", "(SEGEL-HSM):").await;
    let (_, v) = v2(
        &t,
        "/api/v2/seal/get/totp",
        json!({"idSubscriber": id, "data": 1, "totp": activation}),
    )
    .await;
    let otp = v["totp"].as_str().unwrap().to_string();
    let (s, v) = v2(
        &t,
        "/api/v2/seal/pdf",
        json!({"idSubscriber": id, "totp": otp, "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [one_page()]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    validate_all(&t.app, &[("hsm-sealed", unb64(&v["file"][0]))]).await;
    t.app.stop().await;
}
