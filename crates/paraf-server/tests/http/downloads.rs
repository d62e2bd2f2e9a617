//! Downloads stream from the blob store (on files, and in the S3 pass on a bucket): a large
//! document reaches the signer page and a file link with its `Content-Length` and intact;
//! once its stored bytes are forged behind the server's back, the download breaks off short
//! of its length — the forged file is never served whole — and `/metrics` counts the error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::audit::Actor;
use paraf_domain::Plan;
use paraf_testkit::pdf::pages_with_content;

use crate::common::*;
use crate::envelopes::{alice_signs, draft, signer};

/// The path of a URL the server made (its public URL may name another host).
fn path_of(url: &str) -> String {
    format!("/{}", url.splitn(4, '/').nth(3).unwrap())
}

async fn documents_stream_and_a_forged_file_is_never_served_whole(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "flux", Plan::Piagam).await;
    let core = &app.state.core;
    // A document of about 2.5 MB (a page, then comment lines in its content stream).
    let mut content = "BT /F1 14 Tf 50 800 Td (Le client <@signature1@>) Tj ET\n".to_string();
    for i in 0..40_000 {
        content.push_str(&format!(
            "% padding line {i:08} ....................................\n"
        ));
    }
    let pdf = pages_with_content(&[content]);
    assert!(pdf.len() > 2_000_000);
    let e = core
        .create_envelope(
            t.org.id,
            draft(pdf.clone(), vec![signer("alice@email.com", 1, "fr")]),
            &Actor::cli(),
        )
        .await
        .unwrap();
    let links = core
        .send_envelope(t.org.id, e.id, &Actor::cli())
        .await
        .unwrap();
    let on_page = format!("{}/download/1", path_of(&links[0].url));

    // Before signing: the document as sent, streamed with its length.
    let (files, _) = core.envelope_contents(&e).await.unwrap();
    let sent = core.document_file(&files[0], true).await.unwrap();
    let r = app.get(&on_page).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        sent.len().to_string().as_str()
    );
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), sent);

    // Signed and sealed: the signer page and the file link give the final file.
    let done = alice_signs(core, &links[0].url).await;
    assert_eq!(done.status.as_str(), "completed");
    let (files, _) = core.envelope_contents(&done).await.unwrap();
    let signed = core.document_file(&files[0], true).await.unwrap();
    assert!(signed.len() > pdf.len());
    let on_link = path_of(&core.file_links(&done.uuid).document);
    for path in [&on_page, &on_link] {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.headers()["content-length"],
            signed.len().to_string().as_str()
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), signed, "{path}");
    }

    // Forged in the store (same length, one byte changed near the end): every download
    // breaks off before its end.
    let mut forged = signed.clone();
    let at = forged.len() - 10;
    forged[at] ^= 0x20;
    app.forge_blob(&files[0].current, forged).await;
    for path in [&on_page, &on_link] {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), 200, "the headers leave before the check");
        let body = r.bytes().await;
        assert!(body.is_err(), "{path}: a forged file served whole");
    }
    let m = app.text("/metrics").await;
    let errors: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix("paraf_blob_errors_total"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no blob errors in {m}"));
    assert!(errors >= 2.0, "{m}");
    app.stop().await;
}

crate::both_backends!(documents_stream_and_a_forged_file_is_never_served_whole);
