//! Signing Today's `POST /api/auth/saml` (issue 14): an organisation's identity provider
//! (a real one for tests: keys by `openssl`, responses signed by `xmlsec1`) signs people in —
//! the user is made the first time and renamed after the IdP later; the token in the
//! redirect works on the API; every refusal (no SAML, wrong HMAC, replay, tampering, a
//! foreign key, wrong audience, an expired assertion, a disabled user) is an `ErrorResponse`
//! naming its field, never a 500 and never a token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::audit::Actor;
use paraf_core::saml::SamlSetup;
use paraf_domain::Plan;
use paraf_testkit::saml::{relay, Idp, KeyAlg, Response};
use serde_json::Value;

use crate::common::*;
use crate::signingtoday::{assert_error, get_as};

const FRONT: &str = "https://front.bit4id.test/after-login";

/// Posts the login form; the status, the `Location` header and the JSON body (if any).
async fn post_saml(app: &TestApp, fields: &[(&str, &str)]) -> (u16, String, Value) {
    let r = app
        .post("/api/auth/saml")
        .form(fields)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = r.bytes().await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (s, location, v)
}

/// Relays `xml` for `domain` with the secret; the outcome.
async fn login(app: &TestApp, domain: &str, xml: &str, secret: &str) -> (u16, String, Value) {
    let (t1, t2) = relay(xml, secret);
    post_saml(
        app,
        &[("domain", domain), ("IDToken1", &t1), ("IDToken2", &t2)],
    )
    .await
}

/// A refusal: 400 naming `target`, its message containing `part`.
#[track_caller]
fn refused(out: &(u16, String, Value), target: &str, part: &str) {
    let (s, location, v) = out;
    assert_eq!(*s, 400, "{v}");
    assert!(location.is_empty(), "{location}");
    assert_error(v, "INVALID_INPUT", Some(target));
    assert!(
        v["message"].as_str().unwrap().contains(part),
        "{v} (wanted: {part})"
    );
}

/// The access token of a successful login's redirect.
#[track_caller]
fn token_of(out: &(u16, String, Value)) -> String {
    let (s, location, v) = out;
    assert_eq!(*s, 303, "{v}");
    let (page, fragment) = location.split_once('#').unwrap();
    assert_eq!(page, FRONT);
    let fields: Vec<(&str, &str)> = fragment
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    assert_eq!(fields[1], ("token_type", "Bearer"));
    assert_eq!(fields[2].0, "expires_in");
    assert!(fields[2].1.parse::<u64>().unwrap() > 0);
    assert_eq!(fields[0].0, "access_token");
    fields[0].1.to_string()
}

