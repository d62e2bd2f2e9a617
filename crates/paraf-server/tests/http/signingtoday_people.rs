//! Signing Today's people over HTTP (issue 14): users and groups from the seed's own request
//! samples, roles and capabilities enforced on the users' and the DSTs' endpoints, enabling
//! and disabling, the password services (lost, reset, token, change) with single-use
//! expiring links caught at a real SMTP server — every reply checked against the seed's
//! models, every refusal an `ErrorResponse` naming its target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::Plan;
use paraf_testkit::schema::assert_conforms;
use serde_json::{json, Value};

use crate::common::*;
use crate::signingtoday::{assert_error, embedded, get_as, login_with, quick_start_dst, st};

/// Every one of `actions` is in the organisation's trail.
async fn assert_audited(app: &TestApp, org: paraf_domain::OrgId, actions: &[&str]) {
    let trail = app.store.audit_records(org, 0, 1000).await.unwrap();
    let found: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    for a in actions {
        assert!(found.contains(a), "{a} not in {found:?}");
    }
}

/// `POST path` with a `text/plain` body.
async fn post_text(app: &TestApp, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut r = app
        .post(path)
        .header("content-type", "text/plain")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.header("authorization", bearer(t));
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (s, v)
}

/// The seed's `POST /users` sample (L8705–8730), in organisation `domain`.
pub(crate) fn seed_user(domain: &str, username: &str, email: &str) -> Value {
    json!({
      "user": {
        "username": username,
        "domain": domain,
        "language": "en",
        "name": "John",
        "surname": "Doe",
        "email": email,
        "phone": "+013392213450",
        "role": "signer",
        "groups": [{"name": "Marketing BU", "domain": domain}],
        "capabilities": null,
        "extraData": {"additionalProperty": {}},
        "templateData": {"taxNumber": "RSSMRA30A01H501I"}
      },
      "password": "A12345678z"
    })
}

/// The link of type `kind` (`password`) last mailed to `to`, from the SMTP server's log.
pub(crate) async fn mailed_token(
    smtpd: &paraf_testkit::smtp::Smtpd,
    to: &str,
    seen: usize,
) -> String {
    eventually(20, "a password link at the SMTP server", || async {
        let out = smtpd.out.lock().unwrap().clone();
        let tokens: Vec<String> = out
            .split("/password/")
            .skip(1)
            .map(|rest| rest.chars().take(36).collect::<String>())
            .collect();
        (out.contains(to) && tokens.len() > seen).then(|| tokens[tokens.len() - 1].clone())
    })
    .await
}

