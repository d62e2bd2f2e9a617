//! `docs/external-api.md`'s walk-through, run as written against `paraf serve` (its first
//! start's organisation and admin): the curl steps (1–3, then 5 once Siti has signed) and the
//! Python client, each signed by "Siti" in a real browser (headless Chromium) at the link the
//! example prints; the downloads are a signed PDF and the audit certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use paraf_testkit::browser::Browser;
use paraf_testkit::docs::block;
use serving::{free_port, start, value};

fn page() -> String {
    paraf_testkit::docs::page("external-api.md")
}

/// Signs as Siti at `link` in a real browser.
fn siti_signs(link: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let browser = Browser::start().await;
        browser.go(link).await;
        browser.find(r#"[data-testid="doc-page"]"#).await;
        browser.sign_typed("Siti Aminah").await;
        browser.close().await;
    });
}

/// A started script: the first line it prints that is a link of this server.
fn first_link(child: &mut std::process::Child, port: u16) -> String {
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let prefix = format!("http://127.0.0.1:{port}/");
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the example ended without printing a link"))
            .unwrap();
        if line.starts_with(&prefix) {
            // The rest of its output is read when it ends.
            std::thread::spawn(move || lines.for_each(drop));
            return line;
        }
    }
}

/// The downloads of the example in `dir`: a PDF whose signatures pyHanko accepts (trusting
/// the server's root), and the certificate.
fn downloads_are_signed(dir: &Path, port: u16) {
    let root = ureq::get(&format!("http://127.0.0.1:{port}/pki/ca/root.pem"))
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    let root = paraf_testkit::tools::write(dir, "root.pem", &root);
    let signed = dir.join("signed.pdf");
    assert!(std::fs::read(&signed).unwrap().starts_with(b"%PDF"));
    let v = paraf_testkit::tools::pyhanko_validate(&signed, &root, None);
    assert!(v.ok && !v.lines.is_empty(), "{}", v.stdout);
    assert!(
        v.lines.iter().all(|l| l.contains("INTACT:TRUSTED")),
        "{}",
        v.stdout
    );
    let cert = std::fs::read(dir.join("certificate.pdf")).unwrap();
    assert!(cert.starts_with(b"%PDF"), "certificate.pdf is not a PDF");
}

#[test]
fn the_walk_through_runs_as_written() {
    paraf_testkit::tools::require_tool("jq", "jq");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let (_server, lines) = start(&data, port);
    let email = value(&lines, "admin e-mail:").expect("the first start prints the admin");
    let password = value(&lines, "admin password:").unwrap();
    let org = lines
        .iter()
        .find_map(|l| l.split('`').nth(1).filter(|_| l.contains("organisation")))
        .expect("the first start names the organisation")
        .to_string();
    let bin = Path::new(env!("CARGO_BIN_EXE_paraf")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let doc = page();
    let here = |s: &str| {
        s.replace("http://127.0.0.1:8080", &format!("http://127.0.0.1:{port}"))
            .replace("--org ORG", &format!("--org {org}"))
    };

    // curl: steps 1–3, then (once Siti has signed) step 5, in one shell.
    let curl = dir.path().join("curl");
    std::fs::create_dir(&curl).unwrap();
    std::fs::write(
        curl.join("contract.pdf"),
        paraf_testkit::pdf::pages(&["Kontrak Kerja Sama <@signature@>"]),
    )
    .unwrap();
    let first = here(block(&doc, "Steps 1–3", "sh"));
    let then = here(block(&doc, "Step 5:", "sh"));
    let script = format!(
        "set -euo pipefail\n{first}\nwhile [ ! -e signed-by-siti ]; do sleep 0.1; done\n{then}"
    );
    // At most two minutes each, so a broken example fails instead of hanging.
    let mut sh = Command::new("timeout")
        .args(["120", "bash", "-c", &script])
        .current_dir(&curl)
        .env("PATH", &path)
        .env("PARAF_DATA", &data)
        .env_remove("PARAF_DATABASE_URL")
        .env("ADMIN_EMAIL", &email)
        .env("ADMIN_PASSWORD", &password)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let link = first_link(&mut sh, port);
    siti_signs(&link);
    std::fs::write(curl.join("signed-by-siti"), "").unwrap();
    assert!(sh.wait().unwrap().success(), "the curl steps failed");
    downloads_are_signed(&curl, port);
    let sent: serde_json::Value =
        serde_json::from_slice(&std::fs::read(curl.join("sent.json")).unwrap()).unwrap();
    assert_eq!(sent["data"]["envelope"]["status"], "sent", "{sent}");

    // Python: its own key, the same steps, polling until Siti has signed.
    let py = dir.path().join("python");
    std::fs::create_dir(&py).unwrap();
    std::fs::write(
        py.join("contract.pdf"),
        paraf_testkit::pdf::pages(&["Perjanjian <@signature@>"]),
    )
    .unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args([
            "admin", "app-key", "create", "--org", &org, "--name", "Python",
        ])
        .arg("--data")
        .arg(&data)
        .env_remove("PARAF_DATA")
        .env_remove("PARAF_DATABASE_URL")
        .output()
        .unwrap();
    assert!(made.status.success());
    let app_key = String::from_utf8(made.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("x-app-key:\t").map(str::to_string))
        .unwrap();
    let python = here(block(&doc, "### Python", "python"));
    let mut child = Command::new("timeout")
        .args(["120", "python3", "-c", &python, &app_key, &email, &password])
        .current_dir(&py)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let link = first_link(&mut child, port);
    siti_signs(&link);
    assert!(child.wait().unwrap().success(), "the Python example failed");
    downloads_are_signed(&py, port);
}
