//! Two `paraf serve` processes with different, empty data directories on one PostgreSQL
//! database and one S3 bucket (moto_server), the CA in the database (issue 16), started at the
//! same moment: one first organisation and one CA; a BSrE document signed on one is
//! downloaded once on the other (the second download refused on both); an identity revoked
//! through `paraf admin` is revoked in the OCSP answers and the CRLs — the same bytes — of
//! both; an envelope sent on one and signed on the other has each webhook event delivered
//! once; nothing was written to either data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use paraf_pki::ca::crl_summary;
use paraf_pki::ocsp::{build_request, parse_response, OcspCertStatus};
use paraf_pki::x509::{cert_from_pem, serial_hex};
use paraf_testkit::db::{Backend, TestDb};
use serving::{free_port, multipart, start_with, value, wait_for, Server};

const NIK: &str = "3171012345678901";
const PASS: &str = "rahasia-budi-2026";

struct Instance {
    port: u16,
    lines: Vec<String>,
    _server: Server,
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn get(&self, path: &str, auth: Option<&str>) -> (u16, Vec<u8>) {
        let mut r = ureq::get(&self.url(path))
            .config()
            .http_status_as_error(false)
            .build();
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        let resp = r.call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().read_to_vec().unwrap())
    }

    fn ocsp(&self, cert: &paraf_pki::asn1::x509_cert::Certificate) -> OcspCertStatus {
        let (_, pem) = self.get("/pki/ca/issuing.pem", None);
        let issuer = cert_from_pem(&pem).unwrap();
        let req = build_request(cert, &issuer).unwrap();
        let der = ureq::post(&self.url("/pki/ocsp"))
            .header("Content-Type", "application/ocsp-request")
            .send(&req[..])
            .unwrap()
            .into_body()
            .read_to_vec()
            .unwrap();
        parse_response(&der, cert, &issuer, None).unwrap().status
    }

    /// The issuing CA's CRL and the serials it lists.
    fn crl(&self) -> (Vec<u8>, Vec<String>) {
        let (s, der) = self.get("/pki/crl/issuing.crl", None);
        assert_eq!(s, 200);
        let revoked = crl_summary(&der).unwrap().revoked;
        (der, revoked)
    }
}

