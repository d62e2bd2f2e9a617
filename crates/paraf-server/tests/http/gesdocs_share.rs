//! GesDocs secure downloads over HTTP: upload a file (its path), share it with a PDF fetched
//! by URL, the recipient's mailed link asks for a code before anything is shown or
//! downloaded; every bad input names its field in the seed's shapes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common::*;
use crate::gesdocs::{account, file_server, org_named, post_json_as, post_multipart};
use crate::signer_page::{code_after, path_of, post_form};

async fn share(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    post_json_as(app, "/api/secure-downloads", token, body).await
}

fn tomorrow(app: &TestApp) -> String {
    (app.clock.now_ts() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

async fn files_are_shared_behind_a_code(backend: Backend) {
    let app = spawn_with(backend, |c| c.registration_open = true).await;
    let files = file_server().await;
    let token = account(&app, "partage@cabinet.fr").await;
    let other = account(&app, "autre@cabinet.fr").await;
    let org = org_named(&app, "partage-").await;

    // Upload: a PDF, named by its path.
    let uploaded = paraf_testkit::pdf::pages(&["Annexe confidentielle"]);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(uploaded.clone()).file_name("Autre.pdf"),
    );
    let (s, v) = post_multipart(&app, "/api/uploads", &token, form).await;
    assert_eq!(s, 201, "{v}");
    let path = v["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with("secure_downloads/") && path.ends_with("_Autre.pdf"),
        "{path}"
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"<html>".to_vec()).file_name("x.html"),
    );
    let (s, v) = post_multipart(&app, "/api/uploads", &token, form).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["errors"]["file"][0],
        "The file field must be a file of type: pdf."
    );

    // The share: a URL and the upload, one recipient.
    let body = json!({
        "files": [
            {"name": "Document.pdf", "url": format!("{files}/contrat.pdf")},
            {"name": "Autre.pdf", "path": path}
        ],
        "signers": [{"email": "john@example.com", "first_name": "John", "last_name": "Doe", "language": "en"}],
        "demandeur_email": "alice@example.com",
        "expires_at": tomorrow(&app),
        "logo_url": format!("{files}/logo.png")
    });
    let (s, v) = share(&app, &token, body.clone()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["message"], "Lien envoyé aux destinataires.");
    let d = &v["data"];
    assert!(d["secure_download_id"].is_number() && d["token"].is_string());
    assert!(
        d["expires_at"].as_str().unwrap().ends_with("T23:59:59"),
        "{d}"
    );
    let link = d["link"].as_str().unwrap().to_string();
    assert!(link.contains("/en/sign/"), "{link}");
    let mails = app.store.list_mail(Some(org.id), 10).await.unwrap();
    let invite = mails.iter().find(|m| m.to == "john@example.com").unwrap();
    assert!(
        invite.subject.starts_with("Documents shared with you"),
        "{}",
        invite.subject
    );
    assert!(invite.text.contains(&link));

    // Nothing before the code: no download link, downloads and page images refused.
    let p = path_of(&link, &app);
    let html = app.text(&p).await;
    assert!(html.contains("data-testid=\"otp-send\""), "{html}");
    assert!(!html.contains("download-file") && !html.contains("sign-submit"));
    let r = app.get(&format!("{p}/download/1")).send().await.unwrap();
    assert_ne!(r.status(), 200);
    let r = app.get(&format!("{p}/pages/1/1")).send().await.unwrap();
    assert_ne!(r.status(), 200);
    // Nothing to sign.
    let form = reqwest::multipart::Form::new().text("signature_typed", "John Doe");
    let r = app.post(&p).multipart(form).send().await.unwrap();
    assert_ne!(r.status(), 303);

    // The code by mail, then both files.
    let r = app.post(&format!("{p}/code")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mails = app.store.list_mail(Some(org.id), 10).await.unwrap();
    let mail = mails
        .iter()
        .find(|m| m.to == "john@example.com" && m.subject == "Your download code")
        .unwrap();
    assert!(mail.text.contains("Your code to download"), "{}", mail.text);
    let code = code_after(&mail.text, ":").unwrap();
    let (s, _) = post_form(&app, &format!("{p}/verify"), "code", &code).await;
    assert_eq!(s, 303);
    let html = app.text(&p).await;
    assert_eq!(
        html.matches("data-testid=\"download-file\"").count(),
        2,
        "{html}"
    );
    let (s, _, first) = fetch(&app, &format!("{p}/download/1")).await;
    assert_eq!(s, 200);
    assert!(first.starts_with(b"%PDF-"));
    let (s, _, second) = fetch(&app, &format!("{p}/download/2")).await;
    assert_eq!(s, 200);
    assert_eq!(second, uploaded);

    // Bad input, in the seed's shapes.
    let mut b = body.clone();
    b["files"][0]["url"] = json!("http://127.0.0.1:1/absent.pdf");
    let (s, v) = share(&app, &token, b).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["field"], "files.0.url");
    assert_eq!(
        v["message"],
        "Impossible de télécharger le fichier depuis l'URL fournie."
    );
    let mut b = body.clone();
    b["files"][0]["url"] = json!(format!("{files}/page.html"));
    let (_, v) = share(&app, &token, b).await;
    assert_eq!(v["field"], "files.0.url");
    assert_eq!(
        v["message"],
        "Le fichier à l'URL fournie n'est pas un PDF valide."
    );
    let mut b = body.clone();
    b["logo_url"] = json!(format!("{files}/page.html"));
    let (_, v) = share(&app, &token, b).await;
    assert_eq!(v["field"], "logo_url");
    assert_eq!(
        v["message"],
        "Le fichier à l'URL fournie n'est pas une image valide."
    );
    let (s, v) = share(&app, &token, json!({"files": [{"name": "x.pdf"}]})).await;
    assert_eq!(s, 422, "{v}");
    for field in ["files.0.path", "signers", "demandeur_email", "expires_at"] {
        assert!(v["errors"][field].is_array(), "{field}: {v}");
    }
    // Another account's upload is not found.
    let mut b = body.clone();
    b["files"] = json!([{"name": "Autre.pdf", "path": path}]);
    let (s, v) = share(&app, &other, b).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["field"], "files.0.path");

    // Multipart, with bracketed fields and an SMS code without a mobile: named.
    let form = reqwest::multipart::Form::new()
        .text("files[0][name]", "Autre.pdf")
        .text("files[0][path]", path.clone())
        .text("signers[0][email]", "john@example.com")
        .text("signers[0][first_name]", "John")
        .text("signers[0][last_name]", "Doe")
        .text("demandeur_email", "alice@example.com")
        .text("expires_at", tomorrow(&app))
        .text("twofa_type", "sms");
    let (s, v) = post_multipart(&app, "/api/secure-downloads", &token, form).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["errors"]["signers.0.mobile"].is_array(), "{v}");
    let form = reqwest::multipart::Form::new()
        .text("files[0][name]", "Autre.pdf")
        .text("files[0][path]", path)
        .text("signers[0][email]", "john@example.com")
        .text("signers[0][first_name]", "John")
        .text("signers[0][last_name]", "Doe")
        .text("demandeur_email", "alice@example.com")
        .text("expires_at", tomorrow(&app))
        .part(
            "logo",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("logo.png"),
        );
    let (s, v) = post_multipart(&app, "/api/secure-downloads", &token, form).await;
    assert_eq!(s, 201, "{v}");
    app.stop().await;
}