async fn users_roles_and_passwords(backend: Backend) {
    let (smtpd, app) = spawn_mailing(backend).await;
    let t = tenant(&app, "bit4id", Plan::Nusantara).await;
    let other = tenant(&app, "lain", Plan::Nusantara).await;
    let admin = t.admin_token.as_str();

    // Groups, then the seed's user in one of them.
    let marketing = json!([{"name": "Marketing BU", "domain": "bit4id"}]);
    let (s, v) = st(
        &app,
        "POST",
        "/api/users/groups",
        Some(admin),
        Some(marketing),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (s, groups) = get_as(&app, "/api/users/groups?$count=true", Some(admin)).await;
    assert_eq!(s, 200, "{groups}");
    assert_conforms("UserGroupGetResponse", &groups);
    assert_eq!(groups["count"], 1);
    assert_eq!(groups["values"][0]["name"], "Marketing BU");
    assert_eq!(groups["values"][0]["domain"], "bit4id");
    let legal = json!([{"name": "Legal", "domain": "another"}]);
    let (s, v) = st(&app, "POST", "/api/users/groups", Some(admin), Some(legal)).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("[0].domain"));

    let (s, made) = st(
        &app,
        "POST",
        "/api/users",
        Some(admin),
        Some(seed_user("bit4id", "jdo", "john.doe@email.com")),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    // `["<uuid>"]`, the seed's sample (a list holding one UUID).
    paraf_testkit::schema::conforms_to(
        &paraf_testkit::schema::Ty::Array(&paraf_testkit::schema::Ty::Uuid),
        &made,
    )
    .unwrap();
    let jdo = made[0].as_str().unwrap().to_string();
    let (s, u) = get_as(&app, &format!("/api/user/{jdo}"), Some(admin)).await;
    assert_eq!(s, 200, "{u}");
    assert_conforms("User", &u);
    for (k, want) in [
        ("id", json!(jdo)),
        ("username", json!("jdo")),
        ("domain", json!("bit4id")),
        ("language", json!("en")),
        ("name", json!("John")),
        ("surname", json!("Doe")),
        ("email", json!("john.doe@email.com")),
        ("phone", json!("+013392213450")),
        ("role", json!("signer")),
        ("capabilities", json!([])),
        ("templateData", json!({"taxNumber": "RSSMRA30A01H501I"})),
        ("extraData", json!({"additionalProperty": {}})),
        ("automatic", json!(false)),
        ("deletedAt", Value::Null),
    ] {
        assert_eq!(u[k], want, "{k}: {u}");
    }
    assert_eq!(u["groups"][0]["name"], "Marketing BU", "{u}");
    let (_, me) = get_as(&app, "/api/auth/user", Some(admin)).await;
    assert_eq!(u["createdBy"], me["id"], "{u}");
    assert_eq!(me["capabilities"].as_array().unwrap().len(), 10, "{me}");
    let me_id = me["id"].as_str().unwrap().to_string();

    // The list, with the seed's filter and paging.
    let (s, list) = get_as(
        &app,
        "/api/users?$count=true&$filter=name%20%3D%3D%20%22John%22%20or%20surname%20%3D%3D%20%22Bread%22",
        Some(admin),
    )
    .await;
    assert_eq!(s, 200, "{list}");
    assert_conforms("UsersGetResponse", &list);
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["values"][0]["username"], "jdo");
    let (s, list) = get_as(&app, "/api/users?$orderBy=email,desc&$top=2", Some(admin)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["count"], Value::Null);
    assert_eq!(list["values"].as_array().unwrap().len(), 2);
    assert_eq!(list["values"][0]["email"], "signer@bit4id.example");
    let (s, v) = get_as(&app, "/api/users?$filter=age%3D%3D3", Some(admin)).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("$filter"));

    // Bad users: each names its field.
    for (patch, target) in [
        (json!({"email": "not-an-address"}), "user.email"),
        (json!({"language": "de"}), "user.language"),
        (json!({"role": "owner"}), "user.role"),
        (json!({"groups": [{"name": "Nobody"}]}), "user.groups[0]"),
        (json!({"capabilities": ["dst.fly"]}), "user.capabilities[0]"),
        (json!({"username": "has space"}), "user.username"),
        (json!({"domain": "lain"}), "user.domain"),
    ] {
        let mut body = seed_user("bit4id", "other", "other@email.com");
        for (k, v) in patch.as_object().unwrap() {
            body["user"][k] = v.clone();
        }
        let (s, v) = st(&app, "POST", "/api/users", Some(admin), Some(body)).await;
        assert_eq!(s, 400, "{target}: {v}");
        assert_error(&v, "INVALID_INPUT", Some(target));
    }
    let mut weak = seed_user("bit4id", "other", "other@email.com");
    weak["password"] = json!("short");
    let (s, v) = st(&app, "POST", "/api/users", Some(admin), Some(weak)).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("password"));
    let twin = seed_user("bit4id", "jdo", "twin@email.com");
    let (s, v) = st(&app, "POST", "/api/users", Some(admin), Some(twin)).await;
    assert_eq!(s, 409, "{v}");

    // The signer logs in with the seed's password and may only sign.
    let (s, tok) = login_with(&app, "jdo@bit4id", "A12345678z").await;
    assert_eq!(s, 200, "{tok}");
    let jdo_token = tok["access_token"].as_str().unwrap().to_string();
    let jt = Some(jdo_token.as_str());
    let x = seed_user("bit4id", "x", "x@email.com");
    let (s, v) = st(&app, "POST", "/api/users", jt, Some(x)).await;
    assert_eq!(s, 403, "{v}");
    assert_error(&v, "FORBIDDEN", None);
    let (s, v) = st(
        &app,
        "POST",
        "/api/users/groups",
        jt,
        Some(json!([{"name": "X"}])),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    let (s, list) = get_as(&app, "/api/users?$count=true", jt).await;
    assert_eq!((s, list["count"].clone()), (200, json!(1)), "{list}");
    let (s, v) = get_as(&app, &format!("/api/user/{me_id}"), jt).await;
    assert_eq!(s, 403, "{v}");
    let promote = format!("/api/user/{jdo}/role?newRole=admin");
    let (s, v) = st(&app, "PUT", &promote, jt, None).await;
    assert_eq!(s, 403, "{v}");
    let pdf = paraf_testkit::pdf::pages(&["Kontrak"]);
    let embedded = embedded(&pdf);
    let (s, v) = st(
        &app,
        "POST",
        "/api/DSTs",
        jt,
        Some(quick_start_dst(embedded.clone())),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert_error(&v, "FORBIDDEN", None);

    // DSTs: one sent to John, one not; John sees the first only, and cannot delete it.
    let mut to_john = quick_start_dst(embedded.clone());
    to_john["documents"][0]["signerGroups"][0]["signers"][0]["email"] = json!("john.doe@email.com");
    let (s, mine) = st(&app, "POST", "/api/DSTs", Some(admin), Some(to_john)).await;
    assert_eq!(s, 201, "{mine}");
    let not_john = quick_start_dst(embedded.clone());
    let (s, theirs) = st(&app, "POST", "/api/DSTs", Some(admin), Some(not_john)).await;
    assert_eq!(s, 201, "{theirs}");
    let mine_path = format!("/api/DST/{}", mine["id"].as_str().unwrap());
    let theirs_path = format!("/api/DST/{}", theirs["id"].as_str().unwrap());
    let (s, list) = get_as(&app, "/api/DSTs?$count=true", jt).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["values"][0]["id"], mine["id"]);
    let (_, all) = get_as(&app, "/api/DSTs?$count=true", Some(admin)).await;
    assert_eq!(all["count"], 2, "{all}");
    let (s, v) = get_as(&app, &format!("/api/DSTs?userId={me_id}"), jt).await;
    assert_eq!(s, 403, "{v}");
    let by_user = format!("/api/DSTs?userId={jdo}&$count=true");
    let (s, v) = get_as(&app, &by_user, Some(admin)).await;
    assert_eq!((s, v["count"].clone()), (200, json!(1)), "{v}");
    let (s, v) = get_as(&app, &mine_path, jt).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = get_as(&app, &theirs_path, jt).await;
    assert_eq!(s, 403, "{v}");
    assert_error(&v, "FORBIDDEN", None);
    let (s, v) = st(&app, "DELETE", &mine_path, jt, None).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = st(&app, "POST", &format!("{mine_path}/modify"), jt, None).await;
    assert_eq!(s, 403, "{v}");
    let note = Some(json!({"text": "Letto."}));
    let (s, v) = st(&app, "POST", &format!("{mine_path}/note"), jt, note).await;
    assert_eq!(s, 200, "{v}");

    // Promoted to instructor (the cached principal follows at once): John makes DSTs and
    // deletes his own, not the administrator's.
    let role = |r: &str| format!("/api/user/{jdo}/role?newRole={r}");
    let (s, v) = st(&app, "PUT", &role("owner"), Some(admin), None).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("newRole"));
    let (s, v) = st(&app, "PUT", &role("instructor"), Some(admin), None).await;
    assert_eq!(s, 204, "{v}");
    let (_, u) = get_as(&app, "/api/auth/user", jt).await;
    assert_eq!(u["role"], "instructor", "{u}");
    let (s, own) = st(
        &app,
        "POST",
        "/api/DSTs",
        jt,
        Some(quick_start_dst(embedded)),
    )
    .await;
    assert_eq!(s, 201, "{own}");
    let (s, v) = st(&app, "DELETE", &mine_path, jt, None).await;
    assert_eq!(s, 403, "{v}");
    let own_path = format!("/api/DST/{}", own["id"].as_str().unwrap());
    let (s, v) = st(&app, "DELETE", &own_path, jt, None).await;
    assert_eq!(s, 204, "{v}");

    // John changes his own profile (the seed's PUT sample), not his role.
    let me_path = format!("/api/user/{jdo}");
    let mut put = seed_user("bit4id", "jdo", "john.doe@email.com")["user"].clone();
    put["surname"] = json!("Doe-Smith");
    put["role"] = json!("instructor");
    put["language"] = json!("it");
    let (s, v) = st(&app, "PUT", &me_path, jt, Some(put.clone())).await;
    assert_eq!(s, 204, "{v}");
    let (_, u) = get_as(&app, &me_path, jt).await;
    assert_eq!(u["surname"], "Doe-Smith", "{u}");
    assert_eq!(u["language"], "it", "{u}");
    put["role"] = json!("admin");
    let (s, v) = st(&app, "PUT", &me_path, jt, Some(put)).await;
    assert_eq!(s, 403, "{v}");

    // Another organisation's user is not found, whoever asks.
    let foreign = paraf_signingtoday::user_uuid(other.admin.id);
    for (method, path) in [
        ("GET", format!("/api/user/{foreign}")),
        ("PUT", format!("/api/user/{foreign}/role?newRole=signer")),
        ("DELETE", format!("/api/user/{foreign}?enabled=false")),
    ] {
        let (s, v) = st(&app, method, &path, Some(admin), None).await;
        assert_eq!(s, 404, "{method} {path}: {v}");
        assert_error(&v, "NOT_FOUND", Some("id"));
    }

    // Disabled: John's token stops working at once; enabled again, he logs in again.
    let (s, v) = st(&app, "DELETE", &me_path, Some(admin), None).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("enabled"));
    let off = format!("{me_path}?enabled=false");
    let (s, v) = st(&app, "DELETE", &off, Some(admin), None).await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = get_as(&app, "/api/auth/user", jt).await;
    assert_eq!(s, 401, "{v}");
    let (_, u) = get_as(&app, &me_path, Some(admin)).await;
    assert!(u["deletedAt"].is_string(), "{u}");
    let (s, _) = login_with(&app, "jdo@bit4id", "A12345678z").await;
    assert_ne!(s, 200);
    let self_off = format!("/api/user/{me_id}?enabled=false");
    let (s, v) = st(&app, "DELETE", &self_off, Some(admin), None).await;
    assert_eq!(s, 409, "{v}");
    let on = format!("{me_path}?enabled=true");
    let (s, v) = st(&app, "DELETE", &on, Some(admin), None).await;
    assert_eq!(s, 204, "{v}");
    let (s, tok) = login_with(&app, "jdo@bit4id", "A12345678z").await;
    assert_eq!(s, 200, "{tok}");
    let jdo_token = tok["access_token"].as_str().unwrap().to_string();
    let jt = Some(jdo_token.as_str());

    // A user made without a password is mailed a link to choose one (the password page
    // sets it once).
    let mut nopw = seed_user("bit4id", "ann", "ann@email.com");
    nopw["password"] = Value::Null;
    nopw["user"]["groups"] = json!([]);
    let (s, made) = st(&app, "POST", "/api/users", Some(admin), Some(nopw)).await;
    assert_eq!(s, 201, "{made}");
    let welcome = mailed_token(&smtpd, "ann@email.com", 0).await;
    let r = app
        .get(&format!("/password/{welcome}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("ann"));
    let r = app
        .post(&format!("/password/{welcome}"))
        .form(&[
            ("password", "Ann-Secret-1"),
            ("password_confirmation", "Ann-Secret-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("password-done"));
    let (s, _) = login_with(&app, "ann@bit4id", "Ann-Secret-1").await;
    assert_eq!(s, 200);
    let r = app
        .get(&format!("/password/{welcome}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Lost password: 204 for anyone (nothing tells whether the account exists); the link
    // works once, through the API as well.
    for q in [
        "username=nobody&domain=bit4id",
        "username=jdo&domain=nowhere",
    ] {
        let (s, v) = get_as(&app, &format!("/api/auth/passwordLost?{q}"), None).await;
        assert_eq!(s, 204, "{q}: {v}");
    }
    let (s, v) = get_as(&app, "/api/auth/passwordLost?domain=bit4id", None).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("username"));
    let seen = smtpd.out.lock().unwrap().matches("/password/").count();
    let lost = "/api/auth/passwordLost?username=jdo&domain=bit4id";
    let (s, v) = get_as(&app, lost, None).await;
    assert_eq!(s, 204, "{v}");
    let reset = mailed_token(&smtpd, "john.doe@email.com", seen).await;
    // John chose Italian: the page speaks it.
    let page = app.get(&format!("/password/{reset}")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Scegli la password di"), "{page}");
    let path = format!("/api/auth/changePassword?passwordToken={reset}");
    let (s, v) = post_text(&app, &path, None, "\"B98765432y\"").await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = post_text(&app, &path, None, "C11111111x").await;
    assert_eq!(s, 400, "a reused reset code: {v}");
    assert_error(&v, "INVALID_INPUT", Some("passwordToken"));
    let (s, _) = login_with(&app, "jdo@bit4id", "B98765432y").await;
    assert_eq!(s, 200);

    // A password token, then the change with it (Python's unquoted body).
    let (s, tok) = get_as(&app, "/api/auth/passwordToken", jt).await;
    assert_eq!(s, 200, "{tok}");
    let pt = tok[0].as_str().unwrap().to_string();
    let with_token = format!("/api/auth/changePassword?passwordToken={pt}");
    let (s, v) = post_text(&app, &with_token, None, "D22222222w").await;
    assert_eq!(s, 204, "{v}");
    // Their own change, knowing the current one (the seed's sample: the current is wrong).
    let wrong = json!({"currentPassword": "a12345678Z", "newPassword": "0abcdefgH9"});
    let (s, v) = st(&app, "POST", "/api/auth/passwordReset", jt, Some(wrong)).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("currentPassword"));
    let right = json!({"currentPassword": "D22222222w", "newPassword": "0abcdefgH9"});
    let (s, v) = st(&app, "POST", "/api/auth/passwordReset", jt, Some(right)).await;
    assert_eq!(s, 204, "{v}");
    // An administrator's reset mails a link; a signer may not reset; a service password.
    let seen = smtpd.out.lock().unwrap().matches("/password/").count();
    let reset_jdo = "/api/auth/passwordReset?username=jdo&domain=bit4id";
    let (s, v) = get_as(&app, reset_jdo, Some(admin)).await;
    assert_eq!(s, 204, "{v}");
    mailed_token(&smtpd, "john.doe@email.com", seen).await;
    let reset_admin = "/api/auth/passwordReset?username=admin&domain=bit4id";
    let (s, v) = get_as(&app, reset_admin, jt).await;
    assert_eq!(s, 403, "{v}");
    let service = "/api/service/changePassword?username=jdo&domain=bit4id";
    let (s, v) = post_text(&app, service, Some(admin), "\"E33333333v\"").await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = login_with(&app, "jdo@bit4id", "E33333333v").await;
    assert_eq!(s, 200);
    let elsewhere = "/api/service/changePassword?username=jdo&domain=lain";
    let (s, v) = post_text(&app, elsewhere, Some(admin), "F44444444u").await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("domain"));

    // Every step is in the organisation's trail.
    assert_audited(
        &app,
        t.org.id,
        &[
            "group.created",
            "user.created",
            "user.changed",
            "user.role_changed",
            "user.disabled",
            "user.enabled",
            "user.password_reset_mailed",
            "user.password_token_issued",
            "user.password_changed",
        ],
    )
    .await;
    app.stop().await;
}

/// A signer of organisation `bit4id` made through the API, logged in: (id, token).
pub(crate) async fn signer_john(app: &TestApp, admin: &str) -> (String, String) {
    let group = json!([{"name": "Marketing BU"}]);
    st(app, "POST", "/api/users/groups", Some(admin), Some(group)).await;
    let (s, made) = st(
        app,
        "POST",
        "/api/users",
        Some(admin),
        Some(seed_user("bit4id", "jdo", "john.doe@email.com")),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let (s, tok) = login_with(app, "jdo@bit4id", "A12345678z").await;
    assert_eq!(s, 200, "{tok}");
    (
        made[0].as_str().unwrap().to_string(),
        tok["access_token"].as_str().unwrap().to_string(),
    )
}

/// Pairs a device with `challenge`: the status and the reply.
async fn pair(app: &TestApp, challenge: &str, device: &str, name: &str) -> (u16, Value) {
    let body = json!({"challenge": challenge, "deviceId": device, "name": name});
    st(app, "POST", "/api/device/authorization", None, Some(body)).await
}

async fn devices_and_notifications(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "bit4id", Plan::Nusantara).await;
    let admin = t.admin_token.as_str();
    let (jdo, jdo_token) = signer_john(&app, admin).await;
    let jt = Some(jdo_token.as_str());

    // A challenge as JSON, then as a QR code (which cancels the first).
    let (s, c) = get_as(&app, "/api/device/authorization", jt).await;
    assert_eq!(s, 200, "{c}");
    assert_conforms("DeviceAuthorizationResponse", &c);
    assert_eq!(c["userId"], jdo.as_str());
    let first = c["challenge"].as_str().unwrap().to_string();
    assert!(
        first.len() == 32 && first.chars().all(|c| c.is_ascii_hexdigit()),
        "{first}"
    );
    let r = app
        .get("/api/device/authorization")
        .header("authorization", bearer(&jdo_token))
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, text) = grids[0].decode().unwrap();
    let scanned: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(scanned["userId"], jdo.as_str(), "{scanned}");
    let challenge = scanned["challenge"].as_str().unwrap().to_string();
    assert_ne!(challenge, first);
    let (s, v) = pair(&app, &first, "123e4567-e89b-12d3-a456-556642440000", "x").await;
    assert_eq!(s, 400, "the cancelled challenge: {v}");
    assert_error(&v, "INVALID_INPUT", Some("challenge"));

    // The app pairs without a token (the seed's sample body) and signs in with its token.
    let device = "123e4567-e89b-12d3-a456-556642440000";
    let (s, v) = pair(&app, &challenge, device, "John Doe\"s iPhone").await;
    assert_eq!(s, 200, "{v}");
    let device_token = v[0].as_str().unwrap().to_string();
    let (s, me) = get_as(&app, "/api/auth/user", Some(&device_token)).await;
    assert_eq!((s, me["id"].clone()), (200, json!(jdo)), "{me}");
    let (s, v) = pair(&app, &challenge, device, "again").await;
    assert_eq!(s, 400, "a used challenge: {v}");
    let (s, v) = pair(&app, "", device, "x").await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("challenge"));

    // A challenge lasts 10 minutes.
    let (_, c) = get_as(&app, "/api/device/authorization", jt).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let (s, v) = pair(&app, c["challenge"].as_str().unwrap(), device, "late").await;
    assert_eq!(s, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");

    // Paired again: renamed, a new token, the old one refused.
    let (_, c) = get_as(&app, "/api/device/authorization", jt).await;
    let (s, v) = pair(
        &app,
        c["challenge"].as_str().unwrap(),
        device,
        "John's phone",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let device_token2 = v[0].as_str().unwrap().to_string();
    let (s, _) = get_as(&app, "/api/auth/user", Some(&device_token)).await;
    assert_eq!(s, 401);
    let (s, list) = get_as(&app, "/api/devices?$count=true", jt).await;
    assert_eq!(s, 200, "{list}");
    assert_conforms("TrustedDevicesGetResponse", &list);
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["values"][0]["name"], "John's phone");
    assert_eq!(list["values"][0]["deviceId"], device);
    let (_, me) = get_as(&app, "/api/auth/user", Some(admin)).await;
    let admin_id = me["id"].as_str().unwrap().to_string();
    let (s, v) = get_as(&app, &format!("/api/devices?userId={admin_id}"), jt).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = get_as(
        &app,
        &format!("/api/devices?userId={jdo}&$count=true"),
        Some(admin),
    )
    .await;
    assert_eq!((s, v["count"].clone()), (200, json!(1)), "{v}");

    // A push token for a trusted device only; the invitation goes to the device.
    let push = json!({"deviceId": device, "token": "c84c1180-3d39-4b4b-a4fa-2a5b9b4f7e0c"});
    let (s, v) = st(
        &app,
        "POST",
        "/api/notifications/push-token",
        jt,
        Some(push),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let stranger = json!({"deviceId": "not-mine", "token": "x"});
    let (s, v) = st(
        &app,
        "POST",
        "/api/notifications/push-token",
        jt,
        Some(stranger),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("deviceId"));
    let pdf = paraf_testkit::pdf::pages(&["Kontrak"]);
    let mut to_john = quick_start_dst(embedded(&pdf));
    to_john["title"] = json!("Contract");
    to_john["documents"][0]["signerGroups"][0]["signers"][0]["email"] = json!("john.doe@email.com");
    let (s, dst) = st(&app, "POST", "/api/DSTs", Some(admin), Some(to_john)).await;
    assert_eq!(s, 201, "{dst}");
    let john = paraf_signingtoday::user_of_uuid(&jdo).unwrap();
    let pushes = app.store.pushes(t.org.id, john, 10).await.unwrap();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].0, device);
    assert_eq!(pushes[0].1["event"], "dst_alert_sign");
    assert_eq!(pushes[0].1["dstId"], dst["id"]);

    // The notification, until consumed.
    let (s, n) = get_as(&app, "/api/notifications/dsts?$count=true", jt).await;
    assert_eq!(s, 200, "{n}");
    assert_conforms("NotificationsResponse", &n);
    assert_eq!(n["count"], 1, "{n}");
    let first = &n["values"][0];
    assert_eq!(first["event"], "dst_alert_sign");
    assert_eq!(first["dstId"], dst["id"]);
    assert_eq!(first["dstTitle"], "Contract");
    assert_eq!(first["email"], "admin@bit4id.example");
    let (s, n) = get_as(&app, "/api/notifications/dsts", Some(admin)).await;
    assert_eq!((s, n["values"].as_array().unwrap().len()), (200, 0), "{n}");
    let consume = format!("/api/notifications/dst/{}", dst["id"].as_str().unwrap());
    let (s, v) = st(&app, "DELETE", &consume, jt, None).await;
    assert_eq!(s, 204, "{v}");
    let (_, n) = get_as(&app, "/api/notifications/dsts?$count=true", jt).await;
    assert_eq!(n["count"], 0, "{n}");

    // Removed: the device's token stops working and its push token is forgotten.
    let (s, v) = st(
        &app,
        "DELETE",
        "/api/notifications/push-token?deviceId=nope",
        jt,
        None,
    )
    .await;
    assert_eq!(s, 404, "{v}");
    let gone = format!("/api/device/authorization?deviceId={device}");
    let (s, v) = st(&app, "DELETE", &gone, jt, None).await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = get_as(&app, "/api/auth/user", Some(&device_token2)).await;
    assert_eq!(s, 401);
    assert!(app
        .store
        .push_tokens(t.org.id, john)
        .await
        .unwrap()
        .is_empty());
    let (s, v) = st(&app, "DELETE", &gone, jt, None).await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("deviceId"));

    assert_audited(
        &app,
        t.org.id,
        &[
            "device.challenge_issued",
            "device.paired",
            "device.push_token_set",
            "notifications.consumed",
            "device.removed",
        ],
    )
    .await;
    app.stop().await;
}

/// A PNG `w` × `h`: red on the left half, blue on the right.
pub(crate) fn red_blue(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([220, 0, 0])
        } else {
            image::Rgb([0, 0, 220])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Whether `rgb` is mostly red (`true`) or mostly blue.
fn is_red(p: image::Rgb<u8>) -> Option<bool> {
    let [r, g, b] = p.0;
    if r > 150 && g < 80 && b < 80 {
        Some(true)
    } else if b > 150 && r < 80 && g < 80 {
        Some(false)
    } else {
        None
    }
}

/// The images of `pdf`, extracted by poppler's `pdfimages` (an outside tool).
fn images_in(pdf: &[u8]) -> Vec<image::RgbImage> {
    paraf_testkit::tools::require_tool("pdfimages", "poppler-utils");
    let dir = tempfile::tempdir().unwrap();
    let file = paraf_testkit::tools::write(dir.path(), "signed.pdf", pdf);
    paraf_testkit::tools::run_ok(
        std::process::Command::new("pdfimages")
            .arg("-png")
            .arg(&file)
            .arg(dir.path().join("img")),
    );
    let mut imgs = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            imgs.push(image::open(&path).unwrap().to_rgb8());
        }
    }
    imgs
}

