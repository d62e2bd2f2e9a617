//! Envelope benchmark (`cargo bench -p paraf-server --bench envelope`), a plain `main`:
//!
//! 1. **Last click → completion webhook**: a running server (SQLite, files on disk, built-in
//!    CA/TSA, default job polling of 1 s), a 10-page PDF with two tagged signers; the first
//!    signs, then the time from the second signer's form post on the signer page until a local
//!    receiver holds the `envelope.completed` webhook: their signature (certificate issued,
//!    PAdES B-LT), the document timestamp (B-LTA), the proof certificate (sealed, B-LTA) and
//!    the delivery. 10 envelopes; median, min, max.
//! 2. **Page image render**: every page of the same 10-page PDF rendered to PNG by hayro at the
//!    signer page's scale, cold (no cache); per page, over 5 rounds; median, min, max.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use paraf_core::audit::Actor;
use paraf_core::envelopes::{Draft, DraftDocument, SignatureInput, Visit};
use paraf_domain::{Email, EnvelopeHeader, NewRecipient, Plan, SecondFactor, SignatureModel};
use paraf_testkit::app::{spawn_with, tenant};
use paraf_testkit::db::Backend;
use paraf_testkit::webhook::Receiver;

const ROUNDS: usize = 10;

fn ten_pages() -> Vec<u8> {
    let texts: Vec<String> = (1..=10)
        .map(|i| match i {
            1 => "Contrat de prestation - page 1 - Le client <@signature1@>".to_string(),
            10 => "Page 10 - Le prestataire <@signature2@>".to_string(),
            n => format!("Contrat de prestation - page {n} - conditions generales"),
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    paraf_testkit::pdf::pages(&refs)
}

fn recipient(email: &str) -> NewRecipient {
    NewRecipient {
        group: 1,
        email: Email::parse(email).unwrap(),
        first_name: "Bench".into(),
        last_name: "Signer".into(),
        language: "en".into(),
        mobile: None,
        second_factor: SecondFactor::None,
    }
}

fn stats(name: &str, unit_ms: &mut [f64]) {
    unit_ms.sort_by(f64::total_cmp);
    let median = unit_ms[unit_ms.len() / 2];
    println!(
        "{name}: median {median:.1} ms, min {:.1} ms, max {:.1} ms ({} samples)",
        unit_ms[0],
        unit_ms[unit_ms.len() - 1],
        unit_ms.len()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pdf = ten_pages();
    rt.block_on(async {
        let app = spawn_with(Backend::Sqlite, |c| {
            c.job_poll = Duration::from_millis(1000);
        })
        .await;
        let tn = tenant(&app, "bench", Plan::Nusantara).await;
        let core = &app.state.core;
        let rx = Receiver::start(vec![200]).await;
        core.webhooks()
            .create(
                tn.org.id,
                &rx.url,
                &["envelope.completed".to_string()],
                "",
                &Actor::cli(),
            )
            .await
            .unwrap();
        let mut click_to_webhook = Vec::new();
        for round in 0..=ROUNDS {
            let d = Draft {
                header: EnvelopeHeader {
                    template: false,
                    title: "Bench".into(),
                    model: SignatureModel::SignerCertificate,
                    sender_email: Email::parse("bench@paraf.test").unwrap(),
                    created_by: None,
                    face: "bench".into(),
                    metadata: serde_json::json!({}),
                    options: serde_json::json!({}),
                    expires_at: None,
                    reminder_days: None,
                },
                documents: vec![DraftDocument {
                    name: "contrat.pdf".into(),
                    bytes: pdf.clone(),
                }],
                recipients: vec![recipient("a@paraf.test"), recipient("b@paraf.test")],
                fields: vec![],
                logo: None,
            };
            let e = core
                .create_envelope(tn.org.id, d, &Actor::cli())
                .await
                .unwrap();
            let links = core
                .send_envelope(tn.org.id, e.id, &Actor::cli())
                .await
                .unwrap();
            let token = |i: usize| links[i].url.rsplit('/').next().unwrap().to_string();
            let first = SignatureInput {
                typed: Some("Bench Signer".into()),
                ..SignatureInput::default()
            };
            core.sign(&token(0), first, &Visit::default())
                .await
                .unwrap();
            let seen = rx.len();
            let form = reqwest::multipart::Form::new().text("signature_typed", "Bench Signer");
            let t0 = Instant::now();
            let r = app
                .post(&format!("/en/sign/{}", token(1)))
                .multipart(form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            while rx.len() == seen {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let body = rx.deliveries()[seen].json();
            assert_eq!(body["type"], "envelope.completed");
            assert_eq!(body["data"]["envelope"]["id"], e.uuid.as_str());
            // The first round warms caches up (CA files, fonts).
            if round > 0 {
                click_to_webhook.push(ms);
            }
        }
        stats(
            "last click -> completion webhook (10 pages, B-LTA, proof)",
            &mut click_to_webhook,
        );
        app.stop().await;
    });

    let mut per_page = Vec::new();
    for _ in 0..5 {
        for page in 1..=10 {
            let t0 = Instant::now();
            let png = paraf_core::pages::render_png(pdf.clone(), page).unwrap();
            per_page.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert!(png.starts_with(b"\x89PNG"));
        }
    }
    stats("page image render (cold, per page)", &mut per_page);
}
