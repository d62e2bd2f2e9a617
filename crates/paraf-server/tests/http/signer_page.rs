//! The signer page over HTTP (what a phone without JavaScript does) and in headless Chromium
//! (what a person does): order enforced when the link is opened, page images rendered on the
//! server, the one-time code by mail (a real SMTP sink) and by SMS (a local gateway), typed,
//! drawn and uploaded signatures, declining, the download, and the hardening headers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::{EnvelopeStatus, Plan, SecondFactor};
use paraf_testkit::browser::Browser;
use paraf_testkit::webhook::{standard_webhooks_verify, Receiver};

use crate::common::*;
use crate::envelopes::{completed_pdf, draft, outside_validators_accept, sent, signer, subscribe};

/// On the open signer page: types `name` as the signature, signs, waits for `signed-done`.
pub(crate) async fn sign_as_typed(browser: &Browser, name: &str) {
    browser.sign_typed(name).await;
}

/// The path of a link (the test client talks to the server directly).
pub(crate) fn path_of(url: &str, app: &TestApp) -> String {
    url.strip_prefix(&app.url).unwrap().to_string()
}

/// A six-digit code in `text` after `marker`.
pub(crate) fn code_after(text: &str, marker: &str) -> Option<String> {
    let at = text.rfind(marker)?;
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
}

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = app.get(path).send().await.unwrap();
    let s = r.status().as_u16();
    let h = r.headers().clone();
    (s, h, r.text().await.unwrap())
}

/// Signs at `path` with a typed name; the status.
async fn sign_typed(app: &TestApp, path: &str, name: &str) -> u16 {
    let form = reqwest::multipart::Form::new().text("signature_typed", name.to_string());
    let r = app.post(path).multipart(form).send().await.unwrap();
    r.status().as_u16()
}

