//! `/ext/v1` envelopes (issue 15): made, refused with the field named (and nothing left
//! behind), edited while a draft, listed with filters and a cursor, sent (the links given
//! once), reminded, signed, downloaded (the outside validators accept the file), the audit
//! certificate and trail; cancel and delete; who may see what.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use paraf_core::audit::Actor;
use paraf_core::envelopes::Visit;
use paraf_domain::{Plan, Role};
use serde_json::{json, Value};

use crate::common::*;
use crate::envelopes::{outside_validators_accept, token_of, typed};
use crate::ext::{Client, Got};

/// A signed-in session of one user through one application key.
pub(crate) struct Session<'a> {
    pub(crate) c: Client<'a>,
    pub(crate) access: String,
    pub(crate) user_token: String,
}

impl<'a> Session<'a> {
    /// Signs `email` in through a new application key of `org`.
    pub(crate) async fn login(app: &'a TestApp, org: paraf_domain::OrgId, email: &str) -> Self {
        let k = app
            .state
            .core
            .create_app_key(org, "ERP", false, &Actor::cli())
            .await
            .unwrap();
        let c = Client {
            app,
            key: k.app.app_key.clone(),
            pem: None,
            n: Default::default(),
        };
        let body = json!({"email": email, "password": PASSWORD}).to_string();
        let d = c
            .send("POST", "/ext/v1/auth/login", &[], Some(&body))
            .await
            .is(200, "OK")
            .clone();
        Session {
            c,
            access: d["access_token"].as_str().unwrap().into(),
            user_token: d["user_token"].as_str().unwrap().into(),
        }
    }

    /// `method path` as this user, with a JSON body.
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Got {
        self.call_lang(method, path, body, "id").await
    }

    pub(crate) async fn call_lang(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        lang: &str,
    ) -> Got {
        let auth = format!("Bearer {}", self.access);
        let body = body.map(|b| b.to_string());
        self.c
            .send(
                method,
                path,
                &[
                    ("authorization", &auth),
                    ("x-user-token", &self.user_token),
                    ("x-language", lang),
                ],
                body.as_deref(),
            )
            .await
    }
}

pub(crate) fn b64(pdf: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(pdf)
}

/// Alice (group 1) then Bob (group 2) on a tagged contract.
pub(crate) fn contract(title: &str) -> Value {
    let pdf = pdf_with_pages(&["Pihak pertama <@signature1@>", "Pihak kedua <@signature2@>"]);
    json!({
        "title": title,
        "documents": [{"name": "kontrak.pdf", "content": b64(&pdf)}],
        "recipients": [
            {"email": "alice@example.com", "first_name": "Alice", "last_name": "Dupont", "group": 1},
            {"email": "bob@example.com", "first_name": "Bob", "last_name": "Santoso", "group": 2, "language": "en"}
        ],
        "metadata": {"erp_id": "PO-1"}
    })
}

