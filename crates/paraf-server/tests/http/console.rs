//! The admin console (`/console`): a real headless Chromium (driven through chromedriver's W3C
//! WebDriver protocol, spoken with `reqwest`) logs in, adds an API credential through the
//! "Tambah API" form, and the application then calls the BSrE dialect with it; plus
//! HTTP-level checks of login, sessions, CSRF and Origin refusals, edit/disable/delete,
//! identities, and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::{Plan, Role};
use serde_json::json;

use crate::common::*;

const NIK: &str = "3171012345678901";
const UA: &str = "paraf-console-test";

// ---------------------------------------------------------------- HTTP helpers

/// The value of cookie `name` set by `resp`.
fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_line(resp, name).map(|l| {
        l.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_string()
    })
}

/// The whole `Set-Cookie` line for cookie `name`.
fn set_cookie_line(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The first CSRF token of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Submits the login form (after fetching it for its double-submit token).
async fn login_response(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    let r = app.get("/console/login").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = set_cookie(&r, "paraf_console_login").unwrap();
    let html = r.text().await.unwrap();
    assert_eq!(csrf_of(&html), token);
    app.post("/console/login")
        .header("cookie", format!("paraf_console_login={token}"))
        .header("origin", &app.url)
        .header("user-agent", UA)
        .form(&[("email", login), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

/// A signed-in console session over plain HTTP.
struct Console<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Console<'a> {
    async fn login(app: &'a TestApp, login: &str) -> Console<'a> {
        let r = login_response(app, login, PASSWORD).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(location(&r), "/console");
        let cookie = format!("paraf_session={}", set_cookie(&r, "paraf_session").unwrap());
        let mut c = Console {
            app,
            cookie,
            csrf: String::new(),
        };
        let (s, html) = c.page("/console").await;
        assert_eq!(s, 200, "{html}");
        c.csrf = csrf_of(&html);
        c
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let r = self
            .app
            .get(path)
            .header("cookie", &self.cookie)
            .header("user-agent", UA)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token, from the server's own origin.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        f.push(("csrf", &self.csrf));
        self.post_raw(path, &f, Some(&self.app.url)).await
    }

    async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut r = self
            .app
            .post(path)
            .header("cookie", &self.cookie)
            .header("user-agent", UA)
            .form(fields);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send().await.unwrap()
    }
}

/// An authenticated BSrE call (status check) with an application credential; the browser
/// test signs through `POST /api/sign/pdf` itself.
async fn bsre_call(app: &TestApp, user: &str, password: &str) -> u16 {
    app.post("/api/v2/user/check/status")
        .header("authorization", basic(user, password))
        .json(&json!({"nik": NIK}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn audit_actions(app: &TestApp, org: paraf_domain::OrgId) -> Vec<paraf_domain::AuditRecord> {
    app.store.audit_records(org, 0, 10_000).await.unwrap()
}

// ---------------------------------------------------------------- HTTP tests

async fn console_login_refuses_a_wrong_password(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let login = "tenant-a/admin@tenant-a.example";

    let r = login_response(&app, login, "salah sekali").await;
    assert_eq!(r.status(), 401);
    assert!(set_cookie(&r, "paraf_session").is_none());
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Email atau password salah"));
    // Unknown organisation, and a bare e-mail found in several organisations: refused alike.
    let r = login_response(&app, "nope/admin@tenant-a.example", PASSWORD).await;
    assert_eq!(r.status(), 401);
    let b = tenant(&app, "tenant-b", Plan::Lontar).await;
    add_user(&app, b.org.id, "admin@tenant-a.example", Role::Admin).await;
    let r = login_response(&app, "admin@tenant-a.example", PASSWORD).await;
    assert_eq!(r.status(), 401);
    assert!(set_cookie(&r, "paraf_session").is_none());
    // A signer's password is right, but the console is for administrators.
    let r = login_response(&app, "tenant-a/signer@tenant-a.example", PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "paraf_session").is_none());
    // Without the login form's token.
    let r = app
        .post("/console/login")
        .header("origin", &app.url)
        .form(&[("email", login), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "paraf_session").is_none());

    // The admin gets a session cookie: HttpOnly, SameSite=Strict, Secure by default.
    let r = login_response(&app, login, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let line = set_cookie_line(&r, "paraf_session").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(line.contains(attr), "{line}");
    }
    // Failed attempts are audited for the organisation, and so is the login.
    let records = audit_actions(&app, a.org.id).await;
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"session.refused"), "{actions:?}");
    assert!(actions.contains(&"session.started"), "{actions:?}");
    assert!(!records.iter().any(|r| r.details.contains(PASSWORD)));

    // Logout ends the session.
    let c = Console::login(&app, login).await;
    let r = c.post("/console/logout", &[]).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/console/login".into())
    );
    let (s, _) = c.page("/console").await;
    assert_eq!(s, 303);
    app.stop().await;
}

async fn console_pages_require_a_session(backend: Backend) {
    let app = spawn(backend).await;
    let _a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    for path in [
        "/console",
        "/console/credentials",
        "/console/credentials/new",
        "/console/credentials/1/edit",
        "/console/identities",
        "/console/seals",
        "/console/audit",
    ] {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/console/login", "{path}");
        // A forged or revoked session cookie is no better (and is cleared).
        let r = app
            .get(path)
            .header("cookie", "paraf_session=paraf_ses_forged")
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/console/login".into()),
            "{path}"
        );
        assert!(set_cookie_line(&r, "paraf_session")
            .unwrap()
            .contains("Max-Age=0"));
    }
    let r = app
        .post("/console/credentials")
        .header("origin", &app.url)
        .form(&[("username", "x"), ("password", "12345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/console/login".into())
    );
    // An API token is not a console session.
    let a_token = _a.admin_token.clone();
    let r = app
        .get("/console")
        .header("cookie", format!("paraf_session={a_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A signer's session (from the JSON login) is refused with 403.
    let r = app
        .post("/api/session")
        .json(&json!({"email": "signer@tenant-a.example", "organization": "tenant-a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = format!("paraf_session={}", set_cookie(&r, "paraf_session").unwrap());
    let r = app
        .get("/console")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The login page itself is open, with its security headers.
    let r = app.get("/console/login").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    app.stop().await;
}

async fn console_refuses_missing_csrf_and_foreign_origin(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let _b = tenant(&app, "tenant-b", Plan::Nusantara).await;
    let c = Console::login(&app, "tenant-a/admin@tenant-a.example").await;
    let fields = [
        ("username", "csrf-app"),
        ("password", "rahasia-123"),
        ("allowed_ips", ""),
        ("description", "x"),
        ("status", "enable"),
    ];
    // No token.
    let r = c
        .post_raw("/console/credentials", &fields, Some(&app.url))
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("CSRF"));
    // A wrong token, and another session's token.
    let mut with = fields.to_vec();
    with.push(("csrf", "00"));
    let r = c
        .post_raw("/console/credentials", &with, Some(&app.url))
        .await;
    assert_eq!(r.status(), 403);
    let other = Console::login(&app, "tenant-b/admin@tenant-b.example").await;
    let mut with = fields.to_vec();
    with.push(("csrf", &other.csrf));
    let r = c
        .post_raw("/console/credentials", &with, Some(&app.url))
        .await;
    assert_eq!(r.status(), 403);
    // The right token from a foreign origin.
    let mut with = fields.to_vec();
    with.push(("csrf", &c.csrf));
    let r = c
        .post_raw("/console/credentials", &with, Some("http://evil.example"))
        .await;
    assert_eq!(r.status(), 403);
    let r = c
        .post_raw("/console/credentials", &with, Some("null"))
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post("/console/credentials")
        .header("cookie", &c.cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&with)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Logout and login are guarded the same way.
    let r = c
        .post_raw(
            "/console/logout",
            &[("csrf", &c.csrf)],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = c.post_raw("/console/logout", &[], Some(&app.url)).await;
    assert_eq!(r.status(), 403);
    assert!(app
        .store
        .list_app_credentials(a.org.id)
        .await
        .unwrap()
        .is_empty());
    // The session still works, and the right token from the right origin is accepted.
    let r = c
        .post_raw("/console/credentials", &with, Some(&app.url))
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/console/credentials?done=created".into())
    );
    assert_eq!(
        app.store
            .list_app_credentials(a.org.id)
            .await
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

async fn console_edits_disables_and_deletes_a_credential(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let _b = tenant(&app, "tenant-b", Plan::Nusantara).await;
    let c = Console::login(&app, "tenant-a/admin@tenant-a.example").await;
    let (s, html) = c.page("/console/credentials").await;
    assert_eq!(s, 200);
    assert!(html.contains("API Credentials") && html.contains("Tambah API"));
    let (s, html) = c.page("/console/credentials/new").await;
    assert_eq!(s, 200);
    for word in [
        "Username",
        "Password",
        "IP Endpoint",
        "Deskripsi",
        "Enable",
        "Disable",
        "Save",
    ] {
        assert!(html.contains(word), "{word}");
    }

    // Validation errors show the form again, with the message at the field.
    let r = c
        .post(
            "/console/credentials",
            &[
                ("username", "erp app"),
                ("password", "short"),
                ("allowed_ips", "127.0.0.1/32, bukan-ip"),
                ("description", "<b>ERP</b>"),
                ("status", "enable"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for id in ["err-username", "err-password", "err-allowed_ips"] {
        assert!(html.contains(id), "{id}: {html}");
    }
    assert!(html.contains("&#34;bukan-ip&#34;"), "{html}");
    assert!(html.contains("&#60;b&#62;ERP&#60;/b&#62;") && !html.contains("<b>ERP</b>"));

    let create = |user: &'static str| {
        let c = &c;
        async move {
            c.post(
                "/console/credentials",
                &[
                    ("username", user),
                    ("password", "rahasia-erp-1"),
                    ("allowed_ips", "127.0.0.1/32"),
                    ("description", "Aplikasi <ERP>"),
                    ("status", "enable"),
                ],
            )
            .await
        }
    };
    let r = create("erp-app").await;
    assert_eq!(location(&r), "/console/credentials?done=created");
    let r = create("erp-app").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("sudah dipakai"));
    let creds = app.store.list_app_credentials(a.org.id).await.unwrap();
    assert_eq!(creds.len(), 1);
    let cred = &creds[0];
    assert_eq!(cred.allowed_ips.to_strings(), ["127.0.0.1/32"]);
    assert!(cred.enabled);
    let (_, html) = c.page("/console/credentials?done=created").await;
    assert!(html.contains("erp-app") && html.contains("Aplikasi &#60;ERP&#62;"));
    assert!(html.contains("Kredensial tersimpan"));

    assert_ne!(bsre_call(&app, "erp-app", "rahasia-erp-1").await, 401);
    assert_eq!(bsre_call(&app, "erp-app", "salah-sekali").await, 401);

    // The dashboard counts the application and its request (the usage counters are written
    // every half second: wait for the write, not for a fixed time).
    let html = eventually(10, "the request in the dashboard's counter", || async {
        let (s, html) = c.page("/console").await;
        (s == 200 && html.contains("id=\"requests-total\">1<")).then_some(html)
    })
    .await;
    assert!(html.contains("id=\"apps-connected\">1 / 1<"), "{html}");
    assert!(html.contains("id=\"requests-total\">1<"), "{html}");
    assert!(html.contains("<svg id=\"chart-requests\""));

    // Disable: the application is refused.
    let edit = format!("/console/credentials/{}", cred.id);
    let (s, html) = c.page(&format!("{edit}/edit")).await;
    assert_eq!(s, 200);
    assert!(html.contains("127.0.0.1/32"));
    let r = c
        .post(
            &edit,
            &[
                ("allowed_ips", "127.0.0.1/32"),
                ("description", "ERP (nonaktif)"),
                ("status", "disable"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(location(&r), "/console/credentials?done=updated");
    assert_eq!(bsre_call(&app, "erp-app", "rahasia-erp-1").await, 401);
    let (_, html) = c.page("/console").await;
    assert!(html.contains("id=\"apps-connected\">0 / 1<"), "{html}");

    // Enable with a new password: the old one no longer works.
    let r = c
        .post(
            &edit,
            &[
                ("allowed_ips", "127.0.0.1"),
                ("description", "ERP"),
                ("status", "enable"),
                ("password", "kata-sandi-baru"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/console/credentials?done=updated");
    assert_eq!(bsre_call(&app, "erp-app", "rahasia-erp-1").await, 401);
    assert_ne!(bsre_call(&app, "erp-app", "kata-sandi-baru").await, 401);
    // An IP allow-list that excludes the caller.
    let r = c
        .post(
            &edit,
            &[
                ("allowed_ips", "10.0.0.0/8"),
                ("description", "ERP"),
                ("status", "enable"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(bsre_call(&app, "erp-app", "kata-sandi-baru").await, 401);
    let r = c
        .post(&edit, &[("allowed_ips", "300.1.1.1"), ("status", "enable")])
        .await;
    assert_eq!(r.status(), 422);

    // Another organisation's admin cannot see, edit or delete it.
    let b = Console::login(&app, "tenant-b/admin@tenant-b.example").await;
    let (s, html) = b.page(&format!("{edit}/edit")).await;
    assert_eq!(s, 404);
    assert!(!html.contains("erp-app"));
    let (_, html) = b.page("/console/credentials").await;
    assert!(!html.contains("erp-app"));
    let r = b.post(&format!("{edit}/delete"), &[]).await;
    assert_eq!(r.status(), 404);
    let r = b.post(&edit, &[("status", "disable")]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.store
            .list_app_credentials(a.org.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // Delete (after the confirmation page).
    let (s, html) = c.page(&format!("{edit}/delete")).await;
    assert_eq!(s, 200);
    assert!(html.contains("erp-app"));
    let r = c.post(&format!("{edit}/delete"), &[]).await;
    assert_eq!(location(&r), "/console/credentials?done=deleted");
    assert!(app
        .store
        .list_app_credentials(a.org.id)
        .await
        .unwrap()
        .is_empty());
    let r = c
        .post(
            &edit,
            &[
                ("allowed_ips", ""),
                ("description", "ERP"),
                ("status", "enable"),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);

    // Every action is in the audit chain, with the user, IP and user agent.
    let records = audit_actions(&app, a.org.id).await;
    let actor = format!("user:{}", a.admin.id);
    let target = format!("app_credential:{}", cred.id);
    for action in [
        "session.started",
        "app_credential.created",
        "app_credential.updated",
        "app_credential.deleted",
    ] {
        let r = records
            .iter()
            .find(|r| r.action == action)
            .unwrap_or_else(|| panic!("{action} not audited: {records:?}"));
        assert_eq!(r.actor, actor, "{action}");
        assert_eq!(r.ip.as_deref(), Some("127.0.0.1"), "{action}");
        assert_eq!(r.user_agent.as_deref(), Some(UA), "{action}");
        if action != "session.started" {
            assert_eq!(r.target.as_deref(), Some(target.as_str()), "{action}");
        }
    }
    assert_eq!(
        records
            .iter()
            .filter(|r| r.action == "app_credential.updated")
            .count(),
        3
    );
    assert!(!records
        .iter()
        .any(|r| r.details.contains("kata-sandi-baru")));
    assert!(matches!(
        app.store.verify_audit_chain(a.org.id).await.unwrap(),
        paraf_domain::AuditChainReport::Intact { .. }
    ));
    // None of tenant A's actions went into B's chain.
    assert!(!audit_actions(&app, _b.org.id)
        .await
        .iter()
        .any(|r| r.action.starts_with("app_credential")));
    // The audit page lists them, newest first.
    let (s, html) = c.page("/console/audit").await;
    assert_eq!(s, 200);
    let deleted = html.find("app_credential.deleted").unwrap();
    let created = html.find("app_credential.created").unwrap();
    assert!(deleted < created);
    app.stop().await;
}

async fn console_audit_log_is_paginated_newest_first(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    for i in 0..120 {
        app.store
            .append_audit(&paraf_domain::NewAuditEvent {
                org: a.org.id,
                at: app.clock.now_ts(),
                actor: "system".into(),
                action: format!("test.event_{i:03}"),
                target: None,
                ip: None,
                user_agent: None,
                details: json!({"note": "<script>alert(1)</script>"}),
            })
            .await
            .unwrap();
    }
    let c = Console::login(&app, "tenant-a/admin@tenant-a.example").await;
    let (s, html) = c.page("/console/audit").await;
    assert_eq!(s, 200);
    assert!(html.contains("session.started"));
    assert!(html.contains("test.event_119") && !html.contains("test.event_069"));
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.find("test.event_119").unwrap() < html.find("test.event_100").unwrap());
    let start = html.find("id=\"older\"").unwrap();
    let href = &html[..start];
    let href = &href[href.rfind("href=\"").unwrap() + 6..];
    let href = href.split('"').next().unwrap().to_string();
    let (s, html) = c.page(&href).await;
    assert_eq!(s, 200);
    assert!(html.contains("test.event_069") && !html.contains("test.event_119"));
    assert!(html.contains("Lebih baru"));
    let (s, _) = c.page("/console/audit?before=1").await;
    assert_eq!(s, 200);
    app.stop().await;
}

async fn console_registers_and_verifies_an_identity(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let b = tenant(&app, "tenant-b", Plan::Nusantara).await;
    let c = Console::login(&app, "tenant-a/admin@tenant-a.example").await;
    let (s, html) = c.page("/console/identities").await;
    assert_eq!(s, 200, "{html}");
    // Neither an e-mail nor a NIK: the form comes back with the message.
    let r = c
        .post(
            "/console/identities",
            &[("name", "Budi Santoso"), ("email", ""), ("nik", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = c
        .post(
            "/console/identities",
            &[
                ("name", "Budi <Santoso>"),
                ("email", "budi@tenant-a.example"),
                ("nik", NIK),
            ],
        )
        .await;
    assert_eq!(location(&r), "/console/identities?done=registered");
    let ids = app.store.list_identities(a.org.id).await.unwrap();
    assert_eq!(ids.len(), 1);
    let id = ids[0].id;
    let (_, html) = c.page("/console/identities").await;
    assert!(html.contains("WAITING_FOR_VERIFICATION"), "{html}");
    assert!(html.contains("Budi &#60;Santoso&#62;"));
    // Another organisation cannot act on it.
    let bc = Console::login(&app, "tenant-b/admin@tenant-b.example").await;
    let r = bc
        .post(&format!("/console/identities/{id}/verify"), &[])
        .await;
    assert_eq!(r.status(), 404);
    let (_, html) = bc.page("/console/identities").await;
    assert!(!html.contains("Budi"));
    // Verify: NEW, and the activation mail is queued.
    let r = c
        .post(&format!("/console/identities/{id}/verify"), &[])
        .await;
    assert_eq!(location(&r), "/console/identities?done=verify");
    let identity = app.store.identity(a.org.id, id).await.unwrap();
    assert_eq!(identity.status, paraf_domain::IdentityStatus::New);
    let mails = app.store.list_mail(Some(a.org.id), 10).await.unwrap();
    assert!(
        mails.iter().any(|m| m.to == "budi@tenant-a.example"),
        "{mails:?}"
    );
    // An identity without e-mail: the administrator is shown the activation link once.
    let r = c
        .post(
            "/console/identities",
            &[
                ("name", "Tanpa Surel"),
                ("email", ""),
                ("nik", "3171019999999999"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/console/identities?done=registered");
    let other = app
        .store
        .identity_by_nik(
            a.org.id,
            &paraf_domain::Nik::parse("3171019999999999").unwrap(),
        )
        .await
        .unwrap();
    let r = c
        .post(&format!("/console/identities/{}/verify", other.id), &[])
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let at = html
        .find("/aktivasi/paraf_act_")
        .expect("the link is shown");
    let path: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/_-".contains(*c))
        .collect();
    assert_eq!(app.get(&path).send().await.unwrap().status(), 200);
    // Suspending and revoking go through the service too; a refused action says why.
    let r = c
        .post(&format!("/console/identities/{id}/reinstate"), &[])
        .await;
    assert_eq!(r.status(), 422);
    let r = c
        .post(&format!("/console/identities/{id}/revoke"), &[])
        .await;
    assert_eq!(location(&r), "/console/identities?done=revoke");
    let (_, html) = c.page("/console/identities").await;
    assert!(html.contains(">REVOKE<"), "{html}");
    let r = c
        .post(&format!("/console/identities/{id}/launch"), &[])
        .await;
    assert_eq!(r.status(), 404);
    let actions: Vec<String> = audit_actions(&app, a.org.id)
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in [
        "identity.registered",
        "identity.verified",
        "identity.revoked",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert!(app
        .store
        .list_identities(b.org.id)
        .await
        .unwrap()
        .is_empty());
    // The seals page lists the organisation's seals (none here).
    let (s, html) = c.page("/console/seals").await;
    assert_eq!(s, 200);
    assert!(html.contains("Belum ada segel"));
    app.stop().await;
}

use paraf_testkit::browser::Browser;

/// Headless Chromium signed in to the console as tenant-a's administrator (an unsigned-in
/// visit to `/console` goes to the login page first).
pub(crate) async fn browser_signed_in(app: &TestApp) -> Browser {
    let browser = Browser::start().await;
    browser.go(&app.at("/console")).await;
    browser.wait_url("/console/login").await;
    browser
        .type_into("#f-email", "tenant-a/admin@tenant-a.example")
        .await;
    browser.type_into("#f-password", PASSWORD).await;
    browser.click("#login").await;
    browser.wait_url("/console").await;
    browser
}

async fn console_in_headless_chromium_creates_a_working_credential(backend: Backend) {
    // Plain HTTP on 127.0.0.1: the session cookie must not be `Secure` here.
    let app = spawn_with(backend, |c| c.cookie_secure = false).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let browser = browser_signed_in(&app).await;
    assert!(browser.source().await.contains("Dashboard"));
    assert_eq!(browser.text("#apps-connected").await, "0 / 0");

    browser
        .click("header nav a[href=\"/console/credentials\"]")
        .await;
    browser.wait_url("/console/credentials").await;
    assert!(browser.source().await.contains("API Credentials"));
    browser.click("#tambah-api").await;
    browser.wait_url("/console/credentials/new").await;
    browser.type_into("#f-username", "erp-app").await;
    browser.type_into("#f-password", "rahasia-erp-1").await;
    browser.type_into("#f-allowed_ips", "127.0.0.1/32").await;
    browser
        .type_into("#f-description", "Aplikasi ERP keuangan")
        .await;
    browser.click("#status-enable").await;
    browser.click("#save").await;
    browser.wait_url("/console/credentials?done=created").await;
    let row = browser.text("#credentials tbody tr").await;
    assert!(
        row.contains("erp-app") && row.contains("127.0.0.1/32"),
        "{row}"
    );
    assert!(row.contains("Enable"), "{row}");

    let creds = app.store.list_app_credentials(a.org.id).await.unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].username, "erp-app");
    assert_eq!(creds[0].description, "Aplikasi ERP keuangan");
    assert_eq!(creds[0].allowed_ips.to_strings(), ["127.0.0.1/32"]);
    assert!(creds[0].enabled);

    // The application signs with its new credential through v1 (`POST /api/sign/pdf`).
    app.state
        .identities()
        .create_active(
            a.org.id,
            "Budi Santoso",
            None,
            Some(NIK),
            "rahasia-budi-1",
            false,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(simple_pdf())
                .file_name("surat.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("nik", NIK)
        .text("passphrase", "rahasia-budi-1")
        .text("tampilan", "invisible");
    let r = app
        .post("/api/sign/pdf")
        .header("authorization", basic("erp-app", "rahasia-erp-1"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the credential made in the browser signs");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers().contains_key("id_dokumen"));
    let signed = r.bytes().await.unwrap();
    assert!(signed.starts_with(&simple_pdf()) && signed.len() > simple_pdf().len());
    assert_eq!(bsre_call(&app, "erp-app", "salah-sekali").await, 401);

    // The dashboard now counts it.
    browser.click("header nav a[href=\"/console\"]").await;
    browser.wait_url("/console").await;
    assert_eq!(browser.text("#apps-connected").await, "1 / 1");
    assert_eq!(browser.text("#requests-total").await, "1");
    assert_eq!(browser.text("#signatures-total").await, "1");

    // Webhooks ("Mon compte > URL du webhook"): add one, its secret shown once; a failed
    // delivery in the log, redelivered from the page.
    let rx = paraf_testkit::webhook::Receiver::start(vec![500, 200]).await;
    browser
        .click("header nav a[href=\"/console/webhooks\"]")
        .await;
    browser.wait_url("/console/webhooks").await;
    browser.type_into("#f-url", &rx.url).await;
    browser.type_into("#f-events", "envelope.*").await;
    browser.click("#add-webhook").await;
    let secret = browser.text("#secret-value").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    app.state
        .core
        .emit(a.org.id, "envelope.sent", json!({"envelope": {"id": "e1"}}))
        .await
        .unwrap();
    eventually(20, "the failed attempt in the log", || async {
        browser.go(&app.at("/console/webhooks")).await;
        browser.source().await.contains("HTTP 500").then_some(())
    })
    .await;
    browser.click("#deliveries tbody tr button").await;
    browser.wait_url("/console/webhooks?done=redeliver").await;
    let again = eventually(20, "the redelivery", || async {
        rx.deliveries().into_iter().find(|d| d.answered == 200)
    })
    .await;
    assert!(again.signed_by(&secret));

    // A personal API token ("Mes tokens API"): shown once, works, revoked from the page.
    browser
        .click("header nav a[href=\"/console/tokens\"]")
        .await;
    browser.wait_url("/console/tokens").await;
    browser.type_into("#f-name", "Backend ERP").await;
    browser.click("#add-token").await;
    let token = browser.text("#token-value").await;
    let tokens = |t: String| {
        let app = &app;
        async move {
            json(
                app.get("/api/tokens")
                    .header("authorization", bearer(&t))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (s, v) = tokens(token.clone()).await;
    assert_eq!(s, 200, "{v}");
    let id = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Backend ERP")
        .map(|t| t["id"].to_string())
        .unwrap_or_else(|| panic!("{v}"));
    browser.go(&app.at("/console/tokens")).await;
    browser.click(&format!("#token-{id} button")).await;
    browser.wait_url("/console/tokens?done=revoke").await;
    assert!(browser
        .text(&format!("#token-{id}"))
        .await
        .contains("dicabut"));
    assert_eq!(tokens(token).await.0, 401);

    // Logout.
    browser.click("header form button").await;
    browser.wait_url("/console/login").await;
    browser.go(&app.at("/console/credentials")).await;
    browser.wait_url("/console/login").await;
    browser.close().await;

    let actions: Vec<String> = audit_actions(&app, a.org.id)
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in [
        "session.started",
        "app_credential.created",
        "webhook_endpoint.created",
        "api_token.created",
        "api_token.revoked",
        "session.ended",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    app.stop().await;
}

/// The text of the element with `id` (the first `>` after it up to the next `<`).
fn text_of<'h>(html: &'h str, id: &str) -> &'h str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    html[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
}

/// Webhooks in the console: an endpoint added (its secret shown once), a failed delivery in
/// the log and redelivered, the secret rotated, the endpoint disabled and deleted; another
/// organisation's administrator cannot touch it.
async fn console_manages_webhooks_and_redelivers(backend: Backend) {
    let app = spawn(backend).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let _b = tenant(&app, "tenant-b", Plan::Nusantara).await;
    let c = Console::login(&app, "tenant-a/admin@tenant-a.example").await;
    let (s, html) = c.page("/console/webhooks").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Belum ada webhook"), "{html}");

    let rx = paraf_testkit::webhook::Receiver::start(vec![500, 200]).await;
    let r = c
        .post(
            "/console/webhooks",
            &[
                ("url", "ftp://erp.example"),
                ("events", ""),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = c
        .post(
            "/console/webhooks",
            &[
                ("url", &rx.url),
                ("events", "envelope.*"),
                ("description", "ERP"),
            ],
        )
        .await;
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    let secret = text_of(&html, "secret-value").to_string();
    assert!(secret.starts_with("whsec_"), "{html}");
    let (_, html) = c.page("/console/webhooks").await;
    assert!(!html.contains(&secret), "the secret is shown once");
    assert!(html.contains("envelope.*") && html.contains("ERP"));
    let ep = app.state.webhooks().list(a.org.id).await.unwrap()[0].clone();

    // An event: the first attempt fails (500) and is in the log.
    app.state
        .core
        .emit(a.org.id, "envelope.sent", json!({"envelope": {"id": "x"}}))
        .await
        .unwrap();
    eventually(20, "the first attempt", || async {
        (!rx.is_empty()).then_some(())
    })
    .await;
    let html = eventually(20, "the failure in the log", || async {
        let (_, html) = c.page("/console/webhooks").await;
        html.contains("HTTP 500").then_some(html)
    })
    .await;
    let at = html.find("id=\"delivery-").unwrap() + "id=\"delivery-".len();
    let delivery: String = html[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = c
        .post(
            &format!("/console/webhooks/deliveries/{delivery}/redeliver"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/console/webhooks?done=redeliver");
    let d = eventually(20, "the redelivery", || async {
        rx.deliveries().into_iter().find(|d| d.answered == 200)
    })
    .await;
    assert!(d.signed_by(&secret));
    assert_eq!(
        d.header("webhook-id"),
        rx.deliveries()[0].header("webhook-id")
    );

    // Rotation: a new secret, shown once.
    let r = c
        .post(&format!("/console/webhooks/{}/rotate", ep.id), &[])
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let rotated = text_of(&html, "secret-value");
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    // Another organisation's administrator: not found.
    let other = Console::login(&app, "tenant-b/admin@tenant-b.example").await;
    let r = other
        .post(&format!("/console/webhooks/{}/delete", ep.id), &[])
        .await;
    assert_eq!(r.status(), 404);

    let r = c
        .post(&format!("/console/webhooks/{}/disable", ep.id), &[])
        .await;
    assert_eq!(location(&r), "/console/webhooks?done=disable");
    assert!(
        !app.state
            .webhooks()
            .get(a.org.id, ep.id)
            .await
            .unwrap()
            .enabled
    );
    let r = c
        .post(&format!("/console/webhooks/{}/delete", ep.id), &[])
        .await;
    assert_eq!(location(&r), "/console/webhooks?done=delete");
    assert!(app
        .state
        .webhooks()
        .list(a.org.id)
        .await
        .unwrap()
        .is_empty());
    app.stop().await;
}

/// A colleague joins the organisation by invitation, in headless Chromium: the administrator
/// invites from the console, the colleague opens the mailed link, chooses a name and a
/// password, and logs in (GesDocs `POST /api/login`). The link works once.
async fn a_colleague_joins_by_invitation(backend: Backend) {
    let app = spawn_with(backend, |c| c.cookie_secure = false).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let browser = browser_signed_in(&app).await;
    browser
        .click("header nav a[href=\"/console/members\"]")
        .await;
    browser.wait_url("/console/members").await;
    browser
        .type_into("#f-email", "colleague@tenant-a.example")
        .await;
    browser.click("#invite").await;
    assert!(browser
        .text("#invitations tbody tr")
        .await
        .contains("colleague@tenant-a.example"));
    let mails = app.store.list_mail(Some(a.org.id), 10).await.unwrap();
    let mail = mails
        .iter()
        .find(|m| m.to == "colleague@tenant-a.example")
        .unwrap();
    let at = mail.text.find("http").unwrap();
    let link = mail.text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    browser.go(&link).await;
    browser
        .type_into(r#"[data-testid="invitation-name"]"#, "Claire Petit")
        .await;
    browser
        .type_into(
            r#"[data-testid="invitation-password"]"#,
            "motdepasse-claire",
        )
        .await;
    browser
        .type_into(r#"[data-testid="invitation-confirm"]"#, "motdepasse-claire")
        .await;
    browser.click(r#"[data-testid="invitation-submit"]"#).await;
    browser.find(r#"[data-testid="invitation-done"]"#).await;
    browser.go(&link).await;
    browser.find(r#"[data-testid="invitation-gone"]"#).await;
    browser.close().await;

    // The colleague is a user of the organisation and logs in by e-mail.
    let users = app.store.list_users(a.org.id).await.unwrap();
    let claire = users
        .iter()
        .find(|u| u.email.as_str() == "colleague@tenant-a.example")
        .unwrap();
    assert_eq!(claire.role, Role::Signer);
    let (s, v) = json(
        app.post("/api/login")
            .json(&json!({"email": "colleague@tenant-a.example", "password": "motdepasse-claire"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // An address that has an account already cannot be invited.
    let err = app
        .state
        .core
        .invite_member(
            a.org.id,
            "colleague@tenant-a.example",
            Role::Admin,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    app.stop().await;
}

/// The console's documents page (Alphasign's web app) in headless Chromium: a contact added,
/// offered as a signer's e-mail (its name taken from the address book), the document uploaded
/// as a draft and sent; the API sees the same document.
async fn console_documents_offer_contacts_as_signers(backend: Backend) {
    let app = spawn_with(backend, |c| c.cookie_secure = false).await;
    let a = tenant(&app, "tenant-a", Plan::Nusantara).await;
    let browser = browser_signed_in(&app).await;
    browser
        .click("header nav a[href=\"/console/documents\"]")
        .await;
    browser.wait_url("/console/documents").await;
    browser
        .type_into("#contact-form #f-name", "Jane Smith")
        .await;
    browser
        .type_into("#contact-form #f-email", "jane@co.id")
        .await;
    browser
        .type_into("#contact-form #f-company", "PT ABC")
        .await;
    browser.click("#add-contact").await;
    browser.wait_url("/console/documents?done=contact").await;
    assert!(browser.text("#contact-list").await.contains("jane@co.id"));
    // The address book is offered for each signer's e-mail.
    let offered = browser
        .script(
            "return Array.from(document.querySelectorAll('#contacts option')).map(o => o.value)",
        )
        .await;
    assert_eq!(offered, serde_json::json!(["jane@co.id"]));
    let list = browser
        .script("return document.getElementById('f-signer_email_0').getAttribute('list')")
        .await;
    assert_eq!(list, "contacts");
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(dir.path(), "kontrak.pdf", &pdf_with_pages(&["Kontrak"]));
    browser
        .type_into("#document-form #f-title", "Kontrak Kerja")
        .await;
    browser.upload("#f-file", pdf.to_str().unwrap()).await;
    browser.type_into("#f-signer_email_0", "jane@co.id").await;
    browser.click("#add-document").await;
    browser.wait_url("/console/documents?done=created").await;
    let row = browser.text("#documents tbody tr").await;
    assert!(
        row.contains("Kontrak Kerja") && row.contains("Jane Smith") && row.contains("draft"),
        "{row}"
    );
    browser.click("#documents tbody tr .actions button").await;
    browser.wait_url("/console/documents?done=sent").await;
    assert_eq!(browser.text("#documents tbody tr .status").await, "pending");
    // The API sees the same document, sent to the contact.
    let (s, v) = crate::alphasign::As::new(&app, Some(a.admin_token.as_str()))
        .get("/api/v1/documents?status=pending")
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["data"][0]["signers"][0]["email"], "jane@co.id");
    assert_eq!(v["data"][0]["signers"][0]["name"], "Jane Smith");
    let mails = app.store.list_mail(Some(a.org.id), 10).await.unwrap();
    assert!(mails.iter().any(|m| m.to == "jane@co.id"));
    browser.close().await;
    app.stop().await;
}

crate::both_backends!(
    console_documents_offer_contacts_as_signers,
    a_colleague_joins_by_invitation,
    console_manages_webhooks_and_redelivers,
    console_login_refuses_a_wrong_password,
    console_pages_require_a_session,
    console_refuses_missing_csrf_and_foreign_origin,
    console_edits_disables_and_deletes_a_credential,
    console_audit_log_is_paginated_newest_first,
    console_registers_and_verifies_an_identity,
    console_in_headless_chromium_creates_a_working_credential,
);
