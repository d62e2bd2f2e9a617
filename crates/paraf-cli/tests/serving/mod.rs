//! `paraf serve` as a child process for the tests that need a real process (start, stop,
//! kill): start it on a data directory and a port, read what it prints, stop it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `paraf serve` (killed when dropped).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start(data: &std::path::Path, port: u16) -> (Server, Vec<String>) {
    start_with(data, port, &[], Stdio::null())
}

pub fn start_with(
    data: &std::path::Path,
    port: u16,
    env: &[(&str, &str)],
    stderr: Stdio,
) -> (Server, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env_remove("PARAF_DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("http://127.0.0.1:{port}/healthz");
    loop {
        assert!(
            Instant::now() < deadline,
            "paraf serve did not answer /healthz within 60 s"
        );
        if ureq::get(&url).call().is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(200));
    (server, rx.try_iter().collect())
}

pub fn value(lines: &[String], label: &str) -> Option<String> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
}

/// SIGTERM: a clean exit.
pub fn stop(server: Server) {
    let pid = server.0.id();
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "paraf serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Polls `f` every 100 ms until it gives something, for at most `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A multipart/form-data body of `parts` (name, file name, bytes); its content type.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "paraf-test-boundary";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A GesDocs signature request for Alice (one page with a signature tag) on the server at
/// `base` with API token `token`: its id and Alice's signing link.
pub fn gesdocs_request(base: &str, token: &str) -> (i64, String) {
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
        &ureq::post(&format!("{base}/api/signature-requests"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", &ct)
            .send(&body[..])
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    (
        reply["data"]["signature_request"]["id"].as_i64().unwrap(),
        reply["data"]["signature_url"].as_str().unwrap().to_string(),
    )
}
