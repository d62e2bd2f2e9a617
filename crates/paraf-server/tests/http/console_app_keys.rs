//! The console's page of application keys (issue 15), in headless Chromium: a key made with
//! signatures required shows its `x-app-key` and private key once, and that key signs
//! `/ext/v1` requests; rotation gives a new private key (the old one's signatures stop), a
//! disabled key is refused, a deleted one is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::Plan;
use serde_json::json;

use crate::common::*;
use crate::console::browser_signed_in;
use crate::ext::Client;

static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Logs in through `/ext/v1` with `key` (signing with `pem`): the reply's status and code.
async fn login(app: &TestApp, key: &str, pem: Option<&str>) -> (u16, String) {
    let c = Client {
        app,
        key: key.to_string(),
        pem: pem.map(str::to_string),
        // A fresh request id each time (the key's ids are remembered).
        n: std::cell::Cell::new(CALLS.fetch_add(100, std::sync::atomic::Ordering::Relaxed)),
    };
    let body = json!({"email": "admin@tenant-a.example", "password": PASSWORD}).to_string();
    let g = c.send("POST", "/ext/v1/auth/login", &[], Some(&body)).await;
    (
        g.status,
        g.body["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn console_manages_application_keys(backend: Backend) {
    let app = spawn_with(backend, |c| c.cookie_secure = false).await;
    tenant(&app, "tenant-a", Plan::Nusantara).await;
    let browser = browser_signed_in(&app).await;
    browser
        .click("header nav a[href=\"/console/app-keys\"]")
        .await;
    browser.wait_url("/console/app-keys").await;

    // Made with signatures required: the key and its private key, once.
    browser.type_into("#f-name", "ERP Keuangan").await;
    browser.click("#f-require_signature").await;
    browser.click("#add-app-key").await;
    let key = browser.text("#issued-app-key").await;
    let pem = browser.text("#issued-pem").await;
    assert!(key.starts_with("paraf_gak_"), "{key}");
    assert!(pem.contains("BEGIN PRIVATE KEY"), "{pem}");
    assert_eq!(login(&app, &key, Some(&pem)).await, (200, "OK".into()));
    assert_eq!(
        login(&app, &key, None).await,
        (401, "INVALID_SIGNATURE".into())
    );
    browser.go(&app.at("/console/app-keys")).await;
    let page = browser.source().await;
    assert!(page.contains("ERP Keuangan") && page.contains(&key));
    assert!(
        !page.contains("PRIVATE KEY"),
        "the private key is shown once"
    );

    // Rotated: a new private key; the old one no longer signs.
    browser
        .click("#app-keys tbody tr form:nth-of-type(2) button")
        .await;
    let new_pem = browser.text("#issued-pem").await;
    assert_ne!(new_pem, pem);
    assert_eq!(browser.text("#issued-app-key").await, key);
    assert_eq!(
        login(&app, &key, Some(&pem)).await,
        (401, "INVALID_SIGNATURE".into())
    );
    assert_eq!(login(&app, &key, Some(&new_pem)).await, (200, "OK".into()));

    // Disabled, enabled, deleted.
    browser.go(&app.at("/console/app-keys")).await;
    browser
        .click("#app-keys tbody tr form:nth-of-type(1) button")
        .await;
    browser.wait_url("/console/app-keys?done=disable").await;
    assert_eq!(
        login(&app, &key, Some(&new_pem)).await,
        (401, "INVALID_APP_KEY".into())
    );
    browser
        .click("#app-keys tbody tr form:nth-of-type(1) button")
        .await;
    browser.wait_url("/console/app-keys?done=enable").await;
    assert_eq!(login(&app, &key, Some(&new_pem)).await, (200, "OK".into()));
    browser
        .click("#app-keys tbody tr form:nth-of-type(3) button")
        .await;
    browser.wait_url("/console/app-keys?done=delete").await;
    assert!(!browser.source().await.contains(&key));
    assert_eq!(
        login(&app, &key, Some(&new_pem)).await,
        (401, "INVALID_APP_KEY".into())
    );

    // A name is required (blanks pass the browser's check, not the server's).
    browser.type_into("#f-name", "   ").await;
    browser.click("#add-app-key").await;
    assert_eq!(
        browser.text(".notice.error").await,
        "Nama wajib diisi (paling banyak 100 karakter)."
    );
    assert!(!browser.source().await.contains("issued-pem"));
    browser.close().await;
    app.stop().await;
}

crate::both_backends!(console_manages_application_keys);
