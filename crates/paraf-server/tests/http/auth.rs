//! Each credential kind accepted and refused through the real server: API tokens, Basic
//! application credentials with IP allow-lists (and trusted proxies), OAuth2 password and
//! refresh grants with rotation and logout, console sessions with secure cookies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use paraf_domain::{NewApiToken, Plan, Role};
use serde_json::Value;

use crate::common::*;

async fn me(app: &TestApp, authorization: &str) -> (u16, Value) {
    json(
        app.get("/api/me")
            .header("authorization", authorization)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn api_tokens(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "acme", Plan::Nusantara).await;
    let (s, v) = me(&app, &bearer(&t.admin_token)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["organization"]["slug"], "acme");
    assert_eq!(v["user"]["email"], "admin@acme.example");
    assert_eq!(v["credential"]["kind"], "api_token");

    // No credential, an unknown token, garbage: 401 with a challenge and the neutral shape.
    let r = app.get("/api/me").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let (_, v) = json(r).await;
    assert_eq!(v["error"]["code"], "authentication_required");
    assert!(v["error"]["request_id"].is_string());
    let (s, v) = me(&app, &bearer("paraf_pat_0000")).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (s, _) = me(&app, &bearer("nonsense")).await;
    assert_eq!(s, 401);

    // Revoked.
    let tokens = app
        .store
        .list_api_tokens(t.org.id, Some(t.signer.id))
        .await
        .unwrap();
    assert_eq!(me(&app, &bearer(&t.signer_token)).await.0, 200);
    app.store
        .revoke_api_token(t.org.id, tokens[0].id, app.clock.now_ts())
        .await
        .unwrap();
    let (s, v) = me(&app, &bearer(&t.signer_token)).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["error"]["code"], "invalid_credentials");

    // Expired (by the injected clock).
    let (_, expiring) = app
        .store
        .create_api_token(
            &NewApiToken {
                org: t.org.id,
                user: t.admin.id,
                name: "short".into(),
                expires_at: Some(app.clock.now_ts() + Duration::hours(1)),
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap();
    assert_eq!(me(&app, &bearer(expiring.expose())).await.0, 200);
    app.clock.advance(Duration::hours(2));
    assert_eq!(me(&app, &bearer(expiring.expose())).await.0, 401);

    // Disabled user.
    app.store
        .set_user_disabled(t.org.id, t.admin.id, true, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(me(&app, &bearer(&t.admin_token)).await.0, 401);
    app.stop().await;
}

async fn basic_app_credentials(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "bsre-user", Plan::Prasasti).await;
    app_credential(&app, t.org.id, "erp-loopback", &["127.0.0.1/32"]).await;
    app_credential(&app, t.org.id, "erp-any", &[]).await;
    app_credential(&app, t.org.id, "erp-office", &["10.0.0.0/8"]).await;

    let (s, v) = me(&app, &basic("erp-loopback", PASSWORD)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["credential"]["kind"], "app_credential");
    assert_eq!(v["organization"]["slug"], "bsre-user");
    assert!(v["user"].is_null());
    assert_eq!(me(&app, &basic("erp-any", PASSWORD)).await.0, 200);
    // Wrong password, unknown user, malformed header.
    assert_eq!(me(&app, &basic("erp-any", "wrong password")).await.0, 401);
    assert_eq!(me(&app, &basic("nobody", PASSWORD)).await.0, 401);
    assert_eq!(me(&app, "Basic !!!").await.0, 401);
    // Outside the allow-list: the peer is 127.0.0.1, and X-Forwarded-For is not believed
    // from an untrusted peer.
    assert_eq!(me(&app, &basic("erp-office", PASSWORD)).await.0, 401);
    let r = app
        .get("/api/me")
        .header("authorization", basic("erp-office", PASSWORD))
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Disabled.
    let creds = app.store.list_app_credentials(t.org.id).await.unwrap();
    let any = creds.iter().find(|c| c.username == "erp-any").unwrap();
    app.store
        .set_app_credential_enabled(t.org.id, any.id, false)
        .await
        .unwrap();
    assert_eq!(me(&app, &basic("erp-any", PASSWORD)).await.0, 401);
    app.stop().await;

    // Behind a trusted proxy (loopback), the forwarded address is the client's.
    let app = spawn_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let t = tenant(&app, "proxied", Plan::Prasasti).await;
    app_credential(&app, t.org.id, "erp-office", &["10.0.0.0/8"]).await;
    let with_xff = |xff: &'static str| {
        app.get("/api/me")
            .header("authorization", basic("erp-office", PASSWORD))
            .header("x-forwarded-for", xff)
            .send()
    };
    assert_eq!(with_xff("10.1.2.3").await.unwrap().status(), 200);
    assert_eq!(with_xff("192.0.2.1").await.unwrap().status(), 401);
    // A client cannot smuggle an allowed address in front of its own.
    assert_eq!(with_xff("10.1.2.3, 192.0.2.1").await.unwrap().status(), 401);
    assert_eq!(me(&app, &basic("erp-office", PASSWORD)).await.0, 401);
    app.stop().await;
}

async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    json(
        app.post("/api/oauth/token")
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn oauth_grants(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "signing-today", Plan::Piagam).await;
    let _other = tenant(&app, "other", Plan::Lontar).await;
    let user = "signing-today/admin@signing-today.example";

    // Wrong password, unknown user, unknown organisation: the same invalid_grant.
    for (u, p) in [
        (user, "wrong password"),
        ("signing-today/nobody@signing-today.example", PASSWORD),
        ("nope/admin@signing-today.example", PASSWORD),
    ] {
        let (s, v) = token(
            &app,
            &[("grant_type", "password"), ("username", u), ("password", p)],
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "{u}: {v}"
        );
        assert!(v["error_description"].is_string());
    }
    // No organisation named, and only one has this e-mail: that one.
    let bare = [
        ("grant_type", "password"),
        ("username", "admin@signing-today.example"),
        ("password", PASSWORD),
    ];
    let (s, v) = token(&app, &bare).await;
    assert_eq!(s, 200, "{v}");
    // The same e-mail in two organisations and none named: invalid_request.
    add_user(
        &app,
        _other.org.id,
        "admin@signing-today.example",
        Role::Signer,
    )
    .await;
    let (s, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "admin@signing-today.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    let (s, v) = token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    // The grant, by form and by JSON (organisation as a parameter).
    let (s, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let r = app
        .post("/api/oauth/token")
        .json(
            &serde_json::json!({"grant_type": "password", "username": "admin@signing-today.example",
            "organization": "signing-today", "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.status(), 200);
    // And as multipart/form-data with the client's id and secret in Basic, as the Signing
    // Today SDKs and the seed's curl send it (the client credentials are not checked: the
    // user's password is the grant).
    crate::signingtoday::login(&app, user).await;
    // Signing Today's `username@domain`: the domain is the organisation's slug, the user the
    // one whose e-mail's local part (or e-mail) it is.
    for username in [
        "admin@signing-today",
        "admin@signing-today.example@signing-today",
    ] {
        let form = reqwest::multipart::Form::new()
            .text("grant_type", "password")
            .text("username", username)
            .text("password", PASSWORD);
        let (s, v) = json(
            app.post("/api/oauth/token")
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{username}: {v}");
    }
    let (s, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "nobody@signing-today"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let form = reqwest::multipart::Form::new().text("grant_type", "password");
    let (s, v) = json(
        app.post("/api/oauth/token")
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    let (s, v) = me(&app, &bearer(&access)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["credential"]["kind"], "oauth");
    // A refresh token is not an access token.
    assert_eq!(me(&app, &bearer(&refresh)).await.0, 401);

    // Refresh rotates: a new pair, the old refresh token spent.
    let (s, v) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let access2 = v["access_token"].as_str().unwrap().to_string();
    let refresh2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    assert_eq!(me(&app, &bearer(&access2)).await.0, 200);
    // Reusing the spent refresh token revokes the whole family.
    let (s, v) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(me(&app, &bearer(&access2)).await.0, 401);
    let (s, _) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh2),
        ],
    )
    .await;
    assert_eq!(s, 400);

    // Expiry by the clock: the access token says token_expired; refresh still works.
    let (_, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
        ],
    )
    .await;
    let access3 = v["access_token"].as_str().unwrap().to_string();
    let refresh3 = v["refresh_token"].as_str().unwrap().to_string();
    app.clock.advance(Duration::minutes(61));
    let (s, v) = me(&app, &bearer(&access3)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("token_expired")),
        "{v}"
    );
    let (s, v) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh3),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let access4 = v["access_token"].as_str().unwrap().to_string();

    // Logout revokes the family.
    let r = app
        .post("/api/logout")
        .header("authorization", bearer(&access4))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me(&app, &bearer(&access4)).await.0, 401);
    // API tokens do not "log out".
    let r = app
        .post("/api/logout")
        .header("authorization", bearer(&t.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // RFC 7009 revocation.
    let (_, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
        ],
    )
    .await;
    let access5 = v["access_token"].as_str().unwrap().to_string();
    let r = app
        .post("/api/oauth/revoke")
        .form(&[("token", v["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(me(&app, &bearer(&access5)).await.0, 401);
    let r = app
        .post("/api/oauth/revoke")
        .form(&[("token", "paraf_oat_unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Disabled user: no grant.
    app.store
        .set_user_disabled(t.org.id, t.admin.id, true, chrono::Utc::now())
        .await
        .unwrap();
    let (s, _) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(s, 400);
    app.stop().await;
}

async fn console_sessions(backend: Backend) {
    let app = spawn(backend).await;
    let _t = tenant(&app, "console", Plan::Lontar).await;
    let login = |pw: &'static str| {
        app.post("/api/session")
            .json(&serde_json::json!({"email": "admin@console.example", "organization": "console", "password": pw}))
            .send()
    };
    let r = login("wrong password").await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());

    let r = login(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in [
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(set_cookie.contains(attr), "{attr} missing: {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("paraf_session=paraf_ses_"));
    let (_, v) = json(r).await;
    assert_eq!(v["credential"]["kind"], "console_session");

    let with_cookie = |c: String| app.get("/api/me").header("cookie", c).send();
    let (s, v) = json(with_cookie(cookie.clone()).await.unwrap()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["credential"]["kind"], "console_session");
    assert_eq!(v["user"]["role"], "admin");

    // A cross-site POST carrying the cookie is refused.
    let r = app
        .post("/api/logout")
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(with_cookie(cookie.clone()).await.unwrap().status(), 200);

    // Expiry by the clock.
    app.clock.advance(Duration::hours(13));
    assert_eq!(with_cookie(cookie.clone()).await.unwrap().status(), 401);

    // Logout clears the cookie and revokes the session.
    let r = login(PASSWORD).await.unwrap();
    let cookie = first_cookie(&r);
    let r = app
        .http
        .delete(app.at("/api/session"))
        .header("cookie", &cookie)
        .header("origin", &app.url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(with_cookie(cookie).await.unwrap().status(), 401);
    app.stop().await;
}

async fn errors_speak_the_requested_language(backend: Backend) {
    let app = spawn(backend).await;
    for (headers, expected) in [
        (
            vec![("x-language", "fr")],
            "Une authentification est requise.",
        ),
        (vec![("x-language", "id")], "Autentikasi diperlukan."),
        (
            vec![("accept-language", "es-ES,es;q=0.9,en;q=0.5")],
            "Se requiere autenticación.",
        ),
        (
            vec![("accept-language", "it")],
            "È richiesta l'autenticazione.",
        ),
        (
            vec![("accept-language", "de")],
            "Authentication is required.",
        ),
    ] {
        let mut req = app.get("/api/me");
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let lang = r.headers()["content-language"]
            .to_str()
            .unwrap()
            .to_string();
        let (s, v) = json(r).await;
        assert_eq!(s, 401);
        assert_eq!(v["error"]["message"], expected, "{headers:?} ({lang})");
    }
    // Framework refusals get the same shape: unknown route, wrong method.
    let (s, v) = json(
        app.get("/nope")
            .header("x-language", "id")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(v["error"]["message"], "Tidak ditemukan.");
    let (s, v) = json(app.post("/healthz").send().await.unwrap()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    app.stop().await;
}

async fn password_guessing_is_throttled_per_ip(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "guessed", Plan::Lontar).await;
    app_credential(&app, t.org.id, "erp", &[]).await;
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2030-03-01T08:00:10Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    for i in 0..30 {
        let (s, _) = me(&app, &basic(&format!("guess{i}"), "x")).await;
        assert_eq!(s, 401);
    }
    // The 31st attempt from this address is refused before any password is checked, even
    // with the right one; password grants and console logins share the counter.
    let r = app
        .get("/api/me")
        .header("authorization", basic("erp", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "50");
    let (s, v) = token(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "guessed/admin@guessed.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    // Tokens are not passwords: they are not throttled.
    assert_eq!(me(&app, &bearer(&t.admin_token)).await.0, 200);
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2030-03-01T08:01:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    assert_eq!(me(&app, &basic("erp", PASSWORD)).await.0, 200);
    app.stop().await;
}

crate::both_backends!(
    password_guessing_is_throttled_per_ip,
    api_tokens,
    basic_app_credentials,
    oauth_grants,
    console_sessions,
    errors_speak_the_requested_language,
);