fn admin(env: &[(&str, String)], scratch: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .arg("admin")
        .args(args)
        .arg("--data")
        .arg(scratch)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "paraf admin {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn two_instances_on_one_database_and_one_bucket_act_as_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = rt.block_on(TestDb::create(Backend::Postgres, tmp.path()));
    let moto = rt.block_on(paraf_testkit::s3::Moto::start());
    rt.block_on(moto.bucket("paraf-instances"));
    let rx = rt.block_on(paraf_testkit::webhook::Receiver::start(vec![200]));
    let mut env: Vec<(&str, String)> = vec![
        ("PARAF_DATABASE_URL", db.url.clone()),
        ("PARAF_CA_STORE", "database".into()),
        (
            "PARAF_CA_PASSPHRASE",
            "a long passphrase for the shared CA".into(),
        ),
        ("PARAF_BLOB_STORE", "s3://paraf-instances/prod".into()),
        ("PARAF_OUTBOUND_ALLOW_PRIVATE", "true".into()),
        ("PARAF_JOB_POLL_MS", "50".into()),
    ];
    env.extend(moto.env());

    // Both start at once on empty data directories.
    let (data_a, data_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let starts: Vec<_> = [data_a.clone(), data_b.clone()]
        .into_iter()
        .map(|data| {
            let env = env.clone();
            std::thread::spawn(move || {
                let port = free_port();
                let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (server, lines) = start_with(&data, port, &vars, Stdio::null());
                Instance {
                    port,
                    lines,
                    _server: server,
                }
            })
        })
        .collect();
    let mut started: Vec<Instance> = starts.into_iter().map(|h| h.join().unwrap()).collect();
    let b = started.pop().unwrap();
    let a = started.pop().unwrap();
    let printed: Vec<&Instance> = [&a, &b]
        .into_iter()
        .filter(|i| value(&i.lines, "admin password:").is_some())
        .collect();
    assert_eq!(printed.len(), 1, "exactly one first start");
    let token = value(&printed[0].lines, "API token:").unwrap();
    assert_eq!(
        a.get("/pki/ca/root.pem", None),
        b.get("/pki/ca/root.pem", None),
        "one CA"
    );

    // The operator's setup, through `paraf admin` on the same database.
    let scratch = tmp.path().join("admin");
    admin(
        &env,
        &scratch,
        &[
            "app-credential",
            "create",
            "--org",
            "default",
            "--username",
            "sistem-informasi",
            "--password",
            "rahasia-aplikasi-2026",
            "--allow-ip",
            "127.0.0.1/32",
        ],
    );
    admin(
        &env,
        &scratch,
        &[
            "identity",
            "create",
            "--org",
            "default",
            "--name",
            "Budi Santoso",
            "--nik",
            NIK,
            "--passphrase",
            PASS,
        ],
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sistem-informasi:rahasia-aplikasi-2026")
    );

    // Signed on A, downloaded once on B; the second download is refused on both.
    let pdf = paraf_testkit::pdf::pages(&["Surat Keputusan"]);
    let (ct, body) = multipart(&[
        ("nik", None, NIK.as_bytes()),
        ("passphrase", None, PASS.as_bytes()),
        ("tampilan", None, b"invisible"),
        ("file", Some("surat.pdf"), &pdf),
    ]);
    let resp = ureq::post(&a.url("/api/sign/pdf"))
        .header("Authorization", &basic)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let id = resp
        .headers()
        .get("id_dokumen")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let signed = resp.into_body().read_to_vec().unwrap();
    let path = format!("/api/sign/download/{id}");
    let (s, downloaded) = b.get(&path, Some(&basic));
    assert_eq!(s, 200);
    assert_eq!(downloaded, signed);
    assert_ne!(b.get(&path, Some(&basic)).0, 200, "second download on B");
    assert_ne!(a.get(&path, Some(&basic)).0, 200, "second download on A");
    let (_, root) = b.get("/pki/ca/root.pem", None);
    let root = paraf_testkit::tools::write(tmp.path(), "root.pem", &root);
    let signed_path = paraf_testkit::tools::write(tmp.path(), "signed.pdf", &signed);
    let v = paraf_testkit::tools::pyhanko_validate(&signed_path, &root, None);
    assert!(
        v.ok && v.lines.iter().all(|l| l.contains("INTACT:TRUSTED")),
        "{}",
        v.stdout
    );

    // Budi's certificate, revoked through `paraf admin`: both instances say so.
    let store = rt.block_on(paraf_store::Store::connect(&db.url)).unwrap();
    let org = rt.block_on(store.organisation_by_slug("default")).unwrap();
    let budi = rt
        .block_on(store.identity_by_nik(org.id, &paraf_domain::Nik::parse(NIK).unwrap()))
        .unwrap();
    let cert = cert_from_pem(budi.cert_pem.as_deref().unwrap().as_bytes()).unwrap();
    assert_eq!(a.ocsp(&cert), OcspCertStatus::Good);
    assert_eq!(b.ocsp(&cert), OcspCertStatus::Good);
    assert!(a.crl().1.is_empty());
    admin(
        &env,
        &scratch,
        &["identity", "revoke", "--org", "default", "--nik", NIK],
    );
    for i in [&a, &b] {
        assert!(
            matches!(i.ocsp(&cert), OcspCertStatus::Revoked { .. }),
            "port {}",
            i.port
        );
    }
    let (crl_a, listed) = a.crl();
    assert_eq!(
        listed,
        vec![serial_hex(&cert.tbs_certificate.serial_number)]
    );
    assert_eq!(b.crl().0, crl_a, "the same CRL on both");

    // An envelope sent on B (GesDocs) and signed on A: each event delivered once.
    let out = admin(
        &env,
        &scratch,
        &[
            "webhook", "create", "--org", "default", "--url", &rx.url, "--events", "*",
        ],
    );
    let secret = out.trim().split_once('\t').unwrap().1.to_string();
    let pdf = paraf_testkit::pdf::pages(&["Le client <@signature1@>"]);
    let (ct, body) = multipart(&[
        ("signers[0][email]", None, b"alice@email.com"),
        ("signers[0][first_name]", None, b"Alice"),
        ("signers[0][last_name]", None, b"Dupont"),
        ("expires_at", None, b"2099-12-31T23:59"),
        ("demandeur_email", None, b"admin@email.com"),
        ("pdf", Some("contrat.pdf"), &pdf),
    ]);
    let reply: serde_json::Value = serde_json::from_str(
        &ureq::post(&b.url("/api/signature-requests"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", &ct)
            .send(&body[..])
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let link = reply["data"]["signature_url"].as_str().unwrap();
    let on_a = a.url(&format!("/{}", link.splitn(4, '/').nth(3).unwrap()));
    let (ct, body) = multipart(&[("signature_typed", None, b"Alice Dupont")]);
    let r = ureq::post(&on_a)
        .header("Content-Type", &ct)
        .config()
        .http_status_as_error(false)
        .build()
        .send(&body[..])
        .unwrap();
    assert!(r.status().as_u16() < 400, "signing on A: {}", r.status());
    let events = || -> Vec<String> {
        rx.deliveries()
            .iter()
            .map(|d| d.json()["event"].as_str().unwrap_or("").to_string())
            .collect()
    };
    wait_for(60, "the completion webhook", || {
        events()
            .contains(&"document_completed".to_string())
            .then_some(())
    });
    // Both instances' workers poll every 50 ms: give a duplicate the time to show.
    std::thread::sleep(Duration::from_secs(2));
    let mut names = events();
    names.sort();
    assert_eq!(
        names,
        ["document_completed", "document_sent", "document_signed"],
        "{names:?}"
    );
    let all = rx.deliveries();
    let mut ids: Vec<String> = all.iter().map(|d| d.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    for d in &all {
        paraf_testkit::webhook::standard_webhooks_verify(&secret, d).unwrap();
    }

    // Nothing local: both data directories are still empty; the blobs are in the bucket.
    for data in [&data_a, &data_b] {
        assert_eq!(
            files_under(data),
            Vec::<String>::new(),
            "{}",
            data.display()
        );
    }
    assert!(!rt.block_on(moto.objects("paraf-instances")).is_empty());
    drop(a);
    drop(b);
}