async fn saml_single_sign_on(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "bit4id", Plan::Nusantara).await;
    tenant(&app, "other", Plan::Nusantara).await;
    let core = &app.state.core;
    let idp = Idp::new("https://idp.bit4id.test/metadata", KeyAlg::Rsa);
    let zero_mac = "00".repeat(32);

    // Not set up, an unknown domain, missing fields, not a form: clear refusals.
    let not_set = post_saml(
        &app,
        &[
            ("domain", "bit4id"),
            ("IDToken1", "PHg+"),
            ("IDToken2", &zero_mac),
        ],
    )
    .await;
    refused(&not_set, "domain", "not set up");
    let unknown = post_saml(
        &app,
        &[
            ("domain", "nowhere"),
            ("IDToken1", "PHg+"),
            ("IDToken2", &zero_mac),
        ],
    )
    .await;
    refused(&unknown, "domain", "not set up");
    assert_eq!(
        unknown.2, not_set.2,
        "the same answer: nobody learns which domains exist"
    );
    refused(
        &post_saml(&app, &[("IDToken1", "PHg+"), ("IDToken2", &zero_mac)]).await,
        "domain",
        "required",
    );
    refused(
        &post_saml(&app, &[("domain", "bit4id"), ("IDToken2", &zero_mac)]).await,
        "IDToken1",
        "required",
    );
    let r = app
        .post("/api/auth/saml")
        .json(&serde_json::json!({"domain": "bit4id"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_error(&r.json().await.unwrap(), "INVALID_INPUT", Some("body"));

    let (_, c) = get_as(&app, "/api/service/configuration?domain=bit4id", None).await;
    assert_eq!(c["organization"]["saml"], Value::Null, "{c}");

    // Set up: the relay secret comes once; our entity id and ACS URL default to the
    // public URL.
    let done = core
        .set_saml(
            t.org.id,
            SamlSetup {
                metadata: idp.metadata().into_bytes(),
                redirect_url: Some(FRONT.into()),
                ..SamlSetup::default()
            },
            &Actor::cli(),
        )
        .await
        .unwrap();
    let secret = done.relay_secret.unwrap().expose().to_string();
    let s = done.settings;
    assert_eq!(s.acs_url, format!("{}/api/auth/saml", app.url));
    assert_eq!(s.sp_entity_id, format!("{}/saml/bit4id", app.url));
    assert_eq!(s.idp_entity_id, idp.entity_id);
    // The public configuration tells a front end where single sign-on starts.
    let (_, c) = get_as(&app, "/api/service/configuration?domain=bit4id", None).await;
    let saml = &c["organization"]["saml"];
    assert_eq!(saml["idpEntityId"], idp.entity_id.as_str(), "{c}");
    assert_eq!(saml["idpSsoUrl"], "https://idp.example.test/sso");
    assert_eq!(saml["acsUrl"], s.acs_url.as_str());
    assert_eq!(saml["spEntityId"], s.sp_entity_id.as_str());
    let response = |name_id: &str, given: &str| {
        let mut r = Response::new(&idp, &s.acs_url, &s.sp_entity_id, name_id);
        r.attributes = vec![
            ("givenName".into(), given.into()),
            ("sn".into(), "Rossi".into()),
        ];
        r
    };
    let users_before = app.store.list_users(t.org.id).await.unwrap().len();

    // A new person: made (role signer), and the token in the redirect works.
    let first = idp.response(&response("mario.rossi@bit4id.test", "Mario"));
    let out = login(&app, "bit4id", &first, &secret).await;
    let token = token_of(&out);
    let (st, me) = get_as(&app, "/api/auth/user", Some(&token)).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["email"], "mario.rossi@bit4id.test");
    assert_eq!(me["name"], "Mario");
    assert_eq!(me["surname"], "Rossi");
    assert_eq!(me["role"], "signer");
    let users = app.store.list_users(t.org.id).await.unwrap();
    assert_eq!(users.len(), users_before + 1);

    // The same response again is a replay.
    refused(
        &login(&app, "bit4id", &first, &secret).await,
        "IDToken1",
        "already used",
    );

    // Later logins update the user (no second user); an existing user signs in as themself.
    let renamed = idp.response(&response("mario.rossi@bit4id.test", "Marius"));
    let token = token_of(&login(&app, "bit4id", &renamed, &secret).await);
    let (_, me) = get_as(&app, "/api/auth/user", Some(&token)).await;
    assert_eq!(me["name"], "Marius");
    let existing = idp.response(&response(t.signer.email.as_str(), "Sina"));
    let token = token_of(&login(&app, "bit4id", &existing, &secret).await);
    let (_, me) = get_as(&app, "/api/auth/user", Some(&token)).await;
    assert_eq!(me["email"], t.signer.email.as_str());
    assert_eq!(
        app.store.list_users(t.org.id).await.unwrap().len(),
        users_before + 1
    );

    // The relay's HMAC: wrong, malformed, or computed with another secret.
    let fresh = idp.response(&response("anna@bit4id.test", "Anna"));
    let (t1, _) = relay(&fresh, &secret);
    refused(
        &post_saml(
            &app,
            &[
                ("domain", "bit4id"),
                ("IDToken1", &t1),
                ("IDToken2", &zero_mac),
            ],
        )
        .await,
        "IDToken2",
        "HMAC",
    );
    refused(
        &post_saml(
            &app,
            &[("domain", "bit4id"), ("IDToken1", &t1), ("IDToken2", "xyz")],
        )
        .await,
        "IDToken2",
        "64 digits",
    );
    refused(
        &post_saml(
            &app,
            &[
                ("domain", "bit4id"),
                ("IDToken1", "***"),
                ("IDToken2", &zero_mac),
            ],
        )
        .await,
        "IDToken1",
        "base64",
    );
    // Another organisation's domain with this organisation's relay: not set up there.
    refused(
        &login(&app, "other", &fresh, &secret).await,
        "domain",
        "not set up",
    );

    // The response itself: tampered after signing, signed by a foreign key, for another
    // audience, expired, unsigned.
    let tampered = fresh.replace("anna@bit4id.test", "boss@bit4id.test");
    refused(
        &login(&app, "bit4id", &tampered, &secret).await,
        "IDToken1",
        "changed after it was signed",
    );
    let mallory = Idp::new(&idp.entity_id, KeyAlg::Rsa);
    let foreign = mallory.response(&Response::new(
        &mallory,
        &s.acs_url,
        &s.sp_entity_id,
        "anna@bit4id.test",
    ));
    refused(
        &login(&app, "bit4id", &foreign, &secret).await,
        "IDToken1",
        "signature",
    );
    let other_audience = idp.response(&Response::new(
        &idp,
        &s.acs_url,
        "https://elsewhere.test/sp",
        "anna@bit4id.test",
    ));
    refused(
        &login(&app, "bit4id", &other_audience, &secret).await,
        "IDToken1",
        "audience",
    );
    let mut old = response("anna@bit4id.test", "Anna");
    old.issued = app.clock.now_ts() - chrono::Duration::minutes(30);
    old.not_on_or_after = app.clock.now_ts() - chrono::Duration::minutes(20);
    refused(
        &login(&app, "bit4id", &idp.response(&old), &secret).await,
        "IDToken1",
        "expired",
    );
    let mut unsigned = response("anna@bit4id.test", "Anna");
    unsigned.signed = paraf_testkit::saml::Signed::Nothing;
    refused(
        &login(&app, "bit4id", &idp.response(&unsigned), &secret).await,
        "IDToken1",
        "is signed",
    );
    // None of these made a user.
    assert!(app
        .store
        .list_users(t.org.id)
        .await
        .unwrap()
        .iter()
        .all(|u| !u.email.as_str().starts_with("anna") && !u.email.as_str().starts_with("boss")));

    // A disabled user gets no token.
    let mario = users
        .iter()
        .find(|u| u.email.as_str() == "mario.rossi@bit4id.test")
        .unwrap();
    app.store
        .set_user_disabled(t.org.id, mario.id, true, app.clock.now_ts())
        .await
        .unwrap();
    let again = idp.response(&response("mario.rossi@bit4id.test", "Mario"));
    let (st, location, v) = login(&app, "bit4id", &again, &secret).await;
    assert_eq!(st, 401, "{v}");
    assert!(location.is_empty());
    assert_error(&v, "UNAUTHORIZED", None);

    // Rotating the secret: the old relay stops working.
    let rotated = core
        .set_saml(
            t.org.id,
            SamlSetup {
                metadata: idp.metadata().into_bytes(),
                rotate_secret: true,
                ..SamlSetup::default()
            },
            &Actor::cli(),
        )
        .await
        .unwrap();
    assert_eq!(rotated.settings.redirect_url, FRONT, "kept");
    let new_secret = rotated.relay_secret.unwrap().expose().to_string();
    assert_ne!(new_secret, secret);
    let late = idp.response(&response("anna@bit4id.test", "Anna"));
    refused(
        &login(&app, "bit4id", &late, &secret).await,
        "IDToken2",
        "HMAC",
    );
    token_of(&login(&app, "bit4id", &late, &new_secret).await);

    let trail = app.store.audit_records(t.org.id, 0, 1000).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"session.saml"), "{actions:?}");
    assert!(actions.contains(&"organisation.saml_configured"));
    assert!(actions.contains(&"user.created"));
    // The relay secret is in no audit record.
    assert!(trail
        .iter()
        .all(|r| !r.details.to_string().contains(&new_secret)));
    app.stop().await;
}

crate::both_backends!(saml_single_sign_on);
