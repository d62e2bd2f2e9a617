//! The GesDocs dialect (seed 002) over HTTP: register (an organisation of one's own), login by
//! e-mail, personal API tokens (shown once, listed without secret, revoked), `meta`, and every
//! refusal in the seed's error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common::*;

async fn post_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(app.post(path).json(&body).send().await.unwrap()).await
}

async fn with_token(app: &TestApp, method: &str, path: &str, token: &str) -> (u16, Value) {
    let req = match method {
        "GET" => app.get(path),
        "DELETE" => app.http.delete(app.at(path)),
        _ => app.post(path),
    };
    json(
        req.header("authorization", bearer(token))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn assert_error(v: &Value, message: &str) {
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["message"], message, "{v}");
}

async fn register_login_and_personal_tokens(backend: Backend) {
    let app = spawn_with(backend, |c| c.registration_open = true).await;
    let john = json!({
        "name": "John Doe",
        "email": "john.doe@example.com",
        "password": "password123",
        "password_confirmation": "password123"
    });
    let (s, v) = post_json(&app, "/api/register", john.clone()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["message"], "User created successfully.");
    let first = v["token"].as_str().unwrap().to_string();
    // The token works at once.
    let (s, v) = with_token(&app, "GET", "/api/tokens", &first).await;
    assert_eq!((s, &v["data"]), (200, &json!([])), "{v}");

    // The same e-mail again: the seed's error, naming the field.
    let (s, v) = post_json(&app, "/api/register", john).await;
    assert_eq!(s, 422, "{v}");
    assert_error(&v, "Validation error");
    assert_eq!(
        v["errors"]["email"],
        json!(["The email address is already used."])
    );
    // Everything missing or wrong is reported at once.
    let (s, v) = post_json(&app, "/api/register", json!({})).await;
    assert_eq!(s, 422);
    for f in ["name", "email", "password"] {
        assert_eq!(
            v["errors"][f],
            json!([format!("The {f} field is required.")]),
            "{v}"
        );
    }
    let (s, v) = post_json(
        &app,
        "/api/register",
        json!({"name": "X", "email": "not-an-email", "password": "short", "password_confirmation": "other"}),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(
        v["errors"]["email"],
        json!(["The email field must be a valid email address."])
    );
    assert_eq!(
        v["errors"]["password"],
        json!([
            "The password field must be at least 8 characters.",
            "The password field confirmation does not match."
        ])
    );
    // A form works too (GesDocs accepts both).
    let r = app
        .post("/api/register")
        .form(&[
            ("name", "Alice Dupont"),
            ("email", "alice@example.fr"),
            ("password", "motdepasse-alice"),
            ("password_confirmation", "motdepasse-alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Login by e-mail alone (several organisations: the one with this e-mail).
    let (s, v) = post_json(
        &app,
        "/api/login",
        json!({"email": "john.doe@example.com", "password": "password123"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    assert_eq!(v.as_object().unwrap().len(), 1, "only the token: {v}");
    for bad in [
        json!({"email": "john.doe@example.com", "password": "wrong password"}),
        json!({"email": "nobody@example.com", "password": "password123"}),
    ] {
        let (s, v) = post_json(&app, "/api/login", bad).await;
        assert_eq!(s, 401);
        assert_error(&v, "Invalid credentials.");
    }
    let (s, v) = post_json(&app, "/api/login", json!({"email": "john.doe@example.com"})).await;
    assert_eq!(s, 422);
    assert_eq!(
        v["errors"]["password"],
        json!(["The password field is required."])
    );

    // Personal tokens: several, named, the secret shown once.
    let r = app
        .post("/api/tokens")
        .header("authorization", bearer(&token))
        .json(&json!({"name": "ERP"}))
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!(s, 201, "{v}");
    let pat = v["token"].as_str().unwrap().to_string();
    let id = v["data"]["id"].as_i64().unwrap();
    assert!(pat.starts_with(v["data"]["prefix"].as_str().unwrap()));
    let (s, v) = with_token(&app, "GET", "/api/tokens", &pat).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"][0]["name"], "ERP");
    assert!(!v.to_string().contains(&pat), "no secret in the list");
    let (s, v) = json(
        app.post("/api/tokens")
            .header("authorization", bearer(&pat))
            .json(&json!({"name": " "}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["errors"]["name"], json!(["The name field is required."]));

    // Someone else's account cannot revoke it.
    let (_, v) = post_json(
        &app,
        "/api/login",
        json!({"email": "alice@example.fr", "password": "motdepasse-alice"}),
    )
    .await;
    let alice = v["token"].as_str().unwrap().to_string();
    let path = format!("/api/tokens/{id}");
    let (s, v) = with_token(&app, "DELETE", &path, &alice).await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "This API token does not exist.");
    let (s, v) = with_token(&app, "DELETE", &path, &token).await;
    assert_eq!(s, 200, "{v}");
    // Revoked: refused, in the GesDocs shape.
    let (s, v) = with_token(&app, "GET", "/api/tokens", &pat).await;
    assert_eq!(s, 401);
    assert_error(&v, "Unauthenticated.");
    let (s, v) = json(app.get("/api/tokens").send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&v, "Unauthenticated.");

    // Unreadable bodies.
    let r = app
        .post("/api/login")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], "error");
    let r = app
        .post("/api/login")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // Each account is an organisation of its own, its owner the administrator, on record.
    let orgs = app.store.list_organisations().await.unwrap();
    let mine = orgs
        .iter()
        .find(|o| o.slug.as_str().starts_with("john-doe-"))
        .unwrap();
    assert_eq!(mine.name.as_str(), "John Doe");
    let users = app.store.list_users(mine.id).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, paraf_domain::Role::Admin);
    let actions: Vec<String> = app
        .store
        .audit_records(mine.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for a in [
        "organisation.created",
        "user.created",
        "api_token.created",
        "api_token.revoked",
    ] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
    app.stop().await;
}

/// Guessing passwords is stopped before the hash is computed: the shared per-address
/// allowance of failures, answered in the GesDocs shape with `Retry-After`.
async fn password_guessing_is_stopped(backend: Backend) {
    let app = spawn_with(backend, |c| c.registration_open = true).await;
    account(&app, "cible@cabinet.fr").await;
    let wrong = json!({"email": "cible@cabinet.fr", "password": "wrong password"});
    for _ in 0..29 {
        assert_eq!(post_json(&app, "/api/login", wrong.clone()).await.0, 401);
    }
    let r = app.post("/api/login").json(&wrong).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let (_, v) = json(r).await;
    assert_error(&v, "Too many requests.");
    // The right password too, until the minute is over.
    let right = json!({"email": "cible@cabinet.fr", "password": "password123"});
    assert_eq!(post_json(&app, "/api/login", right.clone()).await.0, 429);
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(post_json(&app, "/api/login", right).await.0, 200);
    app.stop().await;
}

async fn registration_is_closed_unless_opened(backend: Backend) {
    let app = spawn(backend).await;
    let (s, v) = post_json(
        &app,
        "/api/register",
        json!({"name": "Eve", "email": "eve@example.com", "password": "password123", "password_confirmation": "password123"}),
    )
    .await;
    assert_eq!(s, 403);
    assert_error(&v, "Registration is closed on this server.");
    app.stop().await;
}

#[tokio::test]
async fn meta_lists_regions_and_languages() {
    let app = spawn(Backend::Sqlite).await;
    let (s, v) = json(app.get("/api/meta").send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(v["regions"]
        .as_array()
        .unwrap()
        .contains(&json!("Europe/Paris")));
    let codes: Vec<&str> = v["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["fr", "en", "id", "it", "es"]);
    assert_eq!(v["languages"][0]["label"], "Français");
    // A wrong method: the GesDocs shape.
    let (s, v) = json(app.post("/api/meta").send().await.unwrap()).await;
    assert_eq!(s, 405);
    assert_error(&v, "Method not allowed.");
    app.stop().await;
}

/// A web server with files to fetch: a tagged PDF, a PNG logo, something that is not a PDF.
pub(crate) async fn file_server() -> String {
    let pdf =
        paraf_testkit::pdf::pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]);
    let app = axum::Router::new()
        .route(
            "/contrat.pdf",
            axum::routing::get(move || async move { pdf.clone() }),
        )
        .route(
            "/accord.pdf",
            axum::routing::get(|| async { paraf_testkit::pdf::pages(&["Accord <@signature@>"]) }),
        )
        .route("/logo.png", axum::routing::get(|| async { PNG.to_vec() }))
        .route(
            "/page.html",
            axum::routing::get(|| async { "<html>not a pdf</html>" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

pub(crate) async fn account(app: &TestApp, email: &str) -> String {
    let (s, v) = post_json(
        app,
        "/api/register",
        json!({"name": "Cabinet Martin", "email": email, "password": "password123", "password_confirmation": "password123"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// The self-registered organisation whose slug starts with `prefix`.
pub(crate) async fn org_named(app: &TestApp, prefix: &str) -> paraf_domain::Organisation {
    app.store
        .list_organisations()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.slug.as_str().starts_with(prefix))
        .unwrap()
}

pub(crate) async fn post_form(
    app: &TestApp,
    token: &str,
    form: reqwest::multipart::Form,
) -> (u16, Value) {
    post_multipart(app, "/api/signature-requests", token, form).await
}

/// POSTs `form` to `path` with `token`.
pub(crate) async fn post_multipart(
    app: &TestApp,
    path: &str,
    token: &str,
    form: reqwest::multipart::Form,
) -> (u16, Value) {
    json(
        app.post(path)
            .header("authorization", bearer(token))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn create(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    post_json_as(app, "/api/signature-requests", token, body).await
}

/// POSTs `body` as JSON to `path` with `token`.
pub(crate) async fn post_json_as(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    json(
        app.post(path)
            .header("authorization", bearer(token))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) fn future(app: &TestApp) -> String {
    (app.clock.now_ts() + chrono::Duration::days(7))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn signature_requests_by_url_and_by_upload(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.registration_open = true;
        c.signup_credits = 2;
    })
    .await;
    let files = file_server().await;
    let token = account(&app, "martin@cabinet.fr").await;
    let signers = json!([
        {"email": "alice@email.com", "first_name": "Alice", "last_name": "Dupont", "language": "fr"},
        {"email": "bob@email.com", "first_name": "Bob", "last_name": "Martin", "language": "en"}
    ]);
    let (s, v) = create(
        &app,
        &token,
        json!({
            "signers": signers,
            "expires_at": future(&app),
            "demandeur_email": "admin@email.com",
            "pdf_url": format!("{files}/contrat.pdf"),
            "logo_url": format!("{files}/logo.png"),
            "color": "#4f46e5",
            "metadata": {"custom_id": "ABC123"}
        }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["message"], "Signature request created successfully");
    let d = &v["data"];
    let r = &d["signature_request"];
    assert_eq!(r["statut"], "en_attente");
    assert_eq!(r["email"], "alice@email.com");
    assert_eq!(r["signer_first_name"], "Alice");
    assert_eq!(r["signer_language"], "fr");
    assert_eq!(r["signer_2fa"], false);
    assert_eq!(r["requester_email"], "admin@email.com");
    assert_eq!(r["metadata"], json!({"custom_id": "ABC123"}));
    assert_eq!(r["color"], "#4f46e5");
    assert_eq!(r["logo_url"], format!("{files}/logo.png"));
    assert_eq!(r["signataires"].as_array().unwrap().len(), 2);
    assert_eq!(r["signataires"][1]["statut"], "pending");
    assert_eq!(d["signature_url"], r["signataires"][0]["signature_url"]);
    assert!(d["signature_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/fr/sign/", app.url)));
    assert!(r["signataires"][1]["signature_url"]
        .as_str()
        .unwrap()
        .contains("/en/sign/"));
    assert_eq!(d["credits_left"], 1);
    // The first signer is mailed; the second waits for their turn.
    let org = org_named(&app, "martin-").await;
    let mails = app.store.list_mail(Some(org.id), 10).await.unwrap();
    assert_eq!(
        mails.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(),
        ["alice@email.com"]
    );

    // Multipart: files, bracketed signers, metadata as JSON text.
    let pdf = paraf_testkit::pdf::pages(&["Accord <@signature@>"]);
    let form = reqwest::multipart::Form::new()
        .text("signers[0][email]", "claire@email.com")
        .text("signers[0][first_name]", "Claire")
        .text("signers[0][last_name]", "Petit")
        .text("signers[0][language]", "it")
        .text("expires_at", future(&app))
        .text("demandeur_email", "admin@email.com")
        .text("metadata", r#"{"dossier": 7}"#)
        .text("pdf_url", "http://127.0.0.1:1/ignored.pdf")
        .part(
            "pdf",
            reqwest::multipart::Part::bytes(pdf).file_name("accord.pdf"),
        )
        .part(
            "logo",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("logo.png"),
        );
    let (s, v) = post_form(&app, &token, form).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["data"]["signature_request"]["signer_language"], "it");
    assert_eq!(
        v["data"]["signature_request"]["metadata"],
        json!({"dossier": 7})
    );
    assert_eq!(v["data"]["credits_left"], 0);
    // The uploaded logo is kept with the envelope (for the mails and the signer page).
    let id = paraf_domain::EnvelopeId(v["data"]["signature_request"]["id"].as_i64().unwrap());
    let e = app.store.envelope(org.id, id).await.unwrap();
    let logo = paraf_domain::BlobId::parse(e.header.options["logo"].as_str().unwrap()).unwrap();
    assert_eq!(app.state.blobs.get(&logo).await.unwrap().unwrap(), PNG);

    // No credits left: 402, nothing made.
    let body = json!({"signers": [{"email": "a@email.com", "first_name": "A", "last_name": "B"}],
        "expires_at": future(&app), "demandeur_email": "admin@email.com", "pdf_url": format!("{files}/contrat.pdf")});
    let (s, v) = create(&app, &token, body.clone()).await;
    assert_eq!(s, 402, "{v}");
    assert_error(
        &v,
        "No credits left: buy credits to send signature requests.",
    );
    let (_, v) = json(
        app.get("/api/tokens")
            .header("authorization", bearer(&token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["status"], "success");
    // Without a token: the GesDocs 401.
    let (s, v) = json(
        app.post("/api/signature-requests")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    assert_error(&v, "Unauthenticated.");
    app.stop().await;
}

async fn bad_signature_requests_name_the_field_and_cost_nothing(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.registration_open = true;
        c.signup_credits = 1;
    })
    .await;
    let files = file_server().await;
    let token = account(&app, "refus@cabinet.fr").await;
    let good = || {
        json!({"signers": [{"email": "alice@email.com", "first_name": "Alice", "last_name": "Dupont"}],
            "expires_at": future(&app), "demandeur_email": "admin@email.com",
            "pdf_url": format!("{files}/accord.pdf")})
    };
    let with = |k: &str, v: Value| {
        let mut b = good();
        b[k] = v;
        b
    };
    // Validation: every field at once, under its name.
    let (s, v) = create(&app, &token, json!({})).await;
    assert_eq!(s, 422, "{v}");
    assert_error(&v, "Validation error");
    for f in ["signers", "expires_at", "demandeur_email", "pdf"] {
        assert!(v["errors"][f].is_array(), "{f}: {v}");
    }
    let (s, v) = create(&app, &token, with("signers", json!([]))).await;
    assert_eq!(
        (s, &v["errors"]["signers"]),
        (422, &json!(["The signers field is required."]))
    );
    let (s, v) = create(&app, &token, with("expires_at", json!("2020-01-01T10:00"))).await;
    assert_eq!(
        (s, &v["errors"]["expires_at"]),
        (
            422,
            &json!(["The expires at field must be a date after now."])
        )
    );
    let (s, v) = create(
        &app,
        &token,
        with("signers", json!([{"email": "pas-un-email", "last_name": "X", "language": "de", "twofa_type": "sms"}])),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(
        v["errors"]["signers.0.email"],
        json!(["The signers.0.email field must be a valid email address."])
    );
    assert_eq!(
        v["errors"]["signers.0.first_name"],
        json!(["The signers.0.first_name field is required."])
    );
    assert_eq!(
        v["errors"]["signers.0.language"],
        json!(["The selected signers.0.language is invalid."])
    );
    assert!(v["errors"]["signers.0.mobile"].is_array(), "{v}");
    let (s, v) = create(&app, &token, with("color", json!("bleu"))).await;
    assert_eq!(
        (s, &v["errors"]["color"]),
        (
            422,
            &json!(["The color field must be a valid hexadecimal color."])
        )
    );
    let (s, v) = create(&app, &token, with("metadata", json!("text"))).await;
    assert_eq!(
        (s, &v["errors"]["metadata"]),
        (422, &json!(["The metadata field must be an object."]))
    );
    // URLs that cannot be used: the seed's shape with `field`.
    for (k, url, message) in [
        (
            "pdf_url",
            "http://127.0.0.1:1/absent.pdf".to_string(),
            "Impossible de télécharger le fichier depuis l'URL fournie.",
        ),
        (
            "pdf_url",
            format!("{files}/page.html"),
            "Le fichier à l'URL fournie n'est pas un PDF valide.",
        ),
        (
            "logo_url",
            format!("{files}/page.html"),
            "Le fichier à l'URL fournie n'est pas une image valide.",
        ),
        (
            "logo_url",
            format!("{files}/absent.png"),
            "Impossible de télécharger le logo depuis l'URL fournie.",
        ),
    ] {
        let (s, v) = create(&app, &token, with(k, json!(url))).await;
        assert_eq!(s, 422, "{url}: {v}");
        assert_eq!(v["field"], k, "{v}");
        assert_error(&v, message);
    }
    // A file that says PDF but is not one; a logo that is not an image.
    let upload = |pdf: Vec<u8>, logo: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("signers[0][email]", "alice@email.com")
            .text("signers[0][first_name]", "Alice")
            .text("signers[0][last_name]", "Dupont")
            .text("expires_at", future(&app))
            .text("demandeur_email", "admin@email.com")
            .part(
                "pdf",
                reqwest::multipart::Part::bytes(pdf).file_name("x.pdf"),
            )
            .part(
                "logo",
                reqwest::multipart::Part::bytes(logo).file_name("logo.png"),
            )
    };
    for (form, field) in [
        (upload(b"%PDF-1.7 broken".to_vec(), PNG.to_vec()), "pdf"),
        (upload(b"hello".to_vec(), PNG.to_vec()), "pdf"),
        (
            upload(paraf_testkit::pdf::simple_pdf(), b"GIF? no".to_vec()),
            "logo",
        ),
    ] {
        let (s, v) = post_form(&app, &token, form).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["errors"][field].is_array(), "{field}: {v}");
    }
    // A tag for a signer who is not there.
    let pdf = paraf_testkit::pdf::pages(&["Ici <@signature3@>"]);
    let (s, v) = json(
        app.post("/api/signature-requests")
            .header("authorization", bearer(&token))
            .multipart(upload(pdf, PNG.to_vec()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["errors"]["signers"][0]
            .as_str()
            .unwrap()
            .contains("<@signature3@>"),
        "{v}"
    );
    // None of it cost a credit: the one credit still buys a request.
    let (s, v) = create(&app, &token, good()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["data"]["credits_left"], 0);
    app.stop().await;
}

async fn private_urls_are_refused(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.registration_open = true;
        c.outbound_allow_private = false;
    })
    .await;
    let files = file_server().await;
    let token = account(&app, "prive@cabinet.fr").await;
    for url in [
        format!("{files}/contrat.pdf"),
        format!("{}/contrat.pdf", files.replace("127.0.0.1", "localhost")),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let (s, v) = create(
            &app,
            &token,
            json!({"signers": [{"email": "alice@email.com", "first_name": "Alice", "last_name": "Dupont"}],
                "expires_at": future(&app), "demandeur_email": "admin@email.com", "pdf_url": url}),
        )
        .await;
        assert_eq!(s, 422, "{url}: {v}");
        assert_eq!(v["field"], "pdf_url");
        assert!(
            v["message"].as_str().unwrap().contains("adresse refusée"),
            "{v}"
        );
    }
    app.stop().await;
}

crate::both_backends!(
    register_login_and_personal_tokens,
    registration_is_closed_unless_opened,
    password_guessing_is_stopped,
    signature_requests_by_url_and_by_upload,
    bad_signature_requests_name_the_field_and_cost_nothing,
    private_urls_are_refused,
);
