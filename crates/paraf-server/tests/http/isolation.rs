//! Tenant isolation: every route of the OpenAPI document (which lists every route the server
//! has) is called with another organisation's credentials of every kind, and nothing of the
//! first organisation may appear in any answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::{NewMail, OrgId, Plan, SignedDocument};

use crate::common::*;

/// Path parameters naming data of the calling organisation (tenant B), so that routes which
/// look something up answer it instead of 404: a signed document waiting for its download
/// (`{id_dokumen}`) and a pending activation link (`{secret}`).
struct Params {
    id_dokumen: String,
    secret: String,
    /// A personal API token of B's administrator (the GesDocs `/api/tokens/{id}`).
    token_id: String,
    /// A webhook delivery of B's (`/api/webhooks/deliveries/{delivery}/redeliver`).
    delivery_id: String,
    /// A signing link of an envelope of B's (the signer page).
    link_token: String,
    /// An invitation into B (the invitation page).
    invitation: String,
    /// A sent document of B's made through Alphasign (`/api/v1/documents/{document}`).
    alphasign_document: String,
    /// A published DST of B's (`/api/DST/{id}…`; the sweep's DELETE soft-deletes it), a
    /// note on it and its document (`/api/resource/{id}`).
    dst: String,
    dst_note: String,
    resource: String,
    /// A user of B's, a signer (`/api/user/{id}…`), and their built-in identity, which has an
    /// appearance (`…/identity/{identity-id}/appearance`).
    user: String,
    identity: String,
}

/// A signed document of `org` waiting for its single download; returns its id.
async fn signed_document(app: &TestApp, org: OrgId, id: &str) -> String {
    let blob = app.state.blobs.put(&simple_pdf()).await.unwrap();
    app.store
        .put_signed_document(&SignedDocument {
            id: id.to_string(),
            org,
            blob,
            file_name: "dokumen_signed.pdf".into(),
            created_at: app.clock.now_ts(),
            downloaded_at: None,
        })
        .await
        .unwrap();
    id.to_string()
}

