//! `docs/signingtoday.md`'s Quick Starts (3.1–3.5), run as written against `paraf serve`:
//! every command of the page's shell block, in order, with its placeholders (`…`, `DST-ID`,
//! `SIGNED-UUID`) filled from the replies before it, the first start's admin password and API
//! token. Each curl must succeed (`-f`), and the replies must say what the page says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::process::Command;

use serde_json::Value;
use serving::{free_port, start, value};

fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signingtoday.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The page's shell block after `marker`, as commands: continuation lines joined, a heredoc
/// (`cat > f <<EOF … EOF`) kept whole, comments and blank lines dropped.
fn commands(doc: &str, marker: &str) -> Vec<String> {
    let at = doc.find(marker).unwrap();
    let start = doc[at..].find("```sh\n").unwrap() + at + 6;
    let end = doc[start..].find("```").unwrap() + start;
    let joined = doc[start..end].replace("\\\n", " ");
    let mut out = Vec::new();
    let mut heredoc: Option<String> = None;
    for line in joined.lines() {
        if let Some(h) = heredoc.as_mut() {
            h.push('\n');
            h.push_str(line);
            if line.trim() == "EOF" {
                out.push(heredoc.take().unwrap());
            }
            continue;
        }
        // A trailing comment goes (` # …`).
        let t = line.split(" # ").next().unwrap_or_default().trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.contains("<<EOF") {
            heredoc = Some(t.to_string());
            continue;
        }
        // A single-quoted argument spread over lines (a JSON body) continues the command.
        match out.last_mut() {
            Some(last) if last.matches('\'').count() % 2 == 1 => {
                last.push('\n');
                last.push_str(t);
            }
            _ => out.push(t.to_string()),
        }
    }
    out
}

#[test]
fn the_quick_starts_work_against_paraf_serve() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_server, lines) = start(&dir.path().join("data"), port);
    let token = value(&lines, "API token:").expect("the first start prints an API token");
    let password = value(&lines, "admin password:").expect("and the admin's password");
    std::fs::write(
        dir.path().join("contract.pdf"),
        paraf_testkit::pdf::pages(&["Sales contract", "Signatures"]),
    )
    .unwrap();
    let mut vars: Vec<(&str, String)> = vec![("TOKEN", token.clone())];
    let (mut refresh, mut plain, mut template, mut dst) =
        (String::new(), String::new(), String::new(), String::new());
    let mut replies: Vec<Value> = Vec::new();
    for cmd in commands(&page(), "## The Quick Starts against `paraf serve`") {
        let cmd = cmd
            .replace("http://127.0.0.1:8080", &format!("http://127.0.0.1:{port}"))
            .replace("'password=…'", &format!("'password={password}'"))
            .replace(
                "refresh_token=paraf_ort_…",
                &format!("refresh_token={refresh}"),
            )
            .replace("TOKEN=paraf_pat_…", &format!("TOKEN={token}"))
            .replace("PLAIN=…", &format!("PLAIN={plain}"))
            .replace("TEMPLATE_ID=…", &format!("TEMPLATE_ID={template}"))
            .replace("DST-ID", &dst)
            .replace("SIGNED-UUID", &plain)
            .replacen("curl ", "curl -fsS ", 1);
        if cmd
            .split('=')
            .next()
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            && !cmd.contains(' ')
        {
            // `NAME=value`: kept for the commands after it.
            let (k, v) = cmd.split_once('=').unwrap();
            vars.retain(|(n, _)| *n != k);
            vars.push((Box::leak(k.to_string().into_boxed_str()), v.to_string()));
            continue;
        }
        let script = vars
            .iter()
            .map(|(k, v)| format!("{k}='{v}'\n"))
            .collect::<String>()
            + &cmd;
        let out = Command::new("bash")
            .args(["-c", &script])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if cmd.starts_with("cat >") || cmd.contains("-o signed.pdf") {
            continue;
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!("{cmd}: not JSON: {}", String::from_utf8_lossy(&out.stdout))
        });
        if let Some(r) = v["refresh_token"].as_str() {
            refresh = r.to_string();
        }
        if cmd.contains("/robot/DSTs") {
            assert_eq!(v["status"], "toSign", "{v}");
            plain = v["documents"][0]["plainDocumentUuid"]
                .as_str()
                .unwrap()
                .to_string();
            dst = v["id"].as_str().unwrap().to_string();
        }
        if cmd.contains("@template.json") {
            assert_eq!(v["template"], true, "{v}");
            template = v["id"].as_str().unwrap().to_string();
        }
        if cmd.contains("/instantiate") {
            assert_eq!(v["status"], "toSign", "{v}");
            assert_eq!(
                v["documents"][0]["signerGroups"][0]["signers"][0]["email"],
                "jdo@example.com"
            );
        }
        if cmd.contains("%24filter") {
            assert_eq!(v["values"].as_array().unwrap().len(), 1, "{v}");
            assert_eq!(v["values"][0]["title"], "Sample Template");
        }
        replies.push(v);
    }
    assert!(replies.len() >= 9, "{} replies", replies.len());
    assert!(dir.path().join("signed.pdf").exists());
}
