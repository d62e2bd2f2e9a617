//! The Alphasign dialect (`/api/v1`, seed 000) over HTTP: the account and quotas, documents
//! from upload to the signed download, contacts, the public check by hash, every refusal in
//! the seed's shape (Indonesian, or English when asked), and the plan's rate limits shared by
//! two instances.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use paraf_domain::{Plan, Quotas};
use serde_json::{json, Value};
use sha2::Digest;

use crate::common::*;
use crate::envelopes::{outside_validators_accept, token_of, typed};
use crate::gesdocs::post_multipart;
use crate::recipients::link_mailed_to;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `method path` with `token` (and `x-language: en` when `english`).
pub(crate) async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    english: bool,
) -> (u16, Value) {
    let mut r = match method {
        "POST" => app.post(path),
        "DELETE" => app.http.delete(app.at(path)),
        _ => app.get(path),
    };
    if let Some(tok) = token {
        r = r.header("authorization", bearer(tok));
    }
    if english {
        r = r.header("x-language", "en");
    }
    json(r.send().await.unwrap()).await
}

/// Requests as one caller (a token, or none), in Indonesian or, after [`As::en`], English.
#[derive(Clone, Copy)]
pub(crate) struct As<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
    english: bool,
}

impl<'a> As<'a> {
    pub(crate) fn new(app: &'a TestApp, token: Option<&'a str>) -> As<'a> {
        As {
            app,
            token,
            english: false,
        }
    }

    pub(crate) fn en(self) -> As<'a> {
        As {
            english: true,
            ..self
        }
    }

    pub(crate) async fn get(self, path: &str) -> (u16, Value) {
        call(self.app, "GET", path, self.token, self.english).await
    }

    pub(crate) async fn post(self, path: &str) -> (u16, Value) {
        call(self.app, "POST", path, self.token, self.english).await
    }

    pub(crate) async fn delete(self, path: &str) -> (u16, Value) {
        call(self.app, "DELETE", path, self.token, self.english).await
    }
}

/// The seed's error body: `success: false`, the message, and `errors` naming `fields`.
#[track_caller]
fn assert_refused(v: &Value, message_part: &str, fields: &[&str]) {
    assert_eq!(v["success"], false, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains(message_part),
        "{message_part:?} in {v}"
    );
    for f in fields {
        assert!(
            v["errors"][f].as_array().is_some_and(|a| !a.is_empty()),
            "errors.{f} in {v}"
        );
    }
}

/// `title`, an optional file and `signers[i][name|email]` as multipart.
pub(crate) fn document_form(
    title: Option<&str>,
    file: Option<(&str, Vec<u8>)>,
    signers: &[(&str, &str)],
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    if let Some(t) = title {
        form = form.text("title", t.to_string());
    }
    if let Some((name, bytes)) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/pdf")
                .unwrap(),
        );
    }
    for (i, (name, email)) in signers.iter().enumerate() {
        form = form
            .text(format!("signers[{i}][name]"), name.to_string())
            .text(format!("signers[{i}][email]"), email.to_string());
    }
    form
}

