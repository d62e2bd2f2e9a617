//! `docs/alphasign.md`'s examples, run as written against `paraf serve` (the first start's API
//! token as `TOKEN`): every curl command of its shell block, the Python (`requests`) and the
//! JavaScript (`fetch`, Node) examples. The PHP example is the same request as the Python one
//! (no PHP on the test machines).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::path::Path;
use std::process::Command;

use paraf_testkit::docs::block;
use serving::{free_port, start, value};

fn page() -> String {
    paraf_testkit::docs::page("alphasign.md")
}

/// The page's example in the `lang` block after `marker`, pointed at this server and token.
fn example(doc: &str, marker: &str, lang: &str, port: u16, token: &str) -> String {
    block(doc, marker, lang)
        .replace("http://127.0.0.1:8080", &format!("http://127.0.0.1:{port}"))
        .replace("Bearer TOKEN", &format!("Bearer {token}"))
}

/// Runs `cmd`; its stdout, trimmed (it must succeed).
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs `script` with bash in `dir`; stdout.
fn bash(dir: &Path, script: &str, env: &[(&str, &str)]) -> String {
    run(Command::new("bash")
        .args(["-c", script])
        .current_dir(dir)
        .envs(env.iter().copied()))
}

#[test]
fn the_pages_examples_work_against_paraf_serve() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_server, lines) = start(&dir.path().join("data"), port);
    let token = value(&lines, "API token:").expect("the first start prints an API token");
    let work = dir.path();
    std::fs::write(
        work.join("document.pdf"),
        paraf_testkit::pdf::pages(&["Kontrak Kerja"]),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let doc = page();

    // The shell block: each command (continuation lines joined), `UUID` being the document
    // the upload made. Every reply is the seed's JSON; the download before completion and
    // the deletion of a sent document are refused, the rest succeed.
    let shell = block(&doc, "## The seed's examples against `paraf serve`", "sh");
    let joined = shell.replace("\\\n", " ");
    let mut uuid = String::new();
    let mut ran = 0;
    for line in joined.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("BASE=") || line.starts_with("TOKEN=") {
            continue;
        }
        let cmd = line.replace("UUID", &uuid);
        let out = bash(work, &cmd, &[("BASE", &base), ("TOKEN", &token)]);
        ran += 1;
        if cmd.contains("-o signed.pdf") {
            let saved = std::fs::read_to_string(work.join("signed.pdf")).unwrap();
            assert!(saved.contains("\"success\":false"), "{cmd}: {saved}");
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}"));
        let refused = cmd.contains("-X DELETE");
        assert_eq!(v["success"], !refused, "{cmd}: {v}");
        if cmd.contains("-F \"title=Kontrak Kerja\"") {
            uuid = v["data"]["id"].as_str().unwrap().to_string();
        }
        if cmd.contains("/verify/") {
            // signed.pdf holds the refusal, not a document: unknown.
            assert_eq!(v["data"]["valid"], false, "{v}");
        }
    }
    assert_eq!(ran, 11, "every command of the block ran");

    // Python, with the page's address and the token.
    let python = example(&doc, "Python (`requests`):", "python", port, &token);
    let printed = run(Command::new("python3").args(["-c", &python]));
    assert!(printed.starts_with("Nusantara "), "{printed}");

    // JavaScript, in Node (top-level await: an ES module).
    let js = example(&doc, "JavaScript (`fetch`", "js", port, &token);
    let script = format!("{js}\nconsole.log(res.status, (await res.json()).data.tenant.plan);");
    std::fs::write(work.join("me.mjs"), script).unwrap();
    assert_eq!(
        run(Command::new("node").arg(work.join("me.mjs"))),
        "200 Nusantara"
    );
}