/// Posts `field` = `value` to `path`; the status and the page.
pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    field: &str,
    value: &str,
) -> (u16, String) {
    let r = app.post(path).form(&[(field, value)]).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn signer_page_over_http(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "cabinet", Plan::Piagam).await;
    let core = &app.state.core;
    let mut alice = signer("alice@email.com", 1, "fr");
    alice.second_factor = SecondFactor::Mail;
    let bob = signer("bob@email.com", 2, "en");
    let pdf = pdf_with_pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]);
    let (e, links) = sent(core, tn.org.id, draft(pdf, vec![alice, bob])).await;
    let (a, b) = (path_of(&links[0].url, &app), path_of(&links[1].url, &app));

    // Bob first: not his turn — no form, no page image, no download.
    let (s, _, html) = page(&app, &b).await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"data-testid="not-your-turn""#), "{html}");
    assert!(!html.contains("sign-submit") && !html.contains("doc-page"));
    let r = app.get(&format!("{b}/pages/1/1")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = app.get(&format!("{b}/download/1")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Alice: the document's two pages, her field highlighted, the code step first, in French,
    // with headers that keep the token in the address from leaking.
    let (s, h, html) = page(&app, &a).await;
    assert_eq!(s, 200);
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"));
    assert!(html.contains(r#"<html lang="fr">"#));
    assert_eq!(
        html.matches(r#"data-testid="doc-page""#).count(),
        2,
        "{html}"
    );
    assert_eq!(html.matches(r#"class="field field-signature""#).count(), 1);
    assert!(html.contains(r#"data-testid="otp-input""#) && html.contains("otp-submit"));
    assert!(html.contains("Recevoir un code"));
    assert!(!html.contains("sign-submit"), "the form before the code");
    // Page images: PNG, rendered once per version and then cached.
    for n in [1, 2] {
        let r = app.get(&format!("{a}/pages/1/{n}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        let png = r.bytes().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let img = image::load_from_memory(&png).unwrap();
        // 1.5 px per point: the test page is 595 × 842 points.
        assert!(
            (892..=893).contains(&img.width()) && img.height() == 1263,
            "{}x{}",
            img.width(),
            img.height()
        );
    }
    assert!(app.state.core.pages.len() >= 2);
    let r = app.get(&format!("{a}/pages/1/3")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Signing before the code: refused on the page.
    assert_eq!(sign_typed(&app, &a, "Alice Dupont").await, 422);
    // The code, by mail (the development outbox here): six digits, hashed in the database.
    let r = app.post(&format!("{a}/code")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("a•••@email.com"), "{html}");
    let mails = app.store.list_mail(Some(tn.org.id), 10).await.unwrap();
    let mail = mails
        .iter()
        .find(|m| m.subject == "Votre code de signature")
        .unwrap();
    let code = code_after(&mail.text, ":").unwrap();
    // A wrong code: refused with the page's words; the right one opens the form.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, html) = post_form(&app, &format!("{a}/verify"), "code", wrong).await;
    assert_eq!(s, 422);
    assert!(html.contains("Le code est faux"));
    assert_eq!(
        post_form(&app, &format!("{a}/verify"), "code", &code)
            .await
            .0,
        303
    );
    // A spent code does not work twice.
    assert_eq!(
        post_form(&app, &format!("{a}/verify"), "code", &code)
            .await
            .0,
        422
    );
    let (_, _, html) = page(&app, &a).await;
    assert!(html.contains(r#"data-testid="sign-submit""#), "{html}");
    for hook in [
        "signature-typed",
        "signature-draw",
        "signature-upload",
        "decline-open",
    ] {
        assert!(html.contains(&format!(r#"data-testid="{hook}""#)), "{hook}");
    }
    // Nothing to sign with: refused; an upload that is no image: refused.
    assert_eq!(sign_typed(&app, &a, " ").await, 422);
    let bad = reqwest::multipart::Form::new().part(
        "signature_upload",
        reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("x.png"),
    );
    let r = app.post(&a).multipart(bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("PNG"));
    // An uploaded image: signed.
    let upload = reqwest::multipart::Form::new().part(
        "signature_upload",
        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("signature.png"),
    );
    let r = app.post(&a).multipart(upload).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), a);
    let (_, _, html) = page(&app, &a).await;
    assert!(html.contains(r#"data-testid="signed-done""#), "{html}");
    assert!(html.contains(r#"data-testid="download-signed""#));
    let r = app.get(&format!("{a}/download/1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let signed = r.bytes().await.unwrap();
    assert!(signed.starts_with(b"%PDF-"));
    outside_validators_accept(&app, &signed, 1).await;
    // Signing again: the page says it is done.
    assert_eq!(sign_typed(&app, &a, "Alice").await, 422);

    // Bob's turn now (English): he declines; a reason is required.
    let (_, _, html) = page(&app, &b).await;
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("sign-submit"));
    assert_eq!(
        post_form(&app, &format!("{b}/decline"), "reason", " ")
            .await
            .0,
        422
    );
    assert_eq!(
        post_form(
            &app,
            &format!("{b}/decline"),
            "reason",
            "Le montant est faux"
        )
        .await
        .0,
        303
    );
    let (_, _, html) = page(&app, &b).await;
    assert!(html.contains(r#"data-testid="declined-done""#), "{html}");
    let (env, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(env.status, EnvelopeStatus::Declined);

    // Unknown links: the "gone" page, 404; the audit trail has the code steps, never the code.
    let (s, _, html) = page(&app, "/fr/sign/nope").await;
    assert_eq!(s, 404);
    assert!(html.contains(r#"data-testid="gone""#));
    let target = format!("envelope:{}", e.uuid);
    let wanted = [
        "recipient.code_sent",
        "recipient.code_refused",
        "recipient.code_verified",
        "recipient.signed",
        "recipient.declined",
    ];
    // Audit records are written in batches: wait for the last one.
    let audit = eventually(10, "the audit records", || async {
        let audit: Vec<_> = app
            .store
            .audit_records(tn.org.id, 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(target.as_str()))
            .collect();
        wanted
            .iter()
            .all(|w| audit.iter().any(|r| r.action == *w))
            .then_some(audit)
    })
    .await;
    assert!(!audit.iter().any(|r| r.details.contains(&code)));
    app.stop().await;
}

async fn codes_by_sms_go_to_the_gateway(backend: Backend) {
    let gateway = Receiver::start(vec![200]).await;
    let url = gateway.url.clone();
    let app = spawn_with(backend, |c| c.sms_webhook_url = Some(url)).await;
    let tn = tenant(&app, "sms", Plan::Piagam).await;
    let core = &app.state.core;
    let mut r = signer("sari@email.com", 1, "id");
    r.second_factor = SecondFactor::Sms;
    r.mobile = Some("+6281234567890".into());
    let pdf = pdf_with_pages(&["Pihak pertama <@signature1@>"]);
    let (e, links) = sent(core, tn.org.id, draft(pdf, vec![r])).await;
    let a = path_of(&links[0].url, &app);
    let r = app.post(&format!("{a}/code")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("90"), "masked number");
    eventually(20, "the SMS at the gateway", || async {
        (!gateway.is_empty()).then_some(())
    })
    .await;
    let sms = gateway.deliveries()[0].json();
    assert_eq!(sms["to"], "+6281234567890");
    let code = code_after(sms["text"].as_str().unwrap(), ":").unwrap();
    assert_eq!(
        post_form(&app, &format!("{a}/verify"), "code", &code)
            .await
            .0,
        303
    );
    assert_eq!(sign_typed(&app, &a, "Sari Wulandari").await, 303);
    let (env, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(env.status, EnvelopeStatus::Completed);
    app.stop().await;
}

crate::both_backends!(signer_page_over_http, codes_by_sms_go_to_the_gateway,);

/// Two signers with tags sign in turn in a real browser — Alice types her name after a code
/// mailed to a real SMTP server, Bob draws — Bob's early visit shows `not-your-turn`, a second
/// envelope is declined, and the completion webhook arrives signed. The result passes pyHanko.
///
/// A multi-threaded runtime, as for every server test: the validators run as blocking child
/// processes and fetch revocation data from the server meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_in_a_real_browser() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let (smtpd, app) = spawn_mailing(Backend::Sqlite).await;
    let tn = tenant(&app, "navigateur", Plan::Piagam).await;
    let core = &app.state.core;
    let rx = Receiver::start(vec![200]).await;
    let secret = subscribe(core, tn.org.id, &rx.url, "envelope.*").await;
    let mut alice = signer("alice@email.com", 1, "fr");
    alice.second_factor = SecondFactor::Mail;
    let bob = signer("bob@email.com", 2, "en");
    let pdf = pdf_with_pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]);
    let (e, links) = sent(core, tn.org.id, draft(pdf, vec![alice, bob])).await;
    // The invitation reaches the SMTP server with Alice's link.
    eventually(20, "the invitation at the SMTP server", || async {
        let out = smtpd.out.lock().unwrap().clone();
        out.contains(&links[0].url).then_some(())
    })
    .await;

    let browser = Browser::start().await;
    // Bob, early.
    browser.go(&links[1].url).await;
    browser.find(r#"[data-testid="not-your-turn"]"#).await;

    // Alice: the page images load; a code by mail; she types her name and signs.
    browser.go(&links[0].url).await;
    browser.find(r#"[data-testid="doc-page"]"#).await;
    // The first page image loads under the page's Content-Security-Policy (the others are
    // lazy).
    eventually(15, "the first page image", || async {
        browser
            .script("const i = document.querySelector('[data-testid=doc-page]'); return i.complete && i.naturalWidth > 800")
            .await
            .as_bool()
            .filter(|ok| *ok)
    })
    .await;
    browser.click(r#"[data-testid="otp-send"]"#).await;
    browser.find(r#"[data-testid="otp-sent"]"#).await;
    let code = eventually(20, "the code at the SMTP server", || async {
        let out = smtpd.out.lock().unwrap().clone();
        code_after(&out, "Votre code pour signer")
    })
    .await;
    browser
        .type_into(r#"[data-testid="otp-input"]"#, &code)
        .await;
    browser.click(r#"[data-testid="otp-submit"]"#).await;
    sign_as_typed(&browser, "Alice Dupont").await;

    // Bob: draws his signature on the canvas and signs.
    browser.go(&links[1].url).await;
    browser.draw(r#"[data-testid="signature-draw"]"#).await;
    let drawn = browser
        .script("return document.getElementById('drawn').value")
        .await;
    assert!(
        drawn
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{drawn}"
    );
    browser.click(r#"[data-testid="sign-submit"]"#).await;
    browser.find(r#"[data-testid="signed-done"]"#).await;
    browser.find(r#"[data-testid="download-signed"]"#).await;

    let (done, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    outside_validators_accept(&app, &completed_pdf(core, &done).await, 2).await;

    // A second envelope, declined in the browser.
    let (_, links2) = sent(
        core,
        tn.org.id,
        draft(
            pdf_with_pages(&["Il cliente <@signature1@>"]),
            vec![signer("carla@email.com", 1, "it")],
        ),
    )
    .await;
    browser.go(&links2[0].url).await;
    browser.click(r#"[data-testid="decline-open"]"#).await;
    browser
        .type_into(r#"[data-testid="decline-reason"]"#, "Non sono d'accordo")
        .await;
    browser.click(r#"[data-testid="decline-submit"]"#).await;
    browser.find(r#"[data-testid="declined-done"]"#).await;
    browser.close().await;

    // The completion and the refusal reached the receiver, signed.
    eventually(30, "the completion and refusal webhooks", || async {
        let d = rx.deliveries();
        let types: Vec<String> = d.iter().map(|d| d.json()["type"].to_string()).collect();
        (types.iter().any(|t| t.contains("envelope.completed"))
            && types.iter().any(|t| t.contains("envelope.declined")))
        .then_some(d)
    })
    .await
    .iter()
    .for_each(|d| standard_webhooks_verify(secret.expose(), d).unwrap());
    app.stop().await;
}
