//! The README's first command: `paraf serve` starts with embedded defaults, prints the admin
//! password and an API token once, answers with that token, and stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &std::path::Path, port: u16) -> (Server, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env_remove("PARAF_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

fn value(lines: &[String], label: &str) -> Option<String> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
}

#[test]
fn serve_starts_with_embedded_defaults_and_prints_the_token_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("paraf-data");
    let port = free_port();
    let (server, lines) = start(&data, port);
    let token =
        value(&lines, "API token:").unwrap_or_else(|| panic!("no API token printed: {lines:?}"));
    assert!(value(&lines, "admin password:").is_some(), "{lines:?}");
    assert!(
        data.join("paraf.db").exists(),
        "no SQLite database in the data directory"
    );
    assert!(
        data.join("ca").join("root.pem").exists(),
        "no built-in CA in the data directory"
    );

    let me = ureq::get(&format!("http://127.0.0.1:{port}/api/me"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(me.contains("default"), "{me}");
    let root = ureq::get(&format!("http://127.0.0.1:{port}/pki/ca/root.pem"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert_eq!(
        root,
        std::fs::read_to_string(data.join("ca").join("root.pem")).unwrap()
    );

    // SIGTERM: a clean exit.
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

    // A second start on the same data prints no secret again.
    let port = free_port();
    let (_server, lines) = start(&data, port);
    assert!(
        value(&lines, "API token:").is_none(),
        "the token was printed twice: {lines:?}"
    );
}
