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
use serving::{free_port, start_with, value};

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

/// `paraf serve` on a fresh data directory (with `env`), and what its first start printed.
struct Served {
    dir: tempfile::TempDir,
    data: std::path::PathBuf,
    port: u16,
    email: String,
    password: String,
    org: String,
    /// The server's environment, which the operator's `paraf admin` shares.
    env: Vec<(String, String)>,
    _server: serving::Server,
}

fn serve(env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let (server, lines) = start_with(&data, port, env, Stdio::null());
    let email = value(&lines, "admin e-mail:").expect("the first start prints the admin");
    let password = value(&lines, "admin password:").unwrap();
    let org = lines
        .iter()
        .find_map(|l| l.split('`').nth(1).filter(|_| l.contains("organisation")))
        .expect("the first start names the organisation")
        .to_string();
    Served {
        dir,
        data,
        port,
        email,
        password,
        org,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        _server: server,
    }
}

impl Served {
    /// A block of the page pointed at this server and organisation.
    fn here(&self, s: &str) -> String {
        s.replace(
            "http://127.0.0.1:8080",
            &format!("http://127.0.0.1:{}", self.port),
        )
        .replace("--org ORG", &format!("--org {}", self.org))
    }

    /// The curl steps 1–3, Siti signing in the browser, then step 5, in one shell in `name`.
    fn curl_walk_through(&self, name: &str) -> std::path::PathBuf {
        let doc = page();
        let bin = Path::new(env!("CARGO_BIN_EXE_paraf")).parent().unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let work = self.dir.path().join(name);
        std::fs::create_dir(&work).unwrap();
        std::fs::write(
            work.join("contract.pdf"),
            paraf_testkit::pdf::pages(&["Kontrak Kerja Sama <@signature@>"]),
        )
        .unwrap();
        let first = self.here(block(&doc, "Steps 1–3", "sh"));
        let then = self.here(block(&doc, "Step 5:", "sh"));
        let script = format!(
            "set -euo pipefail\n{first}\nwhile [ ! -e signed-by-siti ]; do sleep 0.1; done\n{then}"
        );
        // At most two minutes, so a broken example fails instead of hanging.
        let mut sh = Command::new("timeout")
            .args(["120", "bash", "-c", &script])
            .current_dir(&work)
            .env("PATH", &path)
            .env("PARAF_DATA", &self.data)
            .env_remove("PARAF_DATABASE_URL")
            .env("ADMIN_EMAIL", &self.email)
            .env("ADMIN_PASSWORD", &self.password)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let link = first_link(&mut sh, self.port);
        siti_signs(&link);
        std::fs::write(work.join("signed-by-siti"), "").unwrap();
        assert!(sh.wait().unwrap().success(), "the curl steps failed");
        downloads_are_signed(&work, self.port);
        let sent: serde_json::Value =
            serde_json::from_slice(&std::fs::read(work.join("sent.json")).unwrap()).unwrap();
        assert_eq!(sent["data"]["envelope"]["status"], "sent", "{sent}");
        work
    }
}

#[test]
fn the_walk_through_runs_as_written() {
    paraf_testkit::tools::require_tool("jq", "jq");
    let served = serve(&[]);
    let (data, port, org) = (&served.data, served.port, &served.org);
    let (email, password) = (&served.email, &served.password);
    let doc = page();
    served.curl_walk_through("curl");

    // Python: its own key, the same steps, polling until Siti has signed.
    let py = served.dir.path().join("python");
    std::fs::create_dir(&py).unwrap();
    std::fs::write(
        py.join("contract.pdf"),
        paraf_testkit::pdf::pages(&["Perjanjian <@signature@>"]),
    )
    .unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args([
            "admin", "app-key", "create", "--org", org, "--name", "Python",
        ])
        .arg("--data")
        .arg(data)
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
    let python = served.here(block(&doc, "### Python", "python"));
    let mut child = Command::new("timeout")
        .args(["120", "python3", "-c", &python, &app_key, email, password])
        .current_dir(&py)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let link = first_link(&mut child, port);
    siti_signs(&link);
    assert!(child.wait().unwrap().success(), "the Python example failed");
    downloads_are_signed(&py, port);
}

/// The same walk-through with the blobs in an S3-compatible bucket (`moto_server`): the
/// server keeps no blob on disk, every one is an object under the configured prefix, and the
/// signed PDF downloaded is as valid.
#[test]
fn the_walk_through_keeps_its_blobs_in_s3() {
    paraf_testkit::tools::require_tool("jq", "jq");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let moto = rt.block_on(paraf_testkit::s3::Moto::start());
    rt.block_on(moto.bucket("paraf-blobs"));
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("PARAF_BLOB_STORE", "s3://paraf-blobs/site-a".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let served = serve(&env);
    served.curl_walk_through("curl");
    let objects = rt.block_on(moto.objects("paraf-blobs"));
    // The contract, its signed versions, the seal, the certificate (PDF and JSON).
    assert!(objects.len() >= 4, "{objects:?}");
    assert!(
        objects.iter().all(|k| k.starts_with("site-a/")),
        "{objects:?}"
    );
    assert!(
        !served.data.join("blobs").exists(),
        "no blob on the local disk"
    );
}

/// `paraf admin fsck` after the walk-through: clean; then a blob deleted, another altered and
/// an audit record rewritten are each reported, and it exits non-zero.
#[test]
fn fsck_reports_missing_and_altered_blobs_and_a_broken_chain() {
    paraf_testkit::tools::require_tool("jq", "jq");
    let served = serve(&[]);
    served.curl_walk_through("curl");
    let fsck = || {
        Command::new(env!("CARGO_BIN_EXE_paraf"))
            .args(["admin", "fsck", "--data"])
            .arg(&served.data)
            .env_remove("PARAF_DATA")
            .env_remove("PARAF_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = fsck();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(text.contains(": 0 problems"), "{text}");

    // Two blobs of the envelope: one deleted, one overwritten.
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(served.data.join("blobs"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.len() == 2))
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|f| f.unwrap().path()))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    std::fs::remove_file(&files[0]).unwrap();
    std::fs::write(&files[1], b"%PDF-1.7\nforged").unwrap();
    // And an audit record rewritten by someone with write access to the database.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Executor};
        let url = paraf_store::sqlite_url_for_data_dir(&served.data);
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        c.execute("DROP TRIGGER audit_log_no_update").await.unwrap();
        c.execute("UPDATE audit_log SET actor = 'eve' WHERE seq = 2")
            .await
            .unwrap();
        c.close().await.unwrap();
    });
    let out = fsck();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("is missing"), "{text}");
    assert!(text.contains("was altered"), "{text}");
    assert!(
        text.contains("the audit chain is broken at record 2: the record was modified"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("problems found"), "{stderr}");
}
