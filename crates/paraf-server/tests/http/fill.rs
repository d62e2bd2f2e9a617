//! Text, date and check-box fields: created empty at send with the signature fields (the
//! organisation certifies the prepared document, DocMDP P=2), shown on the signer page,
//! filled by their recipient in an update under their own signature; every validator
//! accepts the result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::envelopes::{SignatureInput, Visit};
use paraf_domain::{FieldKind, FieldUnit, NewField, Plan};
use paraf_testkit::pdf::pages;

use crate::common::*;
use crate::envelopes::{
    completed_pdf, draft, drawn, outside_validators_accept, sent, signer, token_of,
};

fn field(recipient: usize, kind: FieldKind, name: &str, required: bool, y: f64) -> NewField {
    NewField {
        document: 0,
        recipient,
        kind,
        name: name.into(),
        required,
        page: 1,
        rect: [72.0, y, 272.0, y + 30.0],
        unit: FieldUnit::Points,
    }
}

async fn recipients_fill_text_dates_and_check_boxes(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "formulaire", Plan::Piagam).await;
    let core = &app.state.core;
    let mut d = draft(
        pages(&["Bon de commande"]),
        vec![
            signer("alice@email.com", 1, "fr"),
            signer("bob@email.com", 2, "en"),
        ],
    );
    d.fields = vec![
        field(0, FieldKind::Signature, "signature_alice", true, 600.0),
        field(0, FieldKind::Text, "fonction", true, 560.0),
        field(0, FieldKind::Checkbox, "accord", true, 520.0),
        field(0, FieldKind::Text, "remarque", false, 480.0),
        field(1, FieldKind::Signature, "signature_bob", true, 300.0),
        // In percent of the page as displayed: left 10 %, top 60 %, 30 % × 5 %.
        NewField {
            rect: [10.0, 60.0, 30.0, 5.0],
            unit: FieldUnit::Percent,
            ..field(1, FieldKind::Date, "date_bob", true, 0.0)
        },
    ];
    let mut outside = d.clone();
    outside.fields[5].rect = [80.0, 60.0, 30.0, 5.0];
    let err = core
        .create_envelope(tn.org.id, outside, &paraf_core::audit::Actor::cli())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("within the page"), "{err}");
    let (e, links) = sent(core, tn.org.id, d).await;
    // Stored in points: the test page is A4, 595 × 842.
    let (_, stored) = core.envelope_contents(&e).await.unwrap();
    let date = stored.iter().find(|f| f.name == "date_bob").unwrap();
    let expect = [59.5, 842.0 * 0.35, 59.5 + 178.5, 842.0 * 0.4];
    for (got, want) in date.rect.iter().zip(expect) {
        assert!((got - want).abs() < 0.01, "{:?} vs {expect:?}", date.rect);
    }
    let (alice, bob) = (token_of(&links[0].url), token_of(&links[1].url));

    // The signer page offers Alice her fields.
    let html = app.text(&format!("/fr/sign/{alice}")).await;
    for hook in [
        "text-field-fonction",
        "text-field-accord",
        "text-field-remarque",
    ] {
        assert!(
            html.contains(&format!("data-testid=\"{hook}\"")),
            "{hook}: {html}"
        );
    }

    // Required fields: refused while missing, nothing recorded.
    let visit = Visit::default();
    let with = |values: &[(&str, &str)]| SignatureInput {
        typed: Some("Alice Dupont".into()),
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        ..SignatureInput::default()
    };
    let err = core
        .sign(alice, with(&[("accord", "on")]), &visit)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("fonction"), "{err}");
    let err = core
        .sign(alice, with(&[("fonction", "Gérante")]), &visit)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("accord"), "{err}");
    // Through the page's form, as a browser sends it.
    let form = reqwest::multipart::Form::new()
        .text("signature_typed", "Alice Dupont")
        .text("field:fonction", "Gérante")
        .text("field:accord", "on");
    let r = app
        .post(&format!("/fr/sign/{alice}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let html = app.text(&format!("/fr/sign/{alice}")).await;
    assert!(html.contains("data-testid=\"signed-done\""), "{html}");
    let done = core.sign(bob, drawn(), &visit).await.unwrap();
    let signed = completed_pdf(core, &done).await;

    // The organisation's certification and both signatures: every validator agrees.
    outside_validators_accept(&app, &signed, 3).await;
    let report = core.verify_pdf(signed.clone(), None).await.unwrap().report;
    assert_eq!(
        report.indication,
        paraf_core::engine::verify::Indication::TotalPassed,
        "{report:?}"
    );
    assert_eq!(report.signatures[0].docmdp, Some(2), "{report:?}");

    // The values are in the PDF (value and appearance) and on record.
    let doc = paraf_pdf::Document::load(signed, None).unwrap();
    let value = |name: &str| {
        let f = paraf_sign::fields::find_field(&doc, name).unwrap().unwrap();
        f.dict.get("V").cloned().unwrap()
    };
    let text = |o: paraf_pdf::Object| paraf_pdf::object::decode_text(o.as_string().unwrap());
    assert_eq!(text(value("fonction")), "Gérante");
    assert_eq!(value("accord").as_name().unwrap(), b"Yes");
    let today = app.clock.now_ts().format("%Y-%m-%d").to_string();
    assert_eq!(text(value("date_bob")), today);
    // The text field shows its value: its appearance draws text with the embedded font.
    let f = paraf_sign::fields::find_field(&doc, "fonction")
        .unwrap()
        .unwrap();
    let ap = doc.resolve_key(&f.widget, "AP").unwrap();
    let n = doc.resolve_key(ap.as_dict().unwrap(), "N").unwrap();
    let stream = n.as_stream().unwrap();
    let content = String::from_utf8_lossy(&doc.decode_stream(stream).unwrap()).into_owned();
    assert!(content.contains(" Tj"), "{content}");
    let (_, fields) = core.envelope_contents(&e).await.unwrap();
    let stored = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.clone())
    };
    assert_eq!(stored("fonction").as_deref(), Some("Gérante"));
    assert_eq!(stored("accord").as_deref(), Some("true"));
    assert_eq!(stored("remarque").as_deref(), Some(""));
    assert_eq!(stored("date_bob"), Some(today));
    app.stop().await;
}