/// A large upload goes to the blob store as it arrives: stored under its content hash with
/// its size; one that is not a PDF is refused at its first KiB and leaves no blob.
async fn large_uploads_stream_to_the_store(backend: Backend) {
    let app = spawn_with(backend, |c| c.registration_open = true).await;
    let token = account(&app, "gros@cabinet.fr").await;
    let mut big = b"%PDF-1.7\n".to_vec();
    big.extend((0..20 * 1024 * 1024u32).map(|i| b"0123456789abcdef\n"[(i % 17) as usize]));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(big.clone()).file_name("Gros.pdf"),
    );
    let (s, v) = post_multipart(&app, "/api/uploads", &token, form).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["size"], big.len() as u64);
    let id = paraf_domain::BlobId::of(&big);
    let stored = app.state.blobs.get_stream(&id).await.unwrap().unwrap();
    assert_eq!(stored.size, big.len() as u64);

    let mut html = b"<html>".to_vec();
    html.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(html.clone()).file_name("x.pdf"),
    );
    let (s, v) = post_multipart(&app, "/api/uploads", &token, form).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["errors"]["file"][0],
        "The file field must be a file of type: pdf."
    );
    assert!(!app
        .state
        .blobs
        .exists(&paraf_domain::BlobId::of(&html))
        .await
        .unwrap());
}

crate::both_backends!(
    files_are_shared_behind_a_code,
    large_uploads_stream_to_the_store
);
