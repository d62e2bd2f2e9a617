//! Signing Today end to end, as people meet it: an integrator publishes a DST of two signer
//! groups (Anna and Bruno in parallel, then Carla) with mails off, hands out the signing
//! addresses (`GET /api/DST/{id}/sign/{docId}/{signId}`: Carla's refused before her turn), the
//! three sign on the signer page in headless Chromium, and the signed PDF passes pyHanko and
//! pdfsig.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::Plan;
use paraf_testkit::browser::Browser;
use paraf_testkit::schema::assert_conforms;
use serde_json::json;

use crate::common::*;
use crate::envelopes::outside_validators_accept;
use crate::signer_page::sign_as_typed;
use crate::signingtoday::{assert_error, st, two_groups_dst};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signingtoday_two_groups_sign_in_the_browser() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let tn = tenant(&app, "studio", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let pdf = pdf_with_pages(&["Contratto di compravendita"]);
    let mut body = two_groups_dst("Compravendita", &pdf);
    // Mails off; Anna is sent back to the integrator's page after signing (`sign_urlback`),
    // the last signer to another once the DST is complete (`dst_urlback`); nobody may
    // decline (no request says `declinable: true`).
    body["extraData"] =
        json!({"email_disabled": true, "dst_urlback": app.at("/healthz?back=done")});
    body["documents"][0]["signatureRequests"][0]["extraData"] =
        json!({"sign_urlback": app.at("/healthz?back=anna")});
    let (s, dst) = st(&app, "POST", "/api/robot/DSTs", tok, Some(body)).await;
    assert_eq!(s, 200, "{dst}");
    let id = dst["id"].as_str().unwrap().to_string();
    let address = |sign: u32| {
        let path = format!("/api/DST/{id}/sign/0/{sign}");
        let app = &app;
        async move { st(app, "GET", &path, tok, None).await }
    };

    // Carla (group 2) gets no address before the first group is done.
    let (s, v) = address(2).await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);

    // Anna and Bruno (group 1, in any order) sign in the browser.
    let browser = Browser::start().await;
    let (s, v) = address(1).await;
    assert_eq!(s, 200, "{v}");
    browser.go(v["url"].as_str().unwrap()).await;
    browser.find(r#"[data-testid="doc-page"]"#).await;
    assert!(
        !browser.source().await.contains("decline-open"),
        "no decline form"
    );
    sign_as_typed(&browser, "Bruno Bianchi").await;
    let (s, v) = address(0).await;
    assert_eq!(s, 200, "{v}");
    browser.go(v["url"].as_str().unwrap()).await;
    browser.find(r#"[data-testid="doc-page"]"#).await;
    browser
        .type_into(r#"[data-testid="signature-typed"]"#, "Anna Rossi")
        .await;
    browser.click(r#"[data-testid="sign-submit"]"#).await;
    browser.wait_url("/healthz?back=anna").await;
    // Now Carla's turn.
    let (s, v) = address(2).await;
    assert_eq!(s, 200, "{v}");
    browser.go(v["url"].as_str().unwrap()).await;
    browser.find(r#"[data-testid="doc-page"]"#).await;
    browser
        .type_into(r#"[data-testid="signature-typed"]"#, "Carla Verdi")
        .await;
    browser.click(r#"[data-testid="sign-submit"]"#).await;
    browser.wait_url("/healthz?back=done").await;
    browser.close().await;

    let done = eventually(30, "the DST signed", || async {
        let (_, v) = st(&app, "GET", &format!("/api/DST/{id}"), tok, None).await;
        (v["status"] == "signed").then_some(v)
    })
    .await;
    assert_conforms("DigitalSignatureTransaction", &done);
    assert_eq!(done["signatures"].as_array().unwrap().len(), 3, "{done}");
    let signed = done["documents"][0]["signedDocumentUuid"].as_str().unwrap();
    let (s, _, pdf) = fetch_with(&app, &format!("/api/resource/{signed}"), tok).await;
    assert_eq!(s, 200);
    outside_validators_accept(&app, &pdf, 3).await;
    crate::signingtoday::assert_no_mail(&app, tn.org.id).await;
    app.stop().await;
}

/// People in the browser: a user made through the API chooses their password on the page
/// their welcome mail links to, stores a signature image, and the signer page offers it and
/// signs with it (the signed PDF shows that image).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_chooses_a_password_and_signs_with_their_saved_signature() {
    use crate::signingtoday_people::{
        mailed_token, red_blue, seed_user, signed_with_red_blue, upload_appearance,
    };
    if !selected(Backend::Sqlite) {
        return;
    }
    let (smtpd, app) = spawn_mailing(Backend::Sqlite).await;
    let tn = tenant(&app, "bit4id", Plan::Piagam).await;
    let admin = Some(tn.admin_token.as_str());
    let mut ann = seed_user("bit4id", "ann", "ann@email.com");
    ann["password"] = serde_json::Value::Null;
    ann["user"]["groups"] = json!([]);
    let (s, made) = st(&app, "POST", "/api/users", admin, Some(ann)).await;
    assert_eq!(s, 201, "{made}");
    let ann_id = made[0].as_str().unwrap().to_string();
    let token = mailed_token(&smtpd, "ann@email.com", 0).await;

    let browser = Browser::start().await;
    browser.go(&app.at(&format!("/password/{token}"))).await;
    browser
        .type_into(r#"[data-testid="password-new"]"#, "Ann-Secret-1")
        .await;
    browser
        .type_into(r#"[data-testid="password-confirm"]"#, "Ann-Secret-2")
        .await;
    browser.click(r#"[data-testid="password-submit"]"#).await;
    browser.find(r#"[data-testid="password-error"]"#).await;
    browser
        .type_into(r#"[data-testid="password-new"]"#, "Ann-Secret-1")
        .await;
    browser
        .type_into(r#"[data-testid="password-confirm"]"#, "Ann-Secret-1")
        .await;
    browser.click(r#"[data-testid="password-submit"]"#).await;
    browser.find(r#"[data-testid="password-done"]"#).await;
    let (s, tok) = crate::signingtoday::login_with(&app, "ann@bit4id", "Ann-Secret-1").await;
    assert_eq!(s, 200, "{tok}");
    let ann_token = tok["access_token"].as_str().unwrap().to_string();

    // Her saved signature (the built-in identity's appearance).
    let path = format!(
        "/api/user/{ann_id}/identity/00000000-0000-4000-9000-{}/appearance",
        &ann_id[24..]
    );
    let (s, v) = upload_appearance(&app, &path, &ann_token, red_blue(400, 100), &[]).await;
    assert_eq!(s, 200, "{v}");

    // A DST for her; the signer page offers the saved signature, checked; she signs.
    let pdf = pdf_with_pages(&["Contract"]);
    let mut body = crate::signingtoday::quick_start_dst(crate::signingtoday::embedded(&pdf));
    body["documents"][0]["signerGroups"][0]["signers"][0]["email"] = json!("ann@email.com");
    body["documents"][0]["forms"][0]["width"] = json!("40");
    body["documents"][0]["forms"][0]["height"] = json!("10");
    body["extraData"] = json!({"email_disabled": true});
    let (s, dst) = st(&app, "POST", "/api/DSTs", admin, Some(body)).await;
    assert_eq!(s, 201, "{dst}");
    let dst_id = dst["id"].as_str().unwrap();
    let (s, addr) = st(
        &app,
        "GET",
        &format!("/api/DST/{dst_id}/sign/0/1"),
        Some(ann_token.as_str()),
        None,
    )
    .await;
    assert_eq!(s, 200, "{addr}");
    browser.go(addr["url"].as_str().unwrap()).await;
    browser.find(r#"[data-testid="saved-signature"]"#).await;
    let checked = browser
        .script("return document.querySelector('[data-testid=signature-saved]').checked")
        .await;
    assert_eq!(checked, json!(true));
    browser.click(r#"[data-testid="sign-submit"]"#).await;
    browser.find(r#"[data-testid="signed-done"]"#).await;
    let signed = signed_with_red_blue(&app, tn.org.id, dst_id).await;
    outside_validators_accept(&app, &signed, 1).await;
    browser.close().await;
    app.stop().await;
}