/// In headless Chromium: Alice fills her fields and signs, Bob hands his turn to Dave; a
/// share asks for its code, then lists its file.
async fn fields_delegation_and_shares_in_a_real_browser(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "navigateur", Plan::Piagam).await;
    let core = &app.state.core;
    let mut d = draft(
        pages(&["Bon de commande"]),
        vec![
            signer("alice@email.com", 1, "fr"),
            signer("bob@email.com", 1, "en"),
        ],
    );
    d.header.options = serde_json::json!({"allow_delegation": true});
    d.fields = vec![
        field(0, FieldKind::Signature, "signature_alice", true, 600.0),
        field(0, FieldKind::Text, "fonction", true, 560.0),
        field(0, FieldKind::Checkbox, "accord", true, 520.0),
        field(1, FieldKind::Signature, "signature_bob", true, 300.0),
    ];
    let (e, links) = sent(core, tn.org.id, d).await;
    let browser = paraf_testkit::browser::Browser::start().await;
    browser.go(&links[0].url).await;
    browser
        .type_into(r#"[data-testid="text-field-fonction"]"#, "Gérante")
        .await;
    browser.click(r#"[data-testid="text-field-accord"]"#).await;
    crate::signer_page::sign_as_typed(&browser, "Alice Dupont").await;
    browser.go(&links[1].url).await;
    browser.click(r#"[data-testid="delegate-open"]"#).await;
    browser
        .type_into(r#"[data-testid="delegate-first-name"]"#, "Dave")
        .await;
    browser
        .type_into(r#"[data-testid="delegate-last-name"]"#, "Durand")
        .await;
    browser
        .type_into(r#"[data-testid="delegate-email"]"#, "dave@email.com")
        .await;
    browser.click(r#"[data-testid="delegate-submit"]"#).await;
    browser.find(r#"[data-testid="delegated-done"]"#).await;
    let (_, fields) = core.envelope_contents(&e).await.unwrap();
    let fonction = fields.iter().find(|f| f.name == "fonction").unwrap();
    assert_eq!(fonction.value.as_deref(), Some("Gérante"));
    let (_, rs) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(rs[1].email.as_str(), "dave@email.com");

    // A share: the code first, then the file.
    let mut share = draft(
        pages(&["Annexe"]),
        vec![signer("john@example.com", 1, "en")],
    );
    share.header.title = "Annexe".into();
    let (_, links) = core
        .share_documents(tn.org.id, share, &paraf_core::audit::Actor::cli())
        .await
        .unwrap();
    browser.go(&links[0].url).await;
    browser.click(r#"[data-testid="otp-send"]"#).await;
    browser.find(r#"[data-testid="otp-sent"]"#).await;
    let mails = app.store.list_mail(Some(tn.org.id), 20).await.unwrap();
    let mail = mails
        .iter()
        .find(|m| m.to == "john@example.com" && !m.subject.starts_with("Documents shared"))
        .unwrap();
    let code = crate::signer_page::code_after(&mail.text, ":").unwrap();
    browser
        .type_into(r#"[data-testid="otp-input"]"#, &code)
        .await;
    browser.click(r#"[data-testid="otp-submit"]"#).await;
    let link = browser.find(r#"[data-testid="download-file"]"#).await;
    assert!(!link.is_empty());
    browser.close().await;
    app.stop().await;
}

crate::both_backends!(
    recipients_fill_text_dates_and_check_boxes,
    fields_delegation_and_shares_in_a_real_browser,
);