/// The current PDF of DST `dst_id` shows the red-then-blue image (extracted by pdfimages);
/// the PDF.
pub(crate) async fn signed_with_red_blue(
    app: &TestApp,
    org: paraf_domain::OrgId,
    dst_id: &str,
) -> Vec<u8> {
    let core = &app.state.core;
    let (e, _) = core.envelope_by_uuid(org, dst_id).await.unwrap();
    let (documents, _) = core.envelope_contents(&e).await.unwrap();
    let signed = core.document_file(&documents[0], true).await.unwrap();
    let shown = images_in(&signed).into_iter().any(|img| {
        let (w, h) = img.dimensions();
        w >= 20
            && is_red(*img.get_pixel(w / 4, h / 2)) == Some(true)
            && is_red(*img.get_pixel(3 * w / 4, h / 2)) == Some(false)
    });
    assert!(shown, "the saved signature is not in the signed PDF");
    signed
}

/// `POST path` (multipart) with `file` and the other fields.
pub(crate) async fn upload_appearance(
    app: &TestApp,
    path: &str,
    token: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("signature.png"),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = app
        .post(path)
        .header("authorization", bearer(token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    json(r).await
}

async fn identities_and_appearances(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "bit4id", Plan::Nusantara).await;
    let other = tenant(&app, "lain", Plan::Nusantara).await;
    let admin = t.admin_token.as_str();
    let (jdo, jdo_token) = signer_john(&app, admin).await;
    let jt = Some(jdo_token.as_str());

    // The built-in identity, then one registered with John's e-mail.
    let (s, ids) = get_as(&app, &format!("/api/user/{jdo}/identities"), jt).await;
    assert_eq!(s, 200, "{ids}");
    assert_eq!(ids.as_array().unwrap().len(), 1, "{ids}");
    assert_conforms("Identity", &ids[0]);
    assert_eq!(ids[0]["providerType"], "paraf");
    assert_eq!(ids[0]["valid"], true);
    assert_eq!(ids[0]["appearance"], Value::Null);
    let built_in = ids[0]["id"].as_str().unwrap().to_string();
    app.state
        .identities()
        .register(
            t.org.id,
            "John Doe",
            Some("john.doe@email.com"),
            None,
            &paraf_core::Actor::system(),
        )
        .await
        .unwrap();
    let (_, ids) = get_as(&app, &format!("/api/user/{jdo}/identities"), jt).await;
    assert_eq!(ids.as_array().unwrap().len(), 2, "{ids}");
    for i in ids.as_array().unwrap() {
        assert_conforms("Identity", i);
    }
    assert_eq!(ids[1]["providerType"], "certificate");
    assert_eq!(ids[1]["label"], "John Doe");
    let (_, me) = get_as(&app, "/api/auth/user", Some(admin)).await;
    let admin_id = me["id"].as_str().unwrap().to_string();
    let (s, v) = get_as(&app, &format!("/api/user/{admin_id}/identities"), jt).await;
    assert_eq!(s, 403, "{v}");
    let foreign = paraf_signingtoday::user_uuid(other.admin.id);
    let (s, v) = get_as(
        &app,
        &format!("/api/user/{foreign}/identities"),
        Some(admin),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("id"));

    // The appearance: an image only, scaled into its box, stored as PNG.
    let path = format!("/api/user/{jdo}/identity/{built_in}/appearance");
    let pdf = paraf_testkit::pdf::pages(&["not an image"]);
    let (s, v) = upload_appearance(
        &app,
        &path,
        &jdo_token,
        pdf.clone(),
        &[("resourceType", "Image")],
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("file"));
    let (s, v) = upload_appearance(
        &app,
        &path,
        &jdo_token,
        pdf,
        &[("resourceType", "PDF_Document")],
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("resourceType"));
    let (s, v) = get_as(&app, &path, jt).await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("identity-id"));
    let fields = [
        ("filename", "signature.png"),
        ("resourceType", "Image"),
        ("title", "My signature"),
    ];
    let (s, res) = upload_appearance(&app, &path, &jdo_token, red_blue(1200, 300), &fields).await;
    assert_eq!(s, 200, "{res}");
    assert_conforms("LFResource", &res);
    assert_eq!(res["title"], "My signature");
    let r = app
        .get(&path)
        .header("authorization", bearer(&jdo_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let stored = image::load_from_memory(&r.bytes().await.unwrap())
        .unwrap()
        .to_rgb8();
    assert_eq!(stored.dimensions(), (600, 150));
    let (_, ids) = get_as(&app, &format!("/api/user/{jdo}/identities"), jt).await;
    assert_eq!(ids[0]["appearance"]["id"], res["id"], "{ids}");
    let wrong = format!(
        "/api/user/{jdo}/identity/00000000-0000-4000-9000-{:012x}/appearance",
        t.admin.id.0
    );
    let (s, v) = get_as(&app, &wrong, jt).await;
    assert_eq!(s, 404, "another user's identity: {v}");
    assert_error(&v, "NOT_FOUND", Some("identity-id"));
    let (s, v) = upload_appearance(
        &app,
        &format!(
            "/api/user/{admin_id}/identity/00000000-0000-4000-9000-{:012x}/appearance",
            t.admin.id.0
        ),
        &jdo_token,
        red_blue(10, 10),
        &[],
    )
    .await;
    assert_eq!(s, 403, "{v}");

    // John's next visible signature shows it: the signer page offers the saved signature,
    // and the signed PDF's image (extracted by pdfimages) is red then blue.
    let doc = paraf_testkit::pdf::pages(&["Kontrak"]);
    let mut to_john = quick_start_dst(embedded(&doc));
    to_john["documents"][0]["signerGroups"][0]["signers"][0]["email"] = json!("john.doe@email.com");
    to_john["documents"][0]["forms"][0]["width"] = json!("40");
    to_john["documents"][0]["forms"][0]["height"] = json!("10");
    let (s, dst) = st(&app, "POST", "/api/DSTs", Some(admin), Some(to_john)).await;
    assert_eq!(s, 201, "{dst}");
    let dst_id = dst["id"].as_str().unwrap();
    let (s, addr) = get_as(&app, &format!("/api/DST/{dst_id}/sign/0/1"), jt).await;
    assert_eq!(s, 200, "{addr}");
    let url = addr["url"].as_str().unwrap();
    let page = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"saved-signature\""), "{page}");
    let form = reqwest::multipart::Form::new()
        .text("signature_saved", "1")
        .text("signature_typed", "John Doe");
    let r = app.http.post(url).multipart(form).send().await.unwrap();
    // Signed: the page's Post/Redirect/Get.
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    signed_with_red_blue(&app, t.org.id, dst_id).await;

    // Removed: not offered any more.
    let (s, v) = st(&app, "DELETE", &path, jt, None).await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = st(&app, "DELETE", &path, jt, None).await;
    assert_eq!(s, 404, "{v}");
    assert_audited(&app, t.org.id, &["appearance.set", "appearance.removed"]).await;
    app.stop().await;
}

async fn service_configuration(backend: Backend) {
    let app = spawn(backend).await;
    tenant(&app, "bit4id", Plan::Nusantara).await;
    // No token (the seed's sample sends none): the application's keys, and an organisation's.
    let (s, c) = get_as(&app, "/api/service/configuration", None).await;
    assert_eq!(s, 200, "{c}");
    assert!(c.is_object() && c.get("organization").is_none(), "{c}");
    assert_eq!(c["apiBaseUrl"], format!("{}/api", app.url));
    assert_eq!(c["deviceChallengeMinutes"], 10);
    assert_eq!(c["languages"], json!(["it", "en", "es", "fr"]));
    let (s, c) = get_as(&app, "/api/service/configuration?domain=bit4id", None).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["organization"]["domain"], "bit4id");
    assert_eq!(c["organization"]["name"], "Org bit4id");
    let (s, v) = get_as(&app, "/api/service/configuration?domain=nowhere", None).await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("domain"));
    app.stop().await;
}

crate::both_backends!(
    service_configuration,
    users_roles_and_passwords,
    devices_and_notifications,
    identities_and_appearances
);
