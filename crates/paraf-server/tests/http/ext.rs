//! `/ext/v1` (issue 15): each seed-004 convention and its failure — the application key, the
//! request id and its replay, the language, the Ed25519 request signature — and the token
//! chain (login, new access token, new refresh token, logout), each token refused where
//! another is expected, a rotated refresh token's reuse ending the chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::app_keys::signing_string;
use paraf_core::audit::Actor;
use paraf_domain::Plan;
use serde_json::{json, Value};

use crate::common::*;

/// A reply: status, headers, body (as JSON, and as sent).
pub(crate) struct Got {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) bytes: Vec<u8>,
}

impl Got {
    #[track_caller]
    pub(crate) fn is(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            (self.status, self.body["code"].as_str().unwrap_or_default()),
            (status, code),
            "{}",
            self.body
        );
        assert!(
            !self.body["message"].as_str().unwrap_or_default().is_empty(),
            "{}",
            self.body
        );
        assert!(self.body.get("data").is_some(), "{}", self.body);
        &self.body["data"]
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request: `headers` as given (nothing added).
pub(crate) async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Got {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = app.http.request(m, app.at(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    Got {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes: bytes.to_vec(),
    }
}

/// A client of one application key: fresh request ids, optional signing.
pub(crate) struct Client<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) key: String,
    pub(crate) pem: Option<String>,
    pub(crate) n: std::cell::Cell<u32>,
}

impl Client<'_> {
    pub(crate) fn next_id(&self) -> String {
        self.n.set(self.n.get() + 1);
        format!("req-{}-{}", &self.key[10..16], self.n.get())
    }

