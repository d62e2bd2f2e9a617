//! Alphasign end to end, as people meet it: an integrator uploads and sends a document through
//! `/api/v1`, two signers get the invitation by mail (a real SMTP sink) and sign on the signer
//! page in headless Chromium, the download passes pyHanko and pdfsig, and anyone checks it —
//! through `GET /api/v1/verify/{hash}` and on the `/verify` page (the file hashed in the
//! browser; then validated when the visitor sends it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::Plan;
use paraf_testkit::browser::Browser;

use crate::alphasign::{completed, document_form, sha256_hex, As};
use crate::common::*;
use crate::envelopes::outside_validators_accept;
use crate::gesdocs::post_multipart;
use crate::signer_page::sign_as_typed;

/// Every distinct signing link of this server in `mail`.
fn signing_links(mail: &str, base: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = mail;
    while let Some(at) = rest.find(base) {
        let link: String = rest[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !"\"<>".contains(*c))
            .collect();
        if link.contains("/sign/") && !out.contains(&link) {
            out.push(link.clone());
        }
        rest = &rest[at + link.len().max(1)..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alphasign_two_signers_by_mail_then_anyone_verifies() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let (smtpd, app) = spawn_mailing(Backend::Sqlite).await;
    let tn = tenant(&app, "pt-contoh", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let pdf = pdf_with_pages(&["Perjanjian Kerja", "Halaman tanda tangan"]);
    let (s, v) = post_multipart(
        &app,
        "/api/v1/documents",
        &tn.admin_token,
        document_form(
            Some("Kontrak Kerja"),
            Some(("kontrak.pdf", pdf)),
            &[
                ("John Doe", "john@example.com"),
                ("Jane Smith", "jane@example.com"),
            ],
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (s, v) = As::new(&app, tok)
        .post(&format!("/api/v1/documents/{id}/send"))
        .await;
    assert_eq!(s, 200, "{v}");

    // Both invitations reach the SMTP server, each with its link.
    let links = eventually(30, "two invitations at the SMTP server", || async {
        let out = smtpd.out.lock().unwrap().clone();
        let links = signing_links(&out, &app.url);
        (links.len() == 2 && out.contains("john@example.com") && out.contains("jane@example.com"))
            .then_some(links)
    })
    .await;

    // Each signs in the browser (one group: in any order).
    let browser = Browser::start().await;
    for (link, name) in links.iter().rev().zip(["Jane Smith", "John Doe"]) {
        browser.go(link).await;
        browser.find(r#"[data-testid="doc-page"]"#).await;
        sign_as_typed(&browser, name).await;
    }
    let (done, signed) = completed(&app, &tn.admin_token, &id).await;
    assert!(done["data"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "signed"));
    outside_validators_accept(&app, &signed, 2).await;

    // The API answers for the download's hash with both names.
    let sha = sha256_hex(&signed);
    let (s, v) = As::new(&app, None)
        .get(&format!("/api/v1/verify/{sha}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["valid"], true);
    let mut names: Vec<&str> = v["data"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Jane Smith", "John Doe"]);

    // The page: the file chosen is hashed in the browser; only the hash goes to the server.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "signed.pdf", &signed);
    browser.go(&app.at("/verify")).await;
    browser
        .upload(r#"[data-testid="verify-pick"]"#, path.to_str().unwrap())
        .await;
    browser.wait_url(&format!("/verify?hash={sha}")).await;
    let result = browser.text(r#"[data-testid="verify-result"]"#).await;
    assert!(result.contains("Valid"), "{result}");
    assert!(result.contains("Kontrak Kerja"), "{result}");
    assert!(
        result.contains("Jane Smith") && result.contains("John Doe"),
        "{result}"
    );
    // A file this server never wrote.
    let other = write(dir.path(), "other.pdf", &pdf_with_pages(&["Lain"]));
    browser
        .upload(r#"[data-testid="verify-pick"]"#, other.to_str().unwrap())
        .await;
    browser
        .find(r#"[data-testid="verify-result"][data-valid="false"]"#)
        .await;
    // Sending the file on purpose: the validator's verdict too.
    browser
        .upload(r#"[data-testid="verify-file"]"#, path.to_str().unwrap())
        .await;
    browser.click(r#"[data-testid="verify-validate"]"#).await;
    browser
        .find(r#"[data-testid="verify-validation"][data-indication="TOTAL_PASSED"]"#)
        .await;
    browser
        .find(r#"[data-testid="verify-result"][data-valid="true"]"#)
        .await;
    browser.close().await;
    app.stop().await;
}
