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

crate::both_backends!(
    register_login_and_personal_tokens,
    registration_is_closed_unless_opened,
);