/// Waits for document `id` to complete; its view and its download (checked to be a PDF
/// attachment named after the title).
pub(crate) async fn completed(app: &TestApp, token: &str, id: &str) -> (Value, Vec<u8>) {
    let path = format!("/api/v1/documents/{id}");
    let done = eventually(30, "the document completed", || async {
        let (_, v) = As::new(app, Some(token)).get(&path).await;
        (v["data"]["status"] == "completed").then_some(v)
    })
    .await;
    let r = app
        .get(&format!("{path}/download"))
        .header("authorization", bearer(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let title = done["data"]["title"].as_str().unwrap().replace(' ', "_");
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains(&format!("{title}.pdf")),
        "{disposition}"
    );
    (done, r.bytes().await.unwrap().to_vec())
}

/// `GET /api/v1/me` with `token`.
async fn me_as(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/v1/me")
        .header("authorization", bearer(token))
        .send()
        .await
        .unwrap()
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

async fn account_documents_contacts_and_verification(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "pt-contoh", Plan::Piagam).await;
    let other = tenant(&app, "pt-lain", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let (admin, anon) = (As::new(&app, tok), As::new(&app, None));

    // --- authentication: missing, unknown, in both languages.
    let (s, v) = anon.get("/api/v1/me").await;
    assert_eq!(s, 401);
    assert_refused(&v, "Token API tidak valid", &[]);
    let (s, v) = As::new(&app, Some("nope")).en().get("/api/v1/me").await;
    assert_eq!(s, 401);
    assert_refused(&v, "Invalid or missing API token", &[]);

    // --- the account, with the plan's rate-limit headers.
    let r = me_as(&app, &tn.admin_token).await;
    assert_eq!(r.headers()["x-ratelimit-limit"], "300");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "299");
    assert!(r.headers().get("retry-after").is_none());
    let (s, v) = json(r).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["email"], "admin@pt-contoh.example");
    assert_eq!(v["data"]["role"], "admin");
    assert_eq!(
        v["data"]["tenant"],
        json!({"id": "pt-contoh", "name": "Org pt-contoh", "plan": "Piagam"})
    );
    let (s, v) = admin.get("/api/v1/me/quota").await;
    assert_eq!(s, 200);
    let q = Plan::Piagam.default_quotas();
    assert_eq!(
        v["data"]["documents"],
        json!({"used": 0, "limit": q.documents})
    );
    assert_eq!(v["data"]["api_requests"]["limit"], 10_000);
    // The three requests of this token so far (the refused ones were not admitted).
    assert_eq!(v["data"]["api_requests"]["used"], 2);

    // --- uploads that are refused name the field, in Indonesian or English.
    let pdf = pdf_with_pages(&["Kontrak Kerja"]);
    let post = |form| post_multipart(&app, "/api/v1/documents", &tn.admin_token, form);
    let bare = |title: &str, name: &str| document_form(Some(title), Some((name, pdf.clone())), &[]);
    let (s, v) = post(document_form(Some("  "), None, &[])).await;
    assert_eq!(s, 422);
    assert_refused(&v, "Validasi gagal", &["title", "file"]);
    assert_eq!(v["errors"]["title"][0], "Kolom title wajib diisi.");
    let (s, v) = post(document_form(
        Some("Kontrak"),
        Some(("kontrak.pdf", b"not a pdf at all".to_vec())),
        &[],
    ))
    .await;
    assert_eq!(s, 422);
    assert_refused(&v, "Validasi gagal", &["file"]);
    let (s, v) = post(document_form(
        Some("Kontrak"),
        Some(("kontrak.pdf", pdf.clone())),
        &[("John Doe", "not-an-email"), ("", "jane@example.com")],
    ))
    .await;
    assert_eq!(s, 422);
    assert_refused(&v, "Validasi", &["signers.0.email", "signers.1.name"]);
    // A body announced over the server's limit (21 MiB) is refused before it is read: as a
    // 422 naming the file (a raw request: a client still sending would meet a closed socket).
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Accept-Language: en\r\nContent-Type: multipart/form-data; boundary=XYZ\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        tn.admin_token,
        21 * 1024 * 1024 + 100
    );
    tokio::io::AsyncWriteExt::write_all(&mut sock, head.as_bytes())
        .await
        .unwrap();
    let mut resp = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut sock, &mut resp).await;
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 422"), "{resp}");
    assert!(
        resp.contains(r#""file":["The file must not be greater than 20 MB."]"#),
        "{resp}"
    );
    assert!(resp.contains(r#""success":false"#), "{resp}");
    // Under the server's limit but over 20 MiB: the same answer, from the form's check.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let (s, v) = post(document_form(Some("Besar"), Some(("besar.pdf", big)), &[])).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["errors"]["file"][0], "Ukuran file maksimal 20 MB.");

    // --- a document with two signers (no tags: their signatures at the foot of the last page).
    let (s, v) = post(document_form(
        Some("Kontrak Kerja"),
        Some(("kontrak.pdf", pdf.clone())),
        &[
            ("John Doe", "john@example.com"),
            ("Jane Smith", "jane@example.com"),
        ],
    ))
    .await;
    assert_eq!(s, 201, "{v}");
    let doc = v["data"].clone();
    let id = doc["id"].as_str().unwrap().to_string();
    assert_eq!(doc["status"], "draft");
    assert_eq!(doc["title"], "Kontrak Kerja");
    assert_eq!(doc["file_name"], "kontrak.pdf");
    assert_eq!(doc["pages"], 1, "{doc}");
    assert_eq!(doc["sha256"], sha256_hex(&pdf));
    assert_eq!(doc["signers"][1]["name"], "Jane Smith");
    assert_eq!(doc["signers"][1]["status"], "pending");
    assert_eq!(doc["signers"][1]["signed_at"], Value::Null);
    // One without signers: cannot be sent, can be deleted.
    let (s, v) = post(bare("Tanpa penandatangan", "kosong.pdf")).await;
    assert_eq!(s, 201, "{v}");
    let lonely = v["data"]["id"].as_str().unwrap().to_string();
    let (s, v) = admin
        .post(&format!("/api/v1/documents/{lonely}/send"))
        .await;
    assert_eq!(s, 422);
    assert_refused(&v, "Dokumen belum memiliki penandatangan.", &["signers"]);

    // --- lists: filters, pages and their bounds.
    for bad in [
        "per_page=0",
        "per_page=101",
        "per_page=abc",
        "status=signed",
        "page=0",
    ] {
        let (s, v) = admin.get(&format!("/api/v1/documents?{bad}")).await;
        assert_eq!(s, 422, "{bad}: {v}");
        let field = bad.split('=').next().unwrap();
        assert_refused(&v, "Validasi", &[field]);
    }
    let (s, v) = admin.get("/api/v1/documents?status=draft&per_page=1").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"][0]["id"], lonely.as_str(), "newest first");
    assert_eq!(v["meta"]["total"], 2);
    assert_eq!(v["meta"]["last_page"], 2);
    assert_eq!(v["meta"]["per_page"], 1);
    let next = v["links"]["next"].as_str().unwrap();
    assert!(
        next.ends_with("/api/v1/documents?status=draft&per_page=1&page=2"),
        "{next}"
    );
    assert_eq!(v["links"]["prev"], Value::Null);
    let (_, v) = admin.get("/api/v1/documents?status=pending").await;
    assert_eq!(v["meta"]["total"], 0);
    assert_eq!(v["data"], json!([]));

    // --- another tenant's document, and ids that are not ours, are not found.
    let theirs = Some(other.admin_token.as_str());
    let them = As::new(&app, theirs);
    for path in [
        format!("/api/v1/documents/{id}"),
        format!("/api/v1/documents/{id}/download"),
        "/api/v1/documents/not-a-uuid".to_string(),
    ] {
        let (s, v) = them.get(&path).await;
        assert_eq!(s, 404, "{path}");
        assert_refused(&v, "tidak ditemukan", &[]);
    }
    let (s, _) = them.delete(&format!("/api/v1/documents/{id}")).await;
    assert_eq!(s, 404);
    let (s, _) = them.post(&format!("/api/v1/documents/{id}/send")).await;
    assert_eq!(s, 404);

    // --- downloading before completion is refused; sending invites both; a pending document
    // cannot be deleted.
    let (s, v) = admin
        .en()
        .get(&format!("/api/v1/documents/{id}/download"))
        .await;
    assert_eq!(s, 422);
    assert_refused(&v, "not signed by everyone yet", &["status"]);
    let (s, v) = admin.post(&format!("/api/v1/documents/{id}/send")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["status"], "pending");
    let (s, v) = admin.post(&format!("/api/v1/documents/{id}/send")).await;
    assert_eq!(s, 422);
    assert_refused(&v, "sudah dikirim", &["status"]);
    let (s, v) = admin.delete(&format!("/api/v1/documents/{id}")).await;
    assert_eq!(s, 422);
    assert_refused(&v, "Hanya dokumen draft yang bisa dihapus", &["status"]);
    assert!(v["errors"]["status"][0]
        .as_str()
        .unwrap()
        .contains("pending"));
    let (s, v) = admin.delete(&format!("/api/v1/documents/{lonely}")).await;
    assert_eq!(
        (s, &v["data"]),
        (200, &json!({"id": lonely, "deleted": true}))
    );
    let (s, _) = admin.get(&format!("/api/v1/documents/{lonely}")).await;
    assert_eq!(s, 404);
    let (_, v) = admin.get("/api/v1/me/quota").await;
    assert_eq!(
        v["data"]["documents"]["used"], 1,
        "the deleted draft is given back"
    );
    assert_eq!(v["data"]["signatures"]["used"], 2);
    assert_eq!(v["data"]["storage_bytes"]["used"], pdf.len());

    // --- both sign (in any order: one group); the document completes, sealed.
    let core = &app.state.core;
    for (to, name) in [
        ("jane@example.com", "Jane Smith"),
        ("john@example.com", "John Doe"),
    ] {
        let link = link_mailed_to(&app, tn.org.id, to).await;
        core.sign(
            token_of(&link),
            typed(name),
            &paraf_core::envelopes::Visit::default(),
        )
        .await
        .unwrap();
    }
    let (done, signed) = completed(&app, &tn.admin_token, &id).await;
    assert_eq!(done["data"]["signers"][0]["status"], "signed");
    assert!(done["data"]["signers"][0]["signed_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(done["data"]["sha256"], sha256_hex(&signed));
    outside_validators_accept(&app, &signed, 2).await;

    // --- anyone checks a file by its hash: the signed one names both, the upload none.
    let (s, v) = anon
        .get(&format!("/api/v1/verify/{}", sha256_hex(&signed)))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["valid"], true);
    assert_eq!(
        v["data"]["document"],
        json!({"title": "Kontrak Kerja", "status": "completed"})
    );
    let names: Vec<&str> = v["data"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jane Smith", "John Doe"]);
    let (_, v) = anon
        .get(&format!(
            "/api/v1/verify/{}",
            sha256_hex(&pdf).to_uppercase()
        ))
        .await;
    assert_eq!(v["data"]["valid"], true);
    assert_eq!(v["data"]["signers"], json!([]));
    let (s, v) = anon
        .get(&format!("/api/v1/verify/{}", sha256_hex(b"unknown")))
        .await;
    assert_eq!(
        (s, &v["data"]),
        (
            200,
            &json!({"valid": false, "document": null, "signers": []})
        )
    );
    let (s, v) = anon.get("/api/v1/verify/abc123def456").await;
    assert_eq!(s, 422);
    assert_refused(&v, "Hash harus berupa SHA-256", &["hash"]);

    // --- contacts.
    let (app_ref, token) = (&app, tn.admin_token.as_str());
    let contact = |body: Value| async move {
        let r = app_ref
            .post("/api/v1/contacts")
            .header("authorization", bearer(token));
        json(r.json(&body).send().await.unwrap()).await
    };
    let (s, v) = contact(json!({})).await;
    assert_eq!(s, 422);
    assert_refused(&v, "Validasi", &["name", "email"]);
    let (s, v) = contact(json!({"name": "Jane", "email": "jane@"})).await;
    assert_eq!(s, 422);
    assert_refused(&v, "Validasi", &["email"]);
    let (s, v) =
        contact(json!({"name": "Jane Smith", "email": "jane@co.id", "company": "PT ABC"})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["data"]["company"], "PT ABC");
    assert_eq!(v["data"]["phone"], Value::Null);
    let (s, v) = contact(json!({"name": "Jane", "email": "JANE@co.id"})).await;
    assert_eq!(s, 422);
    assert_refused(&v, "Kontak dengan email ini sudah ada.", &["email"]);
    let (s, v) = admin.get("/api/v1/contacts").await;
    assert_eq!(s, 200);
    assert_eq!(v["meta"]["total"], 1);
    assert_eq!(v["data"][0]["email"], "jane@co.id");
    let (_, v) = them.get("/api/v1/contacts").await;
    assert_eq!(v["meta"]["total"], 0, "contacts are the tenant's");
    let (s, _) = admin.get("/api/v1/contacts?per_page=101").await;
    assert_eq!(s, 422);

    // --- a quota used up: refused with 403, nothing made.
    app.store
        .set_quotas(tn.org.id, Quotas { documents: 1, ..q })
        .await
        .unwrap();
    let (s, v) = post(bare("Lagi", "lagi.pdf")).await;
    assert_eq!(s, 403, "{v}");
    assert_refused(&v, "Kuota dokumen", &[]);
    let (_, v) = admin.get("/api/v1/documents").await;
    assert_eq!(v["meta"]["total"], 1);

    // --- the framework's refusals take the seed's shape too.
    let (s, v) = admin.en().get("/api/v1/nothing-here").await;
    assert_eq!(s, 404);
    assert_refused(&v, "Not found", &[]);
    let (s, v) = admin.delete("/api/v1/me").await;
    assert_eq!(s, 405);
    assert_refused(&v, "Metode tidak diizinkan", &[]);
    app.stop().await;
}

/// Lontar: 60 requests a minute per token, counted in the database that two instances share.
async fn rate_limits_are_shared_by_two_instances(backend: Backend) {
    let a = spawn(backend).await;
    let b = start(a.fresh.clone(), a.clock.clone(), a.config.clone()).await;
    let tn = tenant(&a, "lontar", Plan::Lontar).await;
    a.clock.set(t("2031-03-10T08:00:15Z"));
    for i in 1..=60u64 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = me_as(app, &tn.admin_token).await;
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(r.headers()["x-ratelimit-limit"], "60");
        assert_eq!(
            r.headers()["x-ratelimit-remaining"],
            (60 - i).to_string().as_str()
        );
    }
    for app in [&a, &b] {
        let r = me_as(app, &tn.admin_token).await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "45");
        assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
        let (_, v) = json(r).await;
        assert_refused(
            &v,
            "Terlalu banyak permintaan. Coba lagi dalam 45 detik.",
            &[],
        );
    }
    // The public check is limited per address, not per token.
    a.clock.set(t("2031-03-10T08:01:00Z"));
    let r = a
        .get("/api/v1/me")
        .header("authorization", bearer(&tn.admin_token))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a new minute");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "59");
    for i in 0..60 {
        let (s, _) = As::new(&b, None).get("/api/v1/verify/abc").await;
        assert_eq!(s, 422, "look-up {i}");
    }
    let r = a
        .get("/api/v1/verify/abc")
        .header("x-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    let (_, v) = json(r).await;
    assert_refused(&v, "Too many requests. Try again in 60 seconds.", &[]);
    b.stop().await;
    a.stop().await;
}

/// Both signers of a document sign at the same moment: each signature lands on the version
/// with the other's (the one recorded second is made again on the newer version), and the
/// download carries both.
async fn signers_at_the_same_moment_both_land(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "serentak", Plan::Piagam).await;
    let pdf = pdf_with_pages(&["Kontrak"]);
    let form = document_form(
        Some("Serentak"),
        Some(("serentak.pdf", pdf)),
        &[
            ("John Doe", "john@example.com"),
            ("Jane Smith", "jane@example.com"),
        ],
    );
    let (s, v) = post_multipart(&app, "/api/v1/documents", &tn.admin_token, form).await;
    assert_eq!(s, 201, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let admin = As::new(&app, Some(tn.admin_token.as_str()));
    let (s, _) = admin.post(&format!("/api/v1/documents/{id}/send")).await;
    assert_eq!(s, 200);
    let (john, jane) = (
        link_mailed_to(&app, tn.org.id, "john@example.com").await,
        link_mailed_to(&app, tn.org.id, "jane@example.com").await,
    );
    let core = &app.state.core;
    let visit = paraf_core::envelopes::Visit::default();
    let (a, b) = tokio::join!(
        core.sign(token_of(&john), typed("John Doe"), &visit),
        core.sign(token_of(&jane), typed("Jane Smith"), &visit),
    );
    a.unwrap();
    b.unwrap();
    let (_, signed) = completed(&app, &tn.admin_token, &id).await;
    outside_validators_accept(&app, &signed, 2).await;
    let (_, v) = As::new(&app, None)
        .get(&format!("/api/v1/verify/{}", sha256_hex(&signed)))
        .await;
    assert_eq!(v["data"]["signers"].as_array().unwrap().len(), 2, "{v}");
    app.stop().await;
}

/// With principals cached (as in production), a token revoked through the core stops at once,
/// and the plan's counters still hold across requests.
async fn cached_tokens_stop_when_revoked(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.cache_ttl = std::time::Duration::from_secs(60)
    })
    .await;
    let tn = tenant(&app, "cache", Plan::Lontar).await;
    let core = &app.state.core;
    let (token, secret) = core
        .create_personal_token(
            tn.org.id,
            tn.admin.id,
            "Backend ERP",
            &paraf_core::Actor::cli(),
        )
        .await
        .unwrap();
    let secret = secret.expose().to_string();
    for i in 1..=3u64 {
        let r = me_as(&app, &secret).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["x-ratelimit-remaining"],
            (60 - i).to_string().as_str()
        );
    }
    core.revoke_personal_token(tn.org.id, tn.admin.id, token.id, &paraf_core::Actor::cli())
        .await
        .unwrap();
    assert_eq!(me_as(&app, &secret).await.status(), 401);
    app.stop().await;
}

crate::both_backends!(
    signers_at_the_same_moment_both_land,
    cached_tokens_stop_when_revoked,
    account_documents_contacts_and_verification,
    rate_limits_are_shared_by_two_instances,
);
