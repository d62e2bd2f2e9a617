//! Crash safety of sealing: `paraf serve` is killed (SIGKILL) while an envelope is sealing
//! (held there by fault injection), started again, and the envelope completes — once: each
//! webhook event is delivered once across the restart, signed, and the final document and
//! its certificate are there.
//!
//! Crash safety of answers: killed after a signature is recorded and before anything follows
//! it (held there by fault injection), the server started again follows it up — the signed
//! event, the sealing, the completion, once each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serving::{free_port, gesdocs_request, multipart, start_with, stop, value, wait_for};

const ENV: [(&str, &str); 3] = [
    ("PARAF_SEALING_LEASE_SECS", "1"),
    ("PARAF_OUTBOUND_ALLOW_PRIVATE", "true"),
    ("PARAF_JOB_POLL_MS", "50"),
];

/// A server held by fault injection `fault` (for minutes), an endpoint for every event, and
/// a GesDocs request for one signer who signs on the signer page (never answered: the
/// server is killed first).
struct Paused {
    _tmp: tempfile::TempDir,
    data: std::path::PathBuf,
    _rt: tokio::runtime::Runtime,
    rx: paraf_testkit::webhook::Receiver,
    server: serving::Server,
    secret: String,
}

impl Paused {
    fn start(fault: &'static str) -> Paused {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("paraf-data");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let rx = rt.block_on(paraf_testkit::webhook::Receiver::start(vec![200]));
        let mut paused = ENV.to_vec();
        paused.push((fault, "120000"));
        let port = free_port();
        let (server, lines) = start_with(&data, port, &paused, Stdio::null());
        let token = value(&lines, "API token:").unwrap();
        let mut p = Paused {
            _tmp: tmp,
            data,
            _rt: rt,
            rx,
            server,
            secret: String::new(),
        };
        let url = p.rx.url.clone();
        let created = p.admin(&[
            "webhook", "create", "--org", "default", "--url", &url, "--events", "*",
        ]);
        p.secret = created.trim().split_once('\t').unwrap().1.to_string();
        let (_, link) = gesdocs_request(&format!("http://127.0.0.1:{port}"), &token);
        std::thread::spawn(move || {
            let (ct, body) = multipart(&[("signature_typed", None, b"Alice Dupont")]);
            let _ = ureq::post(&link)
                .header("Content-Type", &ct)
                .send(&body[..]);
        });
        p
    }

    /// `paraf admin ARGS --data DATA`.
    fn admin_output(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_paraf"))
            .arg("admin")
            .args(args)
            .arg("--data")
            .arg(&self.data)
            .env_remove("PARAF_DATABASE_URL")
            .env("PARAF_OUTBOUND_ALLOW_PRIVATE", "true")
            .output()
            .unwrap()
    }

    /// `paraf admin ARGS --data DATA`'s output; it must succeed.
    fn admin(&self, args: &[&str]) -> String {
        let out = self.admin_output(args);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The events received, by name.
    fn events(&self) -> Vec<String> {
        self.rx
            .deliveries()
            .iter()
            .map(|d| d.json()["event"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Kills the held server and starts it again without the fault; its port.
    fn restart(&mut self) -> u16 {
        self.server.0.kill().unwrap();
        self.server.0.wait().unwrap();
        let port = free_port();
        self.server = start_with(&self.data, port, &ENV, Stdio::null()).0;
        port
    }

    /// Waits for the completion event; then every event was delivered once, each signed.
    fn completed_once(&self) -> serde_json::Value {
        let done = wait_for(60, "the completion webhook", || {
            self.rx
                .deliveries()
                .into_iter()
                .map(|d| d.json())
                .find(|b| b["event"] == "document_completed")
        });
        std::thread::sleep(Duration::from_secs(1));
        let all = self.rx.deliveries();
        let mut names = self.events();
        names.sort();
        assert_eq!(
            names,
            ["document_completed", "document_sent", "document_signed"],
            "{names:?}"
        );
        let mut ids: Vec<String> = all.iter().map(|d| d.header("webhook-id")).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        for d in &all {
            paraf_testkit::webhook::standard_webhooks_verify(&self.secret, d).unwrap();
        }
        done
    }
}

#[test]
fn a_server_killed_while_sealing_completes_the_envelope_after_restart() {
    let mut p = Paused::start("PARAF_FAULT_SEAL_PAUSE_MS");
    wait_for(30, "the signature's webhook", || {
        p.events()
            .contains(&"document_signed".to_string())
            .then_some(())
    });
    // Sealing has begun (its lease is 1 s; the fault holds it for minutes): kill the process.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!p.events().contains(&"document_completed".to_string()));

    // Started again without the fault: the housekeeping task takes the envelope over.
    let port = p.restart();
    let done = p.completed_once();
    assert_eq!(done["data"]["statut"], "signe");
    // The final document (the links name the server that sent the event) and the certificate.
    let local = |url: &str| {
        let path = url.splitn(4, '/').nth(3).unwrap().to_string();
        format!("http://127.0.0.1:{port}/{path}")
    };
    let get = |url: &str| -> Vec<u8> {
        ureq::get(&local(url))
            .call()
            .unwrap()
            .into_body()
            .read_to_vec()
            .unwrap()
    };
    let signed = get(done["data"]["document_signe"]["url"].as_str().unwrap());
    assert!(signed.starts_with(b"%PDF-"));
    assert!(
        signed
            .windows(b"/ETSI.RFC3161".len())
            .any(|w| w == b"/ETSI.RFC3161"),
        "no document timestamp"
    );
    let certificate = get(done["data"]["certificat_pdf"]["url"].as_str().unwrap());
    assert!(certificate.starts_with(b"%PDF-"));

    // What the operator sees, and a reseal of an envelope that needs none: refused.
    let list = p.admin(&["envelope", "list", "--org", "default"]);
    let line = list.lines().next().unwrap().to_string();
    assert!(line.contains("\tcompleted\t"), "{list}");
    let id = line.split('\t').next().unwrap().to_string();
    let out = p.admin_output(&["envelope", "reseal", "--org", "default", "--id", &id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not seal_failed"));
    let out = p.admin_output(&["envelope", "list", "--org", "default", "--status", "nope"]);
    assert!(!out.status.success());
    stop(p.server);
}

#[test]
fn a_server_killed_after_recording_a_signature_follows_it_up_after_restart() {
    let mut p = Paused::start("PARAF_FAULT_ANSWER_PAUSE_MS");
    // The signature is recorded (the envelope is in progress), nothing else happened yet.
    wait_for(60, "the signature recorded", || {
        p.admin(&["envelope", "list", "--org", "default"])
            .contains("\tin_progress\t")
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(p.events(), ["document_sent"]);

    // Started again without the fault: the signature is followed up, the envelope completes.
    p.restart();
    assert_eq!(p.completed_once()["data"]["statut"], "signe");
    assert!(p
        .admin(&["envelope", "list", "--org", "default"])
        .contains("\tcompleted\t"));
    p.admin(&["fsck"]);
    stop(p.server);
}
