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