async fn envelope_lifecycle(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let s = Session::login(&app, t.org.id, t.admin.email.as_str()).await;

    // Made as a draft: the tags gave the fields; recipients by group.
    let g = s
        .call("POST", "/ext/v1/envelopes", Some(contract("Kontrak A")))
        .await;
    let d = g.is(201, "OK").clone();
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["status"], "draft");
    assert_eq!(d["metadata"]["erp_id"], "PO-1");
    assert_eq!(d["groups"].as_array().unwrap().len(), 2);
    assert_eq!(d["groups"][1]["recipients"][0]["email"], "bob@example.com");
    assert_eq!(d["groups"][1]["recipients"][0]["status"], "waiting");
    assert_eq!(d["fields"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d["fields"][1]["recipient"], 2);
    assert_eq!(d["documents"][0]["pages"], 2);

    // Refusals name the field, in the request's language, and leave nothing behind.
    let mut bad = contract("X");
    bad["recipients"][0]["email"] = json!("bukan-email");
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad.clone())).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "recipients[0].email");
    assert_eq!(g.body["message"], "Isian tidak valid");
    let g = s
        .call_lang("POST", "/ext/v1/envelopes", Some(bad), "en")
        .await;
    assert_eq!(g.body["message"], "A field is not valid");
    let mut bad = contract("X");
    bad["colour"] = json!("red");
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    let data = g.is(400, "INVALID_FIELD");
    assert_eq!(data["field"], "body");
    assert!(
        data["reason"].as_str().unwrap().contains("colour"),
        "{data}"
    );
    let mut bad = contract("X");
    bad["documents"][0]["content"] = json!(b64(b"bukan pdf"));
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "documents[0].content");
    let mut bad = contract("X");
    bad["documents"][0] = json!({"url": app.at("/health")});
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    let data = g.is(400, "INVALID_FIELD");
    assert_eq!(data["field"], "documents[0].url", "{data}");
    let mut bad = contract("X");
    bad["recipients"][1]["group"] = json!(3);
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "recipients");
    let mut bad = contract("X");
    bad["fields"] = json!([{"document": 1, "recipient": 1, "page": 9, "x": 10, "y": 10, "width": 100, "height": 40}]);
    bad["send"] = json!(true);
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "fields");
    let mut bad = contract("X");
    bad["documents"][0]["content"] = json!(b64(b"%PDF-1.7\nrusak sama sekali"));
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "documents");
    let mut bad = contract("X");
    bad["reminder_days"] = json!(200_000_000);
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "reminder_days");
    for (field, name) in [
        (
            json!({"document": 3, "recipient": 1, "page": 1, "x": 1, "y": 1, "width": 9, "height": 9}),
            "fields[0].document",
        ),
        (
            json!({"document": 1, "recipient": 5, "page": 1, "x": 1, "y": 1, "width": 9, "height": 9}),
            "fields[0].recipient",
        ),
        (
            json!({"document": 1, "recipient": 1, "page": 1, "x": -5, "y": 1, "width": 9, "height": 9}),
            "fields[0].x",
        ),
        (
            json!({"document": 1, "recipient": 1, "page": 1, "x": 1e308, "y": 1, "width": 1e308, "height": 9}),
            "fields[0].x",
        ),
        (
            json!({"document": 1, "recipient": 1, "page": 1, "unit": "percent", "x": 1, "y": 1, "width": 9}),
            "fields[0].height",
        ),
    ] {
        let mut bad = contract("X");
        bad["fields"] = json!([field]);
        let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
        assert_eq!(g.is(400, "INVALID_FIELD")["field"], name);
    }
    let mut bad = contract("X");
    let one = bad["documents"][0].clone();
    bad["documents"] = json!(vec![one; 21]);
    let g = s.call("POST", "/ext/v1/envelopes", Some(bad)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "documents");
    let g = s.call("GET", "/ext/v1/envelopes?limit=abc", None).await;
    let data = g.is(400, "INVALID_FIELD");
    assert!(data["reason"].as_str().unwrap().contains("limit"), "{data}");
    let g = s.call("GET", "/ext/v1/envelopes", None).await;
    let list = g.is(200, "OK")["items"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");

    // Edited while a draft: header, documents, fields by hand and back to tags. Edits do
    // not count the documents against the quotas again.
    let path = format!("/ext/v1/envelopes/{id}");
    let (_, before) = app.state.core.quota(t.org.id).await.unwrap();
    for title in ["Satu", "Dua", "Tiga"] {
        let g = s.call("PATCH", &path, Some(json!({"title": title}))).await;
        g.is(200, "OK");
    }
    let (_, after) = app.state.core.quota(t.org.id).await.unwrap();
    assert_eq!(
        (after.documents, after.storage_bytes),
        (before.documents, before.storage_bytes)
    );
    let g = s
        .call(
            "PATCH",
            &path,
            Some(json!({"title": "Kontrak A (rev)", "reminder_days": 2})),
        )
        .await;
    assert_eq!(g.is(200, "OK")["title"], "Kontrak A (rev)");
    let g = s
        .call(
            "POST",
            &format!("{path}/documents"),
            Some(json!([{"name": "lampiran.pdf", "content": b64(&simple_pdf())}])),
        )
        .await;
    let d = g.is(200, "OK");
    assert_eq!(d["documents"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d["documents"][1]["name"], "lampiran.pdf");
    let g = s
        .call(
            "PUT",
            &format!("{path}/fields"),
            Some(json!([
                {"document": 1, "recipient": 1, "page": 1, "x": 72, "y": 600, "width": 150, "height": 50},
                {"document": 2, "recipient": 2, "page": 1, "unit": "percent", "x": 10, "y": 80, "width": 30, "height": 10, "name": "ttd_bob"}
            ])),
        )
        .await;
    let d = g.is(200, "OK");
    let fields = d["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 2, "{d}");
    assert_eq!(
        (fields[0]["x"].as_f64(), fields[0]["width"].as_f64()),
        (Some(72.0), Some(150.0))
    );
    assert_eq!(fields[1]["name"], "ttd_bob");
    assert_eq!(fields[1]["document"], 2);
    let g = s.call("DELETE", &format!("{path}/documents/2"), None).await;
    let d = g.is(200, "OK");
    assert_eq!(d["documents"].as_array().unwrap().len(), 1);
    assert_eq!(d["fields"].as_array().unwrap().len(), 1, "{d}");
    let g = s
        .call("PUT", &format!("{path}/fields"), Some(json!([])))
        .await;
    assert_eq!(g.is(200, "OK")["fields"].as_array().unwrap().len(), 2);
    let g = s.call("DELETE", &format!("{path}/documents/7"), None).await;
    g.is(404, "NOT_FOUND");

    // Sent: the links once; a repeated request id does not give them again.
    let auth = format!("Bearer {}", s.access);
    let h = [
        ("authorization", auth.as_str()),
        ("x-user-token", s.user_token.as_str()),
    ];
    let rid = s.c.next_id();
    let g =
        s.c.send_as(&rid, "POST", &format!("{path}/send"), &h, None)
            .await;
    let d = g.is(200, "OK").clone();
    assert_eq!(d["envelope"]["status"], "sent");
    let links = d["links"].as_array().unwrap().clone();
    assert_eq!(links.len(), 2);
    let g =
        s.c.send_as(&rid, "POST", &format!("{path}/send"), &h, None)
            .await;
    g.is(409, "REQUEST_ID_USED");
    let g = s.call("POST", &format!("{path}/send"), None).await;
    let data = g.is(409, "CONFLICT");
    assert!(data["reason"].as_str().unwrap().contains("sent"), "{data}");
    let g = s
        .call("PUT", &format!("{path}/recipients"), Some(json!([])))
        .await;
    g.is(409, "CONFLICT");

    // Reminded; a link for Bob only once Alice has signed.
    let g = s.call("POST", &format!("{path}/remind"), None).await;
    assert_eq!(g.is(200, "OK")["reminded"], 1);
    let g = s
        .call("POST", &format!("{path}/recipients/2/link"), None)
        .await;
    g.is(409, "CONFLICT");
    let core = &app.state.core;
    let alice = links[0]["url"].as_str().unwrap();
    core.sign(token_of(alice), typed("Alice Dupont"), &Visit::default())
        .await
        .unwrap();
    let g = s
        .call("POST", &format!("{path}/recipients/2/link"), None)
        .await;
    let bob = g.is(200, "OK")["url"].as_str().unwrap().to_string();
    let done = core
        .sign(token_of(&bob), typed("Bob Santoso"), &Visit::default())
        .await
        .unwrap();
    assert_eq!(done.status.as_str(), "completed");

    // Completed: the signed PDF (both validators accept it), the original, the certificate,
    // the trail.
    let g = s.call("GET", &path, None).await;
    let d = g.is(200, "OK");
    assert_eq!(d["status"], "completed");
    assert!(d["groups"][0]["recipients"][0]["signed_at"].is_string());
    let g = s.call("GET", &format!("{path}/download"), None).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.header("content-type"), Some("application/pdf"));
    assert_eq!(g.header("x-envelope-status"), Some("completed"));
    outside_validators_accept(&app, &g.bytes, 2).await;
    let g = s
        .call("GET", &format!("{path}/documents/1?version=original"), None)
        .await;
    assert_eq!(g.status, 200);
    assert!(g.bytes.starts_with(b"%PDF"));
    let g = s
        .call("GET", &format!("{path}/download?document=4"), None)
        .await;
    g.is(404, "NOT_FOUND");
    let g = s.call("GET", &format!("{path}/certificate"), None).await;
    assert_eq!(g.header("content-type"), Some("application/pdf"));
    assert!(g.bytes.starts_with(b"%PDF"));
    let g = s
        .call("GET", &format!("{path}/certificate?format=json"), None)
        .await;
    assert!(g.is(200, "OK").is_object());
    let g = s.call("GET", &format!("{path}/audit"), None).await;
    let trail = g.is(200, "OK").as_array().unwrap().clone();
    let actions: Vec<&str> = trail
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"envelope.sent"), "{actions:?}");
    assert!(trail
        .iter()
        .all(|a| a["hash"].as_str().unwrap().len() == 64));
    assert!(trail
        .iter()
        .any(|a| a["actor"] == format!("user:{}", t.admin.id)));
    let g = s.call("POST", &format!("{path}/cancel"), None).await;
    g.is(409, "CONFLICT");
    app.stop().await;
}