    /// With a fresh request id and, when the client has a key, its signature.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> Got {
        let id = self.next_id();
        self.send_as(&id, method, path, extra, body).await
    }

    /// `method path` with `Authorization: Bearer token`.
    async fn bearer(&self, method: &str, path: &str, token: &str) -> Got {
        let auth = format!("Bearer {token}");
        self.send(method, path, &[("authorization", &auth)], None)
            .await
    }

    /// `GET /ext/v1/me` with an access token and a user token.
    async fn me(&self, access: &str, user_token: &str) -> Got {
        let auth = format!("Bearer {access}");
        self.send(
            "GET",
            "/ext/v1/me",
            &[("authorization", &auth), ("x-user-token", user_token)],
            None,
        )
        .await
    }

    /// `POST /ext/v1/verify` with a raw PDF body.
    async fn post_pdf(&self, pdf: Vec<u8>, token: Option<&str>) -> (u16, Value) {
        self.post_pdf_to("/ext/v1/verify", pdf, token).await
    }

    async fn post_pdf_to(&self, path: &str, pdf: Vec<u8>, token: Option<&str>) -> (u16, Value) {
        let mut r = self
            .app
            .http
            .post(self.app.at(path))
            .header("x-app-key", &self.key)
            .header("x-request-id", self.next_id())
            .header("content-type", "application/pdf")
            .body(pdf);
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    pub(crate) async fn send_as(
        &self,
        id: &str,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> Got {
        let sig = self.pem.as_ref().map(|pem| {
            paraf_testkit::tools::ed25519_sign(
                pem,
                &signing_string(method, path, id, body.unwrap_or("").as_bytes()),
            )
        });
        let mut h: Vec<(&str, &str)> = vec![("x-app-key", &self.key), ("x-request-id", id)];
        if let Some(s) = &sig {
            h.push(("x-signature", s));
        }
        h.extend_from_slice(extra);
        call(self.app, method, path, &h, body).await
    }
}

async fn conventions_and_token_chain(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let core = &app.state.core;
    let erp = core
        .create_app_key(t.org.id, "ERP", false, &Actor::cli())
        .await
        .unwrap();
    let c = Client {
        app: &app,
        key: erp.app.app_key.clone(),
        pem: None,
        n: Default::default(),
    };
    let login_body = json!({"email": t.admin.email.as_str(), "password": PASSWORD}).to_string();

    // x-app-key: missing, unknown; the language of every message.
    let g = call(&app, "GET", "/ext/v1/me", &[("x-request-id", "r1")], None).await;
    g.is(401, "MISSING_APP_KEY");
    assert_eq!(g.header("content-language"), Some("id"));
    let id_text = g.body["message"].clone();
    let en = call(
        &app,
        "GET",
        "/ext/v1/me",
        &[("x-request-id", "r1"), ("x-language", "en")],
        None,
    )
    .await;
    en.is(401, "MISSING_APP_KEY");
    assert_eq!(en.header("content-language"), Some("en"));
    assert_ne!(en.body["message"], id_text);
    assert!(en.body["message"].as_str().unwrap().contains("required"));
    let fallback = call(
        &app,
        "GET",
        "/ext/v1/me",
        &[("x-request-id", "r1"), ("x-language", "xx")],
        None,
    )
    .await;
    assert_eq!(
        fallback.body["message"], id_text,
        "an unknown language is id"
    );
    // French, Italian, Spanish (a region subtag is fine).
    for (lang, tag, word) in [
        ("fr-FR", "fr", "obligatoire"),
        ("it", "it", "obbligatoria"),
        ("es", "es", "obligatoria"),
    ] {
        let g = call(
            &app,
            "GET",
            "/ext/v1/me",
            &[("x-request-id", "r1"), ("x-language", lang)],
            None,
        )
        .await;
        g.is(401, "MISSING_APP_KEY");
        assert_eq!(g.header("content-language"), Some(tag));
        assert!(
            g.body["message"].as_str().unwrap().contains(word),
            "{}",
            g.body
        );
    }
    call(
        &app,
        "GET",
        "/ext/v1/me",
        &[("x-app-key", "paraf_gak_nope"), ("x-request-id", "r1")],
        None,
    )
    .await
    .is(401, "INVALID_APP_KEY");
    // x-request-id: missing.
    call(&app, "GET", "/ext/v1/me", &[("x-app-key", &c.key)], None)
        .await
        .is(400, "MISSING_REQUEST_ID");
    // An unknown path keeps the envelope.
    c.send("GET", "/ext/v1/nope", &[], None)
        .await
        .is(404, "NOT_FOUND");

    // Login: bad input, wrong password, then the three tokens.
    let d = c
        .send(
            "POST",
            "/ext/v1/auth/login",
            &[],
            Some(r#"{"email": "x@y.z"}"#),
        )
        .await
        .is(400, "INVALID_FIELD")
        .clone();
    assert_eq!(d["field"], "password");
    c.send(
        "POST",
        "/ext/v1/auth/login",
        &[("x-language", "en")],
        Some(&json!({"email": t.admin.email.as_str(), "password": "salah"}).to_string()),
    )
    .await
    .is(401, "INVALID_CREDENTIALS");
    let login_id = c.next_id();
    let g = c
        .send_as(
            &login_id,
            "POST",
            "/ext/v1/auth/login",
            &[],
            Some(&login_body),
        )
        .await;
    let d = g.is(200, "OK").clone();
    let access = d["access_token"].as_str().unwrap().to_string();
    let refresh = d["refresh_token"].as_str().unwrap().to_string();
    let user_token = d["user_token"].as_str().unwrap().to_string();
    assert_eq!(g.header("x-user-token"), Some(user_token.as_str()));
    assert!(d["expires_in"].as_i64().unwrap() > 0);
    // The same request id again: tokens are shown once.
    let again = c
        .send_as(
            &login_id,
            "POST",
            "/ext/v1/auth/login",
            &[],
            Some(&login_body),
        )
        .await;
    again.is(409, "REQUEST_ID_USED");
    assert_eq!(again.header("x-idempotent-replay"), Some("true"));
    assert!(!again.body.to_string().contains(&access));

    // User data: the access token and the same session's user token.
    let bearer_access = format!("Bearer {access}");
    let me_id = c.next_id();
    let me = c
        .send_as(
            &me_id,
            "GET",
            "/ext/v1/me",
            &[
                ("authorization", &bearer_access),
                ("x-user-token", &user_token),
            ],
            None,
        )
        .await;
    let d = me.is(200, "OK").clone();
    assert_eq!(d["email"], t.admin.email.as_str());
    assert_eq!(d["organization"]["slug"], "kominfo");
    assert_eq!(me.header("x-idempotent-replay"), Some("false"));
    // Replayed: the same reply, marked; the same id for another request: 409.
    let replayed = c
        .send_as(
            &me_id,
            "GET",
            "/ext/v1/me",
            &[
                ("authorization", &bearer_access),
                ("x-user-token", &user_token),
            ],
            None,
        )
        .await;
    assert_eq!((replayed.status, &replayed.body), (200, &me.body));
    assert_eq!(replayed.header("x-idempotent-replay"), Some("true"));
    c.send_as(
        &me_id,
        "POST",
        "/ext/v1/auth/logout",
        &[("authorization", &bearer_access)],
        None,
    )
    .await
    .is(409, "REQUEST_ID_CONFLICT");
    c.bearer("GET", "/ext/v1/me", &access)
        .await
        .is(401, "MISSING_USER_TOKEN");
    c.send("GET", "/ext/v1/me", &[("x-user-token", &user_token)], None)
        .await
        .is(401, "MISSING_TOKEN");
    c.me(&refresh, &user_token)
        .await
        .is(401, "WRONG_TOKEN_TYPE");

    // Each token in its place only.
    c.bearer("POST", "/ext/v1/auth/token", &access)
        .await
        .is(401, "WRONG_TOKEN_TYPE");
    c.bearer("POST", "/ext/v1/auth/refresh-token", &refresh)
        .await
        .is(401, "WRONG_TOKEN_TYPE");
    c.bearer("POST", "/ext/v1/auth/logout", &user_token)
        .await
        .is(401, "WRONG_TOKEN_TYPE");

    // A new refresh token from the user token; a new access token from it (rotating).
    let d = c
        .bearer("POST", "/ext/v1/auth/refresh-token", &user_token)
        .await
        .is(200, "OK")
        .clone();
    let refresh2 = d["refresh_token"].as_str().unwrap().to_string();
    assert!(d.get("access_token").is_none());
    // The earlier refresh token stopped.
    c.bearer("POST", "/ext/v1/auth/token", &refresh)
        .await
        .is(401, "INVALID_TOKEN");
    let d = c
        .bearer("POST", "/ext/v1/auth/token", &refresh2)
        .await
        .is(200, "OK")
        .clone();
    let access3 = d["access_token"].as_str().unwrap().to_string();
    assert_ne!(d["refresh_token"].as_str().unwrap(), refresh2, "rotated");
    c.me(&access3, &user_token).await.is(200, "OK");
    // Reusing the rotated refresh token revokes the whole chain.
    c.bearer("POST", "/ext/v1/auth/token", &refresh2)
        .await
        .is(401, "REFRESH_TOKEN_REUSED");
    c.me(&access3, &user_token).await.is(401, "INVALID_TOKEN");

    // Another application key's tokens are not this key's; logout ends all three.
    let crm = core
        .create_app_key(t.org.id, "CRM", false, &Actor::cli())
        .await
        .unwrap();
    let other = Client {
        app: &app,
        key: crm.app.app_key.clone(),
        pem: None,
        n: Default::default(),
    };
    let d = c
        .send("POST", "/ext/v1/auth/login", &[], Some(&login_body))
        .await
        .is(200, "OK")
        .clone();
    let (a, u) = (
        d["access_token"].as_str().unwrap().to_string(),
        d["user_token"].as_str().unwrap().to_string(),
    );
    other.me(&a, &u).await.is(401, "INVALID_TOKEN");
    c.bearer("POST", "/ext/v1/auth/logout", &a)
        .await
        .is(200, "OK");
    c.me(&a, &u).await.is(401, "INVALID_TOKEN");
    c.bearer("POST", "/ext/v1/auth/refresh-token", &u)
        .await
        .is(401, "INVALID_TOKEN");

    // Passwords cannot be tried at network speed: attempts per key and e-mail are counted.
    let guess = json!({"email": t.signer.email.as_str(), "password": "tebakan"}).to_string();
    for _ in 0..paraf_core::app_keys::LOGIN_ATTEMPTS_PER_MINUTE {
        c.send("POST", "/ext/v1/auth/login", &[], Some(&guess))
            .await
            .is(401, "INVALID_CREDENTIALS");
    }
    c.send("POST", "/ext/v1/auth/login", &[], Some(&guess))
        .await
        .is(429, "TOO_MANY_REQUESTS");

    // A disabled key is refused.
    core.set_app_key_enabled(t.org.id, crm.app.id, false, &Actor::cli())
        .await
        .unwrap();
    other
        .send("POST", "/ext/v1/auth/login", &[], Some(&login_body))
        .await
        .is(401, "INVALID_APP_KEY");
    app.stop().await;
}

async fn signed_requests(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let k = app
        .state
        .core
        .create_app_key(t.org.id, "Bank", true, &Actor::cli())
        .await
        .unwrap();
    let pem = k.private_key_pem.expose().to_string();
    let signed = Client {
        app: &app,
        key: k.app.app_key.clone(),
        pem: Some(pem.clone()),
        n: Default::default(),
    };
    let unsigned = Client {
        app: &app,
        key: k.app.app_key.clone(),
        pem: None,
        n: Default::default(),
    };
    let body = json!({"email": t.admin.email.as_str(), "password": PASSWORD}).to_string();
    unsigned
        .send("POST", "/ext/v1/auth/login", &[], Some(&body))
        .await
        .is(401, "INVALID_SIGNATURE");
    // A signature over another body.
    let id = "sig-other-body";
    let sig = paraf_testkit::tools::ed25519_sign(
        &pem,
        &signing_string("POST", "/ext/v1/auth/login", id, b"{}"),
    );
    call(
        &app,
        "POST",
        "/ext/v1/auth/login",
        &[
            ("x-app-key", &k.app.app_key),
            ("x-request-id", id),
            ("x-signature", &sig),
        ],
        Some(&body),
    )
    .await
    .is(401, "INVALID_SIGNATURE");
    let d = signed
        .send("POST", "/ext/v1/auth/login", &[], Some(&body))
        .await
        .is(200, "OK")
        .clone();
    signed
        .me(
            d["access_token"].as_str().unwrap(),
            d["user_token"].as_str().unwrap(),
        )
        .await
        .is(200, "OK");
    // After a rotation the old private key's signatures are refused.
    app.state
        .core
        .rotate_app_key(t.org.id, k.app.id, &Actor::cli())
        .await
        .unwrap();
    signed
        .send("POST", "/ext/v1/auth/login", &[], Some(&body))
        .await
        .is(401, "INVALID_SIGNATURE");
    app.stop().await;
}

/// `POST /ext/v1/verify`: the validator's report on the raw PDF body, for an access token.
async fn verify_reports(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "kominfo", Plan::Nusantara).await;
    let k = app
        .state
        .core
        .create_app_key(t.org.id, "Arsip", false, &Actor::cli())
        .await
        .unwrap();
    let c = Client {
        app: &app,
        key: k.app.app_key.clone(),
        pem: None,
        n: Default::default(),
    };
    let body = json!({"email": t.admin.email.as_str(), "password": PASSWORD}).to_string();
    let d = c
        .send("POST", "/ext/v1/auth/login", &[], Some(&body))
        .await
        .is(200, "OK")
        .clone();
    let access = d["access_token"].as_str().unwrap().to_string();
    let signed = crate::bsre_verify::sign(&app, simple_pdf(), None);
    let (s, v) = c.post_pdf(signed.clone(), Some(&access)).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("OK")), "{v}");
    assert_eq!(v["data"]["indication"], "TOTAL_PASSED", "{v}");
    assert_eq!(v["data"]["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["document"]["size"], signed.len());
    let how = &v["data"]["signatures"][0]["trust"]["revocation"][0]["how"];
    assert!(how.as_str().unwrap().starts_with("checked: "), "{v}");
    // The request's revocation policy, or a clear refusal.
    let off = "/ext/v1/verify?revocation=off";
    let (s, v) = c.post_pdf_to(off, signed.clone(), Some(&access)).await;
    assert_eq!(
        (s, v["data"]["indication"].as_str()),
        (200, Some("TOTAL_PASSED")),
        "{v}"
    );
    let how = &v["data"]["signatures"][0]["trust"]["revocation"][0]["how"];
    assert!(how.as_str().unwrap().contains("checking is off"), "{v}");
    let bad = "/ext/v1/verify?revocation=lenient";
    let (s, v) = c.post_pdf_to(bad, signed.clone(), Some(&access)).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("INVALID_FIELD")), "{v}");
    assert_eq!(v["data"]["field"], "revocation", "{v}");
    let (s, v) = c.post_pdf(simple_pdf(), Some(&access)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["indication"], "NO_SIGNATURE", "{v}");
    let (s, v) = c.post_pdf(b"bukan pdf".to_vec(), Some(&access)).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("INVALID_FIELD")), "{v}");
    assert_eq!(v["data"]["field"], "body");
    let (s, v) = c.post_pdf(signed.clone(), None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("MISSING_TOKEN")), "{v}");
    let (s, v) = c.post_pdf(signed, d["refresh_token"].as_str()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("WRONG_TOKEN_TYPE")),
        "{v}"
    );
    app.stop().await;
}

crate::both_backends!(conventions_and_token_chain, signed_requests, verify_reports);
