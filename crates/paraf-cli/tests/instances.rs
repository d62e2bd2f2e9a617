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
use serving::{free_port, gesdocs_request, multipart, start_with, value, wait_for, Server};

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

/// One PostgreSQL database, one moto bucket, one webhook receiver and the environment every
/// instance (and `paraf admin`) shares.
struct Cluster {
    rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
    db: TestDb,
    moto: paraf_testkit::s3::Moto,
    rx: paraf_testkit::webhook::Receiver,
    env: Vec<(&'static str, String)>,
}

impl Cluster {
    fn new(extra: &[(&'static str, &str)]) -> Cluster {
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
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        Cluster {
            rt,
            tmp,
            db,
            moto,
            rx,
            env,
        }
    }

    /// `paraf serve` on the data directory `name` (created empty if missing).
    fn start(&self, name: &str) -> Instance {
        let port = free_port();
        let vars: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (server, lines) = start_with(&self.tmp.path().join(name), port, &vars, Stdio::null());
        Instance {
            port,
            lines,
            _server: server,
        }
    }

    /// Two instances started at the same moment.
    fn start_two(&self, a: &str, b: &str) -> (Instance, Instance) {
        std::thread::scope(|s| {
            let ta = s.spawn(|| self.start(a));
            let tb = s.spawn(|| self.start(b));
            (ta.join().unwrap(), tb.join().unwrap())
        })
    }

    fn admin(&self, args: &[&str]) -> String {
        admin(&self.env, &self.tmp.path().join("admin"), args)
    }

    /// The organisation `default` with Budi's identity and an application credential; the
    /// credential's Basic header.
    fn bsre_setup(&self) -> String {
        self.admin(&[
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
        ]);
        self.admin(&[
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
        ]);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode("sistem-informasi:rahasia-aplikasi-2026")
        )
    }

    /// A webhook endpoint for every event; its secret.
    fn webhook(&self) -> String {
        let out = self.admin(&[
            "webhook",
            "create",
            "--org",
            "default",
            "--url",
            &self.rx.url,
            "--events",
            "*",
        ]);
        out.trim().split_once('\t').unwrap().1.to_string()
    }

    fn store(&self) -> paraf_store::Store {
        self.rt
            .block_on(paraf_store::Store::connect(&self.db.url))
            .unwrap()
    }
}

/// `POST /api/sign/pdf` (BSrE v1, invisible) on `i`: the document id and the signed PDF, or
/// `None` when no success reply came.
fn bsre_sign(i: &Instance, basic: &str, text: &str) -> Option<(String, Vec<u8>)> {
    let pdf = paraf_testkit::pdf::pages(&[text]);
    let (ct, body) = multipart(&[
        ("nik", None, NIK.as_bytes()),
        ("passphrase", None, PASS.as_bytes()),
        ("tampilan", None, b"invisible"),
        ("file", Some("surat.pdf"), &pdf),
    ]);
    let resp = ureq::post(&i.url("/api/sign/pdf"))
        .header("Authorization", basic)
        .header("Content-Type", &ct)
        .send(&body[..])
        .ok()?;
    let id = resp.headers().get("id_dokumen")?.to_str().ok()?.to_string();
    let pdf = resp.into_body().read_to_vec().ok()?;
    Some((id, pdf))
}

/// Alice signs at `link`, sent to instance `i`: whether a success reply came.
fn alice_signs(i: &Instance, link: &str) -> bool {
    let on = i.url(&format!("/{}", link.splitn(4, '/').nth(3).unwrap()));
    let (ct, body) = multipart(&[("signature_typed", None, b"Alice Dupont")]);
    match ureq::post(&on)
        .header("Content-Type", &ct)
        .config()
        .http_status_as_error(false)
        .build()
        .send(&body[..])
    {
        Ok(r) => r.status().as_u16() < 400,
        Err(_) => false,
    }
}

/// The webhook events received: (event, envelope id, webhook-id).
fn received(rx: &paraf_testkit::webhook::Receiver) -> Vec<(String, i64, String)> {
    rx.deliveries()
        .iter()
        .map(|d| {
            let b = d.json();
            (
                b["event"].as_str().unwrap_or("").to_string(),
                b["data"]["id"].as_i64().unwrap_or(0),
                d.header("webhook-id"),
            )
        })
        .collect()
}

#[test]
fn two_instances_on_one_database_and_one_bucket_act_as_one() {
    let c = Cluster::new(&[]);
    // Both start at once on empty data directories.
    let (a, b) = c.start_two("a", "b");
    let (data_a, data_b) = (c.tmp.path().join("a"), c.tmp.path().join("b"));
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
    let basic = c.bsre_setup();
    // Signed on A, downloaded once on B; the second download is refused on both.
    let (id, signed) = bsre_sign(&a, &basic, "Surat Keputusan").expect("signed on A");
    let path = format!("/api/sign/download/{id}");
    let (s, downloaded) = b.get(&path, Some(&basic));
    assert_eq!(s, 200);
    assert_eq!(downloaded, signed);
    assert_ne!(b.get(&path, Some(&basic)).0, 200, "second download on B");
    assert_ne!(a.get(&path, Some(&basic)).0, 200, "second download on A");
    let (_, root) = b.get("/pki/ca/root.pem", None);
    let root = paraf_testkit::tools::write(c.tmp.path(), "root.pem", &root);
    let signed_path = paraf_testkit::tools::write(c.tmp.path(), "signed.pdf", &signed);
    let v = paraf_testkit::tools::pyhanko_validate(&signed_path, &root, None);
    assert!(
        v.ok && v.lines.iter().all(|l| l.contains("INTACT:TRUSTED")),
        "{}",
        v.stdout
    );

    // Budi's certificate, revoked through `paraf admin`: both instances say so.
    let store = c.store();
    let org =
        c.rt.block_on(store.organisation_by_slug("default"))
            .unwrap();
    let budi =
        c.rt.block_on(store.identity_by_nik(org.id, &paraf_domain::Nik::parse(NIK).unwrap()))
            .unwrap();
    let cert = cert_from_pem(budi.cert_pem.as_deref().unwrap().as_bytes()).unwrap();
    assert_eq!(a.ocsp(&cert), OcspCertStatus::Good);
    assert_eq!(b.ocsp(&cert), OcspCertStatus::Good);
    assert!(a.crl().1.is_empty());
    c.admin(&["identity", "revoke", "--org", "default", "--nik", NIK]);
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
    let secret = c.webhook();
    let (_, link) = gesdocs_request(&b.url(""), &token);
    assert!(alice_signs(&a, &link), "signing on A");
    wait_for(60, "the completion webhook", || {
        received(&c.rx)
            .iter()
            .any(|(e, _, _)| e == "document_completed")
            .then_some(())
    });
    // Both instances' workers poll every 50 ms: give a duplicate the time to show.
    std::thread::sleep(Duration::from_secs(2));
    let mut names: Vec<String> = received(&c.rx).into_iter().map(|(e, _, _)| e).collect();
    names.sort();
    let bodies: Vec<String> =
        c.rx.deliveries()
            .iter()
            .map(|d| d.json().to_string())
            .collect();
    assert_eq!(
        names,
        ["document_completed", "document_sent", "document_signed"],
        "{bodies:#?}"
    );
    let all = c.rx.deliveries();
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
    assert!(!c.rt.block_on(c.moto.objects("paraf-instances")).is_empty());
}

/// SIGKILL in the middle of concurrent signing (BSrE, on A) and envelope completion (GesDocs
/// signers signing on A, sealing queued): every request that got a success reply has its
/// document (downloaded once, on B) and its audit record; `paraf admin fsck` finds no row
/// pointing at a missing or altered blob; the jobs left behind (webhooks, sealing) run after
/// the restart, on B or on A again — each envelope completes, each event is delivered under
/// one webhook id, and only deliveries already received before the kill may come again (at
/// least once, as Standard Webhooks receivers expect; the id lets them drop the copy).
#[test]
fn an_instance_killed_mid_signing_loses_nothing() {
    let c = Cluster::new(&[
        ("PARAF_JOB_LEASE_SECS", "2"),
        ("PARAF_SEALING_LEASE_SECS", "2"),
    ]);
    let (a, b) = c.start_two("a", "b");
    let token = [&a, &b]
        .into_iter()
        .find_map(|i| value(&i.lines, "API token:"))
        .unwrap();
    let basic = c.bsre_setup();
    c.webhook();
    // Six envelopes waiting for Alice, made on A.
    let envelopes: Vec<(i64, String)> = (0..6)
        .map(|_| gesdocs_request(&a.url(""), &token))
        .collect();
    wait_for(30, "the sent events", || {
        (received(&c.rx).len() >= 6).then_some(())
    });

    // The storm: three BSrE signers in a loop, and Alice signing each envelope at a staggered
    // moment; A is killed in the middle.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let first_done = std::sync::atomic::AtomicBool::new(false);
    let a_pid = a._server.0.id();
    let (signed, envelope_replies, at_kill) = std::thread::scope(|s| {
        let bsre: Vec<_> = (0..3)
            .map(|t| {
                let (a, basic, stop) = (&a, &basic, &stop);
                s.spawn(move || {
                    let mut ok = Vec::new();
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        n += 1;
                        if let Some(r) = bsre_sign(a, basic, &format!("Surat {t}-{n}")) {
                            ok.push(r);
                        }
                    }
                    ok
                })
            })
            .collect();
        let alice: Vec<_> = envelopes
            .iter()
            .enumerate()
            .map(|(k, (id, link))| {
                let (a, first_done) = (&a, &first_done);
                s.spawn(move || {
                    std::thread::sleep(Duration::from_millis(400 * k as u64));
                    let ok = alice_signs(a, link);
                    if ok {
                        first_done.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    (*id, ok)
                })
            })
            .collect();
        // Killed as soon as one envelope's signature got its reply: the later ones are in
        // flight or not sent yet.
        wait_for(120, "a first envelope signed", || {
            first_done
                .load(std::sync::atomic::Ordering::Relaxed)
                .then_some(())
        });
        let killed = Command::new("kill")
            .args(["-KILL", &a_pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let at_kill = c.rx.len();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let signed: Vec<(String, Vec<u8>)> =
            bsre.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let replies: Vec<(i64, bool)> = alice.into_iter().map(|h| h.join().unwrap()).collect();
        (signed, replies, at_kill)
    });
    assert!(
        !signed.is_empty(),
        "some BSrE signatures succeeded before the kill"
    );
    assert!(
        envelope_replies.iter().any(|(_, ok)| *ok) && envelope_replies.iter().any(|(_, ok)| !ok),
        "the kill fell in the middle of the envelope signing: {envelope_replies:?}"
    );

    // A comes back on its (empty) data directory once the sealing leases it held have run out
    // (2 s here): its start takes over any envelope it was sealing (B's housekeeping would,
    // within a minute).
    drop(a);
    std::thread::sleep(Duration::from_millis(2500));
    let a = c.start("a");

    // Every success reply: the document is there (downloaded once, on B) and audited.
    let store = c.store();
    let org =
        c.rt.block_on(store.organisation_by_slug("default"))
            .unwrap();
    let audit =
        c.rt.block_on(store.audit_records(org.id, 0, 100_000))
            .unwrap();
    for (id, pdf) in &signed {
        let (s, body) = b.get(&format!("/api/sign/download/{id}"), Some(&basic));
        assert_eq!(s, 200, "document {id}");
        assert_eq!(&body, pdf, "document {id}");
        assert!(
            audit.iter().any(|r| r.action == "document.signed"
                && serde_json::from_str::<serde_json::Value>(&r.details).unwrap()["id_dokumen"]
                    == *id),
            "no audit record of {id}"
        );
    }
    // Alice signs again where the reply never came; every envelope then completes, once.
    for (id, ok) in &envelope_replies {
        if !ok {
            let link = &envelopes.iter().find(|(e, _)| e == id).unwrap().1;
            // Either the signature had landed (the page then says so) or it lands now.
            alice_signs(&b, link);
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = received(&c.rx)
            .into_iter()
            .filter(|(e, _, _)| e == "document_completed")
            .count();
        if done >= envelopes.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every envelope completed in 120 s (replies {envelope_replies:?}):\n{}\nevents: {:?}",
            c.admin(&["envelope", "list", "--org", "default"]),
            received(&c.rx)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let events = received(&c.rx);
    let all = c.rx.deliveries();
    for (id, _) in &envelopes {
        for event in ["document_sent", "document_signed", "document_completed"] {
            let mut ids: Vec<&String> = events
                .iter()
                .filter(|(e, env, _)| e == event && env == id)
                .map(|(_, _, w)| w)
                .collect();
            ids.dedup();
            assert_eq!(
                ids.len(),
                1,
                "envelope {id}: {event} under one webhook id: {ids:?}"
            );
        }
    }
    // A copy of a delivery is allowed only if it was first received before the kill.
    let mut seen = std::collections::HashSet::new();
    for (k, d) in all.iter().enumerate() {
        let id = d.header("webhook-id");
        if !seen.insert(id.clone()) {
            let first = all
                .iter()
                .position(|x| x.header("webhook-id") == id)
                .unwrap();
            assert!(
                first < at_kill,
                "delivery {k} repeats {id}, first received after the kill"
            );
        }
    }
    // Nothing points at a missing or altered blob; no job left behind.
    let out = c.admin(&["fsck"]);
    assert!(out.contains(": 0 problems"), "{out}");
    let (_, metrics) = b.get("/metrics", None);
    let metrics = String::from_utf8(metrics).unwrap();
    for state in ["queued", "leased", "dead"] {
        let line = format!("paraf_jobs{{state=\"{state}\"}}");
        let v: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .map_or(0.0, |v| v.trim().parse().unwrap());
        assert_eq!(v, 0.0, "{state} jobs: {metrics}");
    }
    drop(a);
}