async fn envelope_lists_and_access(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let admin = Session::login(&app, t.org.id, t.admin.email.as_str()).await;
    let instructor = add_user(&app, t.org.id, "guru@kominfo.example", Role::Instructor).await;
    let teacher = Session::login(&app, t.org.id, instructor.email.as_str()).await;
    let signer = Session::login(&app, t.org.id, t.signer.email.as_str()).await;

    let mut ids = Vec::new();
    for title in ["Kontrak A", "Kontrak B", "Surat C", "Kontrak D"] {
        let g = admin
            .call("POST", "/ext/v1/envelopes", Some(contract(title)))
            .await;
        ids.push(g.is(201, "OK")["id"].as_str().unwrap().to_string());
    }
    let mine = teacher
        .call("POST", "/ext/v1/envelopes", Some(contract("Milik guru")))
        .await;
    let mine = mine.is(201, "OK")["id"].as_str().unwrap().to_string();

    // Pages newest first, by cursor; filters.
    let g = admin.call("GET", "/ext/v1/envelopes?limit=2", None).await;
    let d = g.is(200, "OK").clone();
    let titles = |d: &Value| -> Vec<String> {
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(&d), ["Milik guru", "Kontrak D"]);
    let cursor = d["next_cursor"].as_str().unwrap();
    let g = admin
        .call(
            "GET",
            &format!("/ext/v1/envelopes?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let d = g.is(200, "OK").clone();
    assert_eq!(titles(&d), ["Surat C", "Kontrak B"]);
    let cursor = d["next_cursor"].as_str().unwrap();
    let g = admin
        .call(
            "GET",
            &format!("/ext/v1/envelopes?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let d = g.is(200, "OK").clone();
    assert_eq!(titles(&d), ["Kontrak A"]);
    assert!(d["next_cursor"].is_null());
    let g = admin.call("GET", "/ext/v1/envelopes?q=kontrak", None).await;
    assert_eq!(titles(g.is(200, "OK")).len(), 3);
    let g = admin
        .call("GET", "/ext/v1/envelopes?cursor=bm9wZQ", None)
        .await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "cursor");
    let g = admin
        .call("GET", "/ext/v1/envelopes?status=draft,melayang", None)
        .await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "status");
    let g = admin.call("GET", "/ext/v1/envelopes?limit=500", None).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "limit");

    // Several documents, two of the same name: one ZIP of them all.
    let mut three = contract("Tiga dokumen");
    let one = three["documents"][0].clone();
    three["documents"] = json!([one.clone(), one.clone(), one]);
    three["documents"][2]["name"] = json!("2-kontrak.pdf");
    let g = admin.call("POST", "/ext/v1/envelopes", Some(three)).await;
    let zipped = g.is(201, "OK")["id"].as_str().unwrap().to_string();
    let g = admin
        .call("GET", &format!("/ext/v1/envelopes/{zipped}/download"), None)
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(g.header("content-type"), Some("application/zip"));
    let entries = g.bytes.windows(4).filter(|w| w == b"PK\x01\x02").count();
    assert_eq!(entries, 3);
    let g = admin
        .call("DELETE", &format!("/ext/v1/envelopes/{zipped}"), None)
        .await;
    g.is(200, "OK");
    // A cursor stays valid when its envelope is deleted meanwhile.
    let g = admin
        .call("POST", "/ext/v1/envelopes", Some(contract("Sementara")))
        .await;
    let brief = g.is(201, "OK")["id"].as_str().unwrap().to_string();
    let g = admin.call("GET", "/ext/v1/envelopes?limit=1", None).await;
    let d = g.is(200, "OK").clone();
    assert_eq!(titles(&d), ["Sementara"]);
    let cursor = d["next_cursor"].as_str().unwrap().to_string();
    let g = admin
        .call("DELETE", &format!("/ext/v1/envelopes/{brief}"), None)
        .await;
    g.is(200, "OK");
    let g = admin
        .call(
            "GET",
            &format!("/ext/v1/envelopes?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(titles(g.is(200, "OK")), ["Milik guru"]);

    // Cancel (with a reason) and delete; the list follows.
    let g = admin
        .call(
            "POST",
            &format!("/ext/v1/envelopes/{}/cancel", ids[1]),
            Some(json!({"reason": "salah alamat"})),
        )
        .await;
    let d = g.is(200, "OK");
    assert_eq!(
        (d["status"].as_str(), d["status_reason"].as_str()),
        (Some("cancelled"), Some("salah alamat"))
    );
    let g = admin
        .call("GET", "/ext/v1/envelopes?status=cancelled", None)
        .await;
    assert_eq!(titles(g.is(200, "OK")), ["Kontrak B"]);
    let g = admin
        .call("DELETE", &format!("/ext/v1/envelopes/{}", ids[2]), None)
        .await;
    g.is(200, "OK");
    let g = admin
        .call("GET", &format!("/ext/v1/envelopes/{}", ids[2]), None)
        .await;
    g.is(404, "NOT_FOUND");

    // An instructor sees their own only; a signer nothing; another organisation nothing.
    let g = teacher.call("GET", "/ext/v1/envelopes", None).await;
    assert_eq!(titles(g.is(200, "OK")), ["Milik guru"]);
    let g = teacher
        .call("GET", &format!("/ext/v1/envelopes/{}", ids[0]), None)
        .await;
    g.is(404, "NOT_FOUND");
    let g = admin
        .call("GET", &format!("/ext/v1/envelopes/{mine}"), None)
        .await;
    g.is(200, "OK");
    let g = signer.call("GET", "/ext/v1/envelopes", None).await;
    g.is(403, "FORBIDDEN");
    let other = tenant(&app, "bappenas", Plan::Nusantara).await;
    let outsider = Session::login(&app, other.org.id, other.admin.email.as_str()).await;
    let g = outsider
        .call("GET", &format!("/ext/v1/envelopes/{}", ids[0]), None)
        .await;
    g.is(404, "NOT_FOUND");
    let g = outsider.call("GET", "/ext/v1/envelopes", None).await;
    assert!(g.is(200, "OK")["items"].as_array().unwrap().is_empty());

    // Another face's envelope is not this API's.
    let console = app
        .state
        .core
        .create_envelope(
            t.org.id,
            crate::envelopes::draft(
                simple_pdf(),
                vec![crate::envelopes::signer("a@example.com", 1, "id")],
            ),
            &Actor::cli(),
        )
        .await
        .unwrap();
    let g = admin
        .call("GET", &format!("/ext/v1/envelopes/{}", console.uuid), None)
        .await;
    g.is(404, "NOT_FOUND");

    // A request id replays only to the credentials that sent it: the same key with another
    // user's tokens gets a conflict, not the first user's reply.
    let body = json!({"email": instructor.email.as_str(), "password": PASSWORD}).to_string();
    let t2 = admin
        .c
        .send("POST", "/ext/v1/auth/login", &[], Some(&body))
        .await
        .is(200, "OK")
        .clone();
    let rid = admin.c.next_id();
    let list_as = |access: String, user_token: String| {
        let (c, rid) = (&admin.c, rid.clone());
        async move {
            let auth = format!("Bearer {access}");
            let h = [
                ("authorization", auth.as_str()),
                ("x-user-token", &user_token),
            ];
            c.send_as(&rid, "GET", "/ext/v1/envelopes", &h, None).await
        }
    };
    let mine = || list_as(admin.access.clone(), admin.user_token.clone());
    mine().await.is(200, "OK");
    let again = mine().await;
    assert_eq!(again.header("x-idempotent-replay"), Some("true"));
    let other = list_as(
        t2["access_token"].as_str().unwrap().into(),
        t2["user_token"].as_str().unwrap().into(),
    )
    .await;
    other.is(409, "REQUEST_ID_CONFLICT");

    // The user token is needed, of the same session.
    let auth = format!("Bearer {}", admin.access);
    let g = admin
        .c
        .send(
            "GET",
            "/ext/v1/envelopes",
            &[("authorization", &auth)],
            None,
        )
        .await;
    g.is(401, "MISSING_USER_TOKEN");
    let g = admin
        .c
        .send(
            "GET",
            "/ext/v1/envelopes",
            &[
                ("authorization", &auth),
                ("x-user-token", &teacher.user_token),
            ],
            None,
        )
        .await;
    assert_eq!(g.status, 401, "{}", g.body);
    app.stop().await;
}

async fn templates_and_webhooks(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let admin = Session::login(&app, t.org.id, t.admin.email.as_str()).await;
    let instructor = add_user(&app, t.org.id, "guru@kominfo.example", Role::Instructor).await;
    let teacher = Session::login(&app, t.org.id, instructor.email.as_str()).await;
    let rx = paraf_testkit::webhook::Receiver::start(vec![200]).await;

    // A webhook endpoint: its secret once; admins only; hostile URLs refused.
    let body = json!({"url": rx.url, "events": ["envelope.completed"], "description": "ERP"});
    let auth = format!("Bearer {}", admin.access);
    let h = [
        ("authorization", auth.as_str()),
        ("x-user-token", admin.user_token.as_str()),
    ];
    let rid = admin.c.next_id();
    let text = body.to_string();
    let g = admin
        .c
        .send_as(&rid, "POST", "/ext/v1/webhooks", &h, Some(&text))
        .await;
    let d = g.is(201, "OK").clone();
    let secret = d["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{d}");
    let hook = d["endpoint"]["id"].as_i64().unwrap();
    assert_eq!(d["endpoint"]["events"], json!(["envelope.completed"]));
    let g = admin
        .c
        .send_as(&rid, "POST", "/ext/v1/webhooks", &h, Some(&text))
        .await;
    g.is(409, "REQUEST_ID_USED");
    let g = admin
        .call(
            "POST",
            "/ext/v1/webhooks",
            Some(json!({"url": "ftp://example.com/x"})),
        )
        .await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "url");
    let g = admin
        .call(
            "POST",
            "/ext/v1/webhooks",
            Some(json!({"url": "https://example.com/h", "events": ["kue!"]})),
        )
        .await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "events");
    let g = teacher.call("GET", "/ext/v1/webhooks", None).await;
    g.is(403, "FORBIDDEN");
    let g = admin.call("GET", "/ext/v1/webhooks", None).await;
    let list = g.is(200, "OK").as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert!(list[0].get("secret").is_none());

    // A template: never sent, not among envelopes; instantiated with other recipients.
    let g = teacher
        .call("POST", "/ext/v1/templates", Some(contract("Templat NDA")))
        .await;
    let tpl = g.is(201, "OK").clone();
    assert_eq!(tpl["template"], true);
    let tpl = tpl["id"].as_str().unwrap().to_string();
    let mut sent = contract("X");
    sent["send"] = json!(true);
    let g = teacher.call("POST", "/ext/v1/templates", Some(sent)).await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "send");
    let g = teacher.call("GET", "/ext/v1/templates", None).await;
    assert_eq!(g.is(200, "OK")["items"].as_array().unwrap().len(), 1);
    let g = teacher.call("GET", "/ext/v1/envelopes", None).await;
    assert!(g.is(200, "OK")["items"].as_array().unwrap().is_empty());
    let g = teacher
        .call("POST", &format!("/ext/v1/envelopes/{tpl}/send"), None)
        .await;
    g.is(409, "CONFLICT");
    let g = teacher
        .call(
            "POST",
            &format!("/ext/v1/templates/{tpl}/envelopes"),
            Some(json!({"recipients": [{"email": "carol@example.com", "first_name": "Carol"}]})),
        )
        .await;
    assert_eq!(g.is(400, "INVALID_FIELD")["field"], "recipients");
    let g = teacher
        .call(
            "POST",
            &format!("/ext/v1/templates/{tpl}/envelopes"),
            Some(json!({
                "title": "NDA Carol",
                "recipients": [
                    {"email": "carol@example.com", "first_name": "Carol"},
                    {"email": "dave@example.com", "first_name": "Dave", "group": 2}
                ],
                "send": true
            })),
        )
        .await;
    let d = g.is(200, "OK").clone();
    assert_eq!(d["envelope"]["title"], "NDA Carol");
    assert_eq!(d["envelope"]["template"], false);
    assert_eq!(d["envelope"]["fields"].as_array().unwrap().len(), 2);
    let env = d["envelope"]["id"].as_str().unwrap().to_string();
    let g = teacher
        .call("GET", &format!("/ext/v1/templates/{env}"), None)
        .await;
    g.is(404, "NOT_FOUND");
    let core = &app.state.core;
    for (i, name) in [(0, "Carol"), (1, "Dave")] {
        let url = d["links"][i]["url"].as_str().unwrap();
        core.sign(token_of(url), typed(name), &Visit::default())
            .await
            .unwrap();
    }

    // The completion reached the endpoint, signed with its secret; its deliveries; again.
    eventually(20, "the webhook", || async {
        (!rx.is_empty()).then_some(())
    })
    .await;
    let got = rx.deliveries();
    assert!(got[0].signed_by(&secret));
    assert_eq!(got[0].json()["type"], "envelope.completed");
    let path = format!("/ext/v1/webhooks/{hook}/deliveries");
    let list = eventually(20, "the delivery record", || async {
        let g = admin.call("GET", &path, None).await;
        let list = g.is(200, "OK").as_array().unwrap().clone();
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(list[0]["succeeded"], true, "{list:?}");
    assert_eq!(list[0]["status_code"], 200);
    let delivery = list[0]["id"].as_i64().unwrap();
    let g = admin
        .call(
            "POST",
            &format!("/ext/v1/webhooks/deliveries/{delivery}/redeliver"),
            None,
        )
        .await;
    assert!(g.is(200, "OK")["job"].is_i64());
    eventually(20, "the second delivery", || async {
        (rx.len() >= 2).then_some(())
    })
    .await;

    // Rotated (a new secret), disabled, deleted.
    let g = admin
        .call("POST", &format!("/ext/v1/webhooks/{hook}/rotate"), None)
        .await;
    let d = g.is(200, "OK");
    assert_ne!(d["secret"].as_str().unwrap(), secret);
    assert!(d["endpoint"]["previous_secret_until"].is_string());
    let g = admin
        .call("POST", &format!("/ext/v1/webhooks/{hook}/disable"), None)
        .await;
    assert_eq!(g.is(200, "OK")["enabled"], false);
    let g = admin
        .call("DELETE", &format!("/ext/v1/webhooks/{hook}"), None)
        .await;
    g.is(200, "OK");
    let g = admin
        .call("GET", &format!("/ext/v1/webhooks/{hook}"), None)
        .await;
    g.is(404, "NOT_FOUND");
    let g = teacher
        .call("DELETE", &format!("/ext/v1/templates/{tpl}"), None)
        .await;
    g.is(200, "OK");
    app.stop().await;
}

crate::both_backends!(
    envelope_lifecycle,
    envelope_lists_and_access,
    templates_and_webhooks
);