async fn params(app: &TestApp, org: OrgId) -> Params {
    let svc = app.state.identities();
    let identity = svc
        .register(
            org,
            "Calon Penanda Tangan",
            Some("calon@tenant-b.example"),
            None,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    let (_, link) = svc
        .verify(org, identity.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    let admin = app.store.list_users(org).await.unwrap()[0].clone();
    let (token, _) = app
        .state
        .core
        .create_personal_token(org, admin.id, "sweep", &paraf_core::Actor::system())
        .await
        .unwrap();
    // A webhook delivery of B's (to redeliver).
    let rx = paraf_testkit::webhook::Receiver::start(vec![200]).await;
    let hooks = app.state.core.webhooks();
    let (ep, _) = hooks
        .create(org, &rx.url, &[], "", &paraf_core::Actor::system())
        .await
        .unwrap();
    app.state
        .core
        .emit(org, "envelope.sent", serde_json::json!({}))
        .await
        .unwrap();
    let delivery = eventually(20, "B's webhook delivery", || async {
        hooks
            .deliveries(org, Some(ep.id), 1)
            .await
            .unwrap()
            .first()
            .map(|d| d.id)
    })
    .await;
    let (_, links) = crate::envelopes::sent(
        &app.state.core,
        org,
        crate::envelopes::draft(
            paraf_testkit::pdf::pages(&["Le client <@signature1@>"]),
            vec![crate::envelopes::signer("client@tenant-b.example", 1, "fr")],
        ),
    )
    .await;
    let invited = app
        .state
        .core
        .invite_member(
            org,
            "colleague@tenant-b.example",
            paraf_domain::Role::Signer,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    let mut d = crate::envelopes::draft(
        paraf_testkit::pdf::pages(&["Kontrak"]),
        vec![crate::envelopes::signer("client@tenant-b.example", 1, "id")],
    );
    d.header.face = "alphasign".into();
    let alphasign = app
        .state
        .core
        .create_envelope(org, d, &paraf_core::Actor::system())
        .await
        .unwrap();
    // Sent, so that the sweep's DELETE is refused rather than deleting it.
    app.state
        .core
        .send_envelope(org, alphasign.id, &paraf_core::Actor::system())
        .await
        .unwrap();
    let admin_token = app
        .state
        .core
        .create_personal_token(org, admin.id, "dst", &paraf_core::Actor::system())
        .await
        .unwrap()
        .1;
    let body =
        crate::signingtoday::two_groups_dst("Kontrak B", &paraf_testkit::pdf::pages(&["Kontrak"]));
    let (s, dst) = crate::signingtoday::st(
        app,
        "POST",
        "/api/robot/DSTs",
        Some(admin_token.expose()),
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{dst}");
    let (s, note) = crate::signingtoday::st(
        app,
        "POST",
        &format!("/api/DST/{}/note", dst["id"].as_str().unwrap()),
        Some(admin_token.expose()),
        Some(serde_json::json!({"text": "catatan"})),
    )
    .await;
    assert_eq!(s, 200, "{note}");
    let signer = app
        .store
        .list_users(org)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == paraf_domain::Role::Signer)
        .unwrap();
    app.state
        .core
        .set_appearance(
            org,
            paraf_core::appearances::AppearanceOwner::User(signer.id),
            paraf_testkit::pdf::PNG.to_vec(),
            "b.png",
            "B",
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    Params {
        identity: format!("00000000-0000-4000-9000-{:012x}", signer.id.0),
        user: paraf_signingtoday::user_uuid(signer.id),
        dst: dst["id"].as_str().unwrap().to_string(),
        dst_note: note["id"].to_string(),
        resource: dst["documents"][0]["plainDocumentUuid"]
            .as_str()
            .unwrap()
            .to_string(),
        alphasign_document: alphasign.uuid,
        invitation: invited.rsplit('/').next().unwrap().to_string(),
        link_token: crate::envelopes::token_of(&links[0].url).to_string(),
        id_dokumen: signed_document(app, org, "b0000000000000000000000000000001").await,
        secret: link.secret,
        token_id: token.id.to_string(),
        delivery_id: delivery.to_string(),
    }
}

fn concrete(path: &str, p: &Params) -> String {
    let path = if path.starts_with("/api/DST/")
        || path.starts_with("/api/robot/DST/")
        || path.starts_with("/api/notifications/dst/")
    {
        path.replace("{id}", &p.dst)
    } else if path.starts_with("/api/resource/") || path.starts_with("/api/pdfResource/") {
        path.replace("{id}", &p.resource)
    } else if path.starts_with("/api/user/") {
        path.replace("{id}", &p.user)
    } else {
        path.to_string()
    };
    path.replace("{ca}", "issuing")
        .replace("{docId}", "0")
        .replace("{signId}", "0")
        .replace("{noteId}", &p.dst_note)
        .replace("{identity-id}", &p.identity)
        .replace("{request}", "MAA=")
        .replace("{file}", "root.pem")
        .replace("{id_dokumen}", &p.id_dokumen)
        .replace("{secret}", &p.secret)
        .replace("{dialect}", "bsre")
        .replace("{id}", &p.token_id)
        .replace("{delivery}", &p.delivery_id)
        .replace("{invitation}", &p.invitation)
        .replace("{lang}", "fr")
        .replace("{token}", &p.link_token)
        .replace("{doc}", "1")
        .replace("{page}", "1")
        .replace("{document}", &p.alphasign_document)
        .replace("{hash}", &"0".repeat(64))
}

async fn a_foreign_organisation_never_reads_anothers_data(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let b = tenant(&app, "tenant-b", Plan::Nusantara).await;
    app_credential(&app, b.org.id, "b-app", &[]).await;
    let params = params(&app, b.org.id).await;
    let a_document = signed_document(&app, a.org.id, "a0000000000000000000000000000001").await;
    // Tenant A has data on every shared route: a mail in its outbox, tokens, a session.
    let secret_subject = "Kontrak rahasia tenant-a";
    app.store
        .queue_mail(
            &NewMail {
                org: Some(a.org.id),
                to: "direksi@tenant-a.example".into(),
                subject: secret_subject.into(),
                text: "isi rahasia".into(),
                html: None,
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap();
    let (_, v) = json(
        app.post("/api/oauth/token")
            .form(&[
                ("grant_type", "password"),
                ("username", "tenant-b/admin@tenant-b.example"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let b_oauth = v["access_token"].as_str().unwrap().to_string();
    let r = app
        .post("/api/session")
        .json(&serde_json::json!({"email": "admin@tenant-b.example", "organization": "tenant-b", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let b_cookie = first_cookie(&r);
    let a_markers = [
        "tenant-a",
        "admin@tenant-a.example",
        "signer@tenant-a.example",
        secret_subject,
        "direksi@tenant-a.example",
        a.admin_token.as_str(),
    ];

    let (_, doc) = json(app.get("/openapi.json").send().await.unwrap()).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 14, "{:?}", paths.keys());
    let mut calls = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            for (kind, header, value) in [
                ("api token", "authorization", bearer(&b.admin_token)),
                ("signer token", "authorization", bearer(&b.signer_token)),
                ("basic", "authorization", basic("b-app", PASSWORD)),
                ("oauth", "authorization", bearer(&b_oauth)),
                ("session", "cookie", b_cookie.clone()),
            ] {
                let url = app.at(&concrete(path, &params));
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let r = app
                    .http
                    .request(m, &url)
                    .header(header, &value)
                    .header("origin", &app.url)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body = String::from_utf8_lossy(&r.bytes().await.unwrap()).to_string();
                assert!(
                    status < 500,
                    "{method} {path} as B's {kind}: {status} {body}"
                );
                // Every documented route exists (the sweep relies on the document); a
                // personal token is "not found" for anyone but its owner (B's admin).
                let not_owner = path == "/api/tokens/{id}" && kind == "signer token";
                // The password page's link is a secret mailed to its user: the sweep has none.
                let mailed_link = path == "/password/{token}" && body.contains("password-gone");
                // B's DST, once the sweep's DELETE went through, is "not found" (an
                // ErrorResponse naming the id, not a missing route).
                let deleted_dst = (path.starts_with("/api/DST/")
                    || path.starts_with("/api/notifications/dst/")
                    || path.starts_with("/api/DSTs/instantiationGroup/")
                    || path.starts_with("/api/robot/DST/")
                    || path.starts_with("/api/pdfResource/")
                    || path.starts_with("/api/resource/"))
                    && (body.contains(r#""target":"id""#) || body.contains(r#""target":"noteId""#));
                // B's appearance, once the sweep's DELETE removed it.
                let removed_appearance =
                    path.ends_with("/appearance") && body.contains(r#""target":"identity-id""#);
                assert!(
                    (status != 404
                        || not_owner
                        || deleted_dst
                        || mailed_link
                        || removed_appearance)
                        && status != 405,
                    "{method} {path} is documented but does not route: {status} {body}"
                );
                for m in a_markers {
                    assert!(
                        !body.contains(m),
                        "{method} {path} as B's {kind} revealed {m:?}: {body}"
                    );
                }
                calls += 1;
            }
        }
    }
    assert!(calls >= 80, "{calls}");
    // A's signed document is not B's to download (and stays downloadable).
    let r = app
        .get(&format!("/api/sign/download/{a_document}"))
        .header("authorization", basic("b-app", PASSWORD))
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!((s, v["status_code"].as_u64()), (404, Some(2051)), "{v}");
    app_credential(&app, a.org.id, "a-app", &[]).await;
    let r = app
        .get(&format!("/api/sign/download/{a_document}"))
        .header("authorization", basic("a-app", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // And B sees its own data where it has some.
    let (s, v) = json(
        app.get("/api/me")
            .header("authorization", bearer(&b.admin_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["organization"]["slug"].as_str()),
        (200, Some("tenant-b"))
    );
    let (s, v) = json(
        app.get("/admin/outbox")
            .header("authorization", bearer(&a.admin_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["mails"][0]["subject"], secret_subject);
    app.stop().await;
}

crate::both_backends!(a_foreign_organisation_never_reads_anothers_data);
