//! Crash safety of sealing: `paraf serve` is killed (SIGKILL) while an envelope is sealing
//! (held there by fault injection), started again, and the envelope completes — once: each
//! webhook event is delivered once across the restart, signed, and the final document and
//! its certificate are there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::process::{Command, Stdio};
use std::time::Duration;

use serving::{free_port, gesdocs_request, multipart, start_with, stop, value, wait_for};

#[test]
fn a_server_killed_while_sealing_completes_the_envelope_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("paraf-data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rx = rt.block_on(paraf_testkit::webhook::Receiver::start(vec![200]));
    let env = [
        ("PARAF_SEALING_LEASE_SECS", "1"),
        ("PARAF_OUTBOUND_ALLOW_PRIVATE", "true"),
        ("PARAF_JOB_POLL_MS", "50"),
    ];
    let mut paused = env.to_vec();
    paused.push(("PARAF_FAULT_SEAL_PAUSE_MS", "120000"));
    let port = free_port();
    let (server, lines) = start_with(&data, port, &paused, Stdio::null());
    let token = value(&lines, "API token:").unwrap();
    let base = format!("http://127.0.0.1:{port}");

    // The organisation's endpoint for every event.
    let out = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args([
            "admin", "webhook", "create", "--org", "default", "--url", &rx.url,
        ])
        .args(["--events", "*", "--data"])
        .arg(&data)
        .env_remove("PARAF_DATABASE_URL")
        .env("PARAF_OUTBOUND_ALLOW_PRIVATE", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout.trim().split_once('\t').unwrap().1.to_string();

    // A GesDocs request for one signer, who signs on the signer page: the sealing pauses.
    let (_, link) = gesdocs_request(&base, &token);
    std::thread::spawn(move || {
        let (ct, body) = multipart(&[("signature_typed", None, b"Alice Dupont")]);
        // Never answered: the server dies first.
        let _ = ureq::post(&link)
            .header("Content-Type", &ct)
            .send(&body[..]);
    });
    let events = |rx: &paraf_testkit::webhook::Receiver| -> Vec<String> {
        rx.deliveries()
            .iter()
            .map(|d| d.json()["event"].as_str().unwrap_or("").to_string())
            .collect()
    };
    wait_for(30, "the signature's webhook", || {
        events(&rx)
            .contains(&"document_signed".to_string())
            .then_some(())
    });
    // Sealing has begun (its lease is 1 s; the fault holds it for minutes): kill the process.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!events(&rx).contains(&"document_completed".to_string()));
    let mut server = server;
    server.0.kill().unwrap();
    server.0.wait().unwrap();

    // Started again without the fault: the housekeeping task takes the envelope over.
    let port = free_port();
    let (server, _) = start_with(&data, port, &env, Stdio::null());
    let done = wait_for(60, "the completion webhook", || {
        rx.deliveries()
            .into_iter()
            .map(|d| d.json())
            .find(|b| b["event"] == "document_completed")
    });
    assert_eq!(done["data"]["statut"], "signe");
    // Once per event, each signed.
    std::thread::sleep(Duration::from_secs(1));
    let all = rx.deliveries();
    let mut names = events(&rx);
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
        paraf_testkit::webhook::standard_webhooks_verify(&secret, d).unwrap();
    }
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
    let admin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_paraf"))
            .arg("admin")
            .args(args)
            .arg("--data")
            .arg(&data)
            .env_remove("PARAF_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = admin(&["envelope", "list", "--org", "default"]);
    assert!(out.status.success(), "{out:?}");
    let list = String::from_utf8(out.stdout).unwrap();
    let line = list.lines().next().unwrap().to_string();
    assert!(line.contains("\tcompleted\t"), "{list}");
    let id = line.split('\t').next().unwrap().to_string();
    let out = admin(&["envelope", "reseal", "--org", "default", "--id", &id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not seal_failed"));
    let out = admin(&["envelope", "list", "--org", "default", "--status", "nope"]);
    assert!(!out.status.success());
    stop(server);
}
