//! API tokens and Basic application credentials: accepted and refused for each reason.

use std::net::IpAddr;

use chrono::Duration;
use paraf_domain::{
    AuthFailure, CredentialKind, DomainError, Entity, IpAllowList, NewApiToken, NewAppCredential,
    Password, Role,
};

use crate::common::{org, t, user, TestDb};
use crate::store_tests;

store_tests!(api_tokens, app_credentials);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn api_tokens(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let u = user(s, &a, "erp@example.com", None).await;
    let (tok, secret) = s
        .create_api_token(
            &NewApiToken {
                org: a.id,
                user: u.id,
                name: "Backend ERP".into(),
                expires_at: None,
            },
            t(0),
        )
        .await
        .unwrap();
    assert!(secret.expose().starts_with("paraf_pat_"));
    assert_eq!(tok.prefix, secret.expose()[..14]);
    assert!(tok.last_used_at.is_none());

    // Accepted.
    let p = s
        .authenticate_api_token(secret.expose(), t(10))
        .await
        .unwrap();
    assert_eq!(
        (p.org, p.user, p.role, p.kind),
        (
            a.id,
            Some(u.id),
            Some(Role::Signer),
            CredentialKind::ApiToken
        )
    );
    assert_eq!(p.key.as_str(), format!("api_token:{}", tok.id));
    assert_eq!(
        s.api_token(a.id, tok.id).await.unwrap().last_used_at,
        Some(t(10))
    );
    // The stored row holds the hash, never the secret.
    let listed = s.list_api_tokens(a.id, Some(u.id)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!format!("{listed:?}").contains(&secret.expose()[14..]));

    // Refused: not a token of ours, wrong kind, unknown.
    let f = |e: paraf_store::StoreError| e.auth_failure();
    assert_eq!(
        f(s.authenticate_api_token("hello", t(11)).await.unwrap_err()),
        Some(AuthFailure::Malformed)
    );
    assert_eq!(
        f(
            s.authenticate_api_token(&format!("paraf_oat_{}", &secret.expose()[10..]), t(11))
                .await
                .unwrap_err()
        ),
        Some(AuthFailure::WrongTokenKind)
    );
    let mut unknown = secret.expose().to_owned();
    unknown.pop();
    unknown.push('x');
    assert_eq!(
        f(s.authenticate_api_token(&unknown, t(11)).await.unwrap_err()),
        Some(AuthFailure::UnknownCredential)
    );

    // Disabled user.
    s.set_user_disabled(a.id, u.id, true, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        f(s.authenticate_api_token(secret.expose(), t(12))
            .await
            .unwrap_err()),
        Some(AuthFailure::Disabled)
    );
    s.set_user_disabled(a.id, u.id, false, chrono::Utc::now())
        .await
        .unwrap();

    // Expired.
    let (_, short) = s
        .create_api_token(
            &NewApiToken {
                org: a.id,
                user: u.id,
                name: "short".into(),
                expires_at: Some(t(100)),
            },
            t(0),
        )
        .await
        .unwrap();
    s.authenticate_api_token(short.expose(), t(99))
        .await
        .unwrap();
    assert_eq!(
        f(s.authenticate_api_token(short.expose(), t(100))
            .await
            .unwrap_err()),
        Some(AuthFailure::Expired)
    );

    // Revoked.
    s.revoke_api_token(a.id, tok.id, t(20)).await.unwrap();
    assert_eq!(
        f(s.authenticate_api_token(secret.expose(), t(21))
            .await
            .unwrap_err()),
        Some(AuthFailure::Revoked)
    );
    s.revoke_api_token(a.id, tok.id, t(30)).await.unwrap();
    assert_eq!(
        s.api_token(a.id, tok.id).await.unwrap().revoked_at,
        Some(t(20))
    );

    // Several tokens per user; names are required.
    assert_eq!(s.list_api_tokens(a.id, None).await.unwrap().len(), 2);
    let bad = s
        .create_api_token(
            &NewApiToken {
                org: a.id,
                user: u.id,
                name: "  ".into(),
                expires_at: None,
            },
            t(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        bad.domain(),
        Some(DomainError::Invalid { field: "name", .. })
    ));
}

async fn app_credentials(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let cred = s
        .create_app_credential(
            &NewAppCredential {
                org: a.id,
                username: "erp".into(),
                password: Password::parse("app-password-1").unwrap(),
                description: "ERP server".into(),
                allowed_ips: IpAllowList::parse(&["10.0.0.0/8", "192.0.2.7"]).unwrap(),
            },
            t(0),
        )
        .await
        .unwrap();
    assert!(cred.enabled);
    assert_eq!(
        cred.allowed_ips.to_strings(),
        vec!["10.0.0.0/8", "192.0.2.7/32"]
    );

    // Accepted, from inside the allow-list (IPv4-mapped IPv6 too).
    let p = s
        .verify_app_credential("erp", "app-password-1", ip("10.1.2.3"), t(5))
        .await
        .unwrap();
    assert_eq!(
        (p.org, p.user, p.kind),
        (a.id, None, CredentialKind::AppCredential)
    );
    assert_eq!(p.key.as_str(), format!("app_credential:{}", cred.id));
    s.verify_app_credential("erp", "app-password-1", ip("::ffff:192.0.2.7"), t(5))
        .await
        .unwrap();
    assert_eq!(
        s.app_credential(a.id, cred.id).await.unwrap().last_used_at,
        Some(t(5))
    );

    let f =
        |r: Result<paraf_domain::Principal, paraf_store::StoreError>| r.unwrap_err().auth_failure();
    assert_eq!(
        f(
            s.verify_app_credential("nobody", "app-password-1", ip("10.1.2.3"), t(6))
                .await
        ),
        Some(AuthFailure::UnknownCredential)
    );
    assert_eq!(
        f(
            s.verify_app_credential("erp", "wrong-password", ip("10.1.2.3"), t(6))
                .await
        ),
        Some(AuthFailure::WrongPassword)
    );
    assert_eq!(
        f(
            s.verify_app_credential("erp", "app-password-1", ip("192.0.2.8"), t(6))
                .await
        ),
        Some(AuthFailure::IpNotAllowed)
    );
    assert_eq!(
        f(
            s.verify_app_credential("erp", "app-password-1", ip("2001:db8::1"), t(6))
                .await
        ),
        Some(AuthFailure::IpNotAllowed)
    );

    s.set_app_credential_enabled(a.id, cred.id, false)
        .await
        .unwrap();
    assert_eq!(
        f(
            s.verify_app_credential("erp", "app-password-1", ip("10.1.2.3"), t(7))
                .await
        ),
        Some(AuthFailure::Disabled)
    );
    s.set_app_credential_enabled(a.id, cred.id, true)
        .await
        .unwrap();

    // An empty allow-list allows every address.
    s.set_app_credential_allowed_ips(a.id, cred.id, &IpAllowList::default())
        .await
        .unwrap();
    s.verify_app_credential("erp", "app-password-1", ip("203.0.113.9"), t(8))
        .await
        .unwrap();

    // Password change.
    s.set_app_credential_password(a.id, cred.id, &Password::parse("app-password-2").unwrap())
        .await
        .unwrap();
    assert_eq!(
        f(
            s.verify_app_credential("erp", "app-password-1", ip("10.1.2.3"), t(9))
                .await
        ),
        Some(AuthFailure::WrongPassword)
    );
    s.verify_app_credential("erp", "app-password-2", ip("10.1.2.3"), t(9))
        .await
        .unwrap();

    // Usernames are unique server-wide and may not hold ':'.
    let b = org(s, "beta").await;
    let new = |org, username: &str| NewAppCredential {
        org,
        username: username.into(),
        password: Password::parse("app-password-3").unwrap(),
        description: String::new(),
        allowed_ips: IpAllowList::default(),
    };
    let dup = s
        .create_app_credential(&new(b.id, "erp"), t(10))
        .await
        .unwrap_err();
    assert!(matches!(
        dup.domain(),
        Some(DomainError::AlreadyExists {
            entity: Entity::AppCredential,
            ..
        })
    ));
    let colon = s
        .create_app_credential(&new(b.id, "erp:x"), t(10))
        .await
        .unwrap_err();
    assert!(matches!(
        colon.domain(),
        Some(DomainError::Invalid {
            field: "username",
            ..
        })
    ));

    s.set_app_credential_description(a.id, cred.id, "ERP (prod)")
        .await
        .unwrap();
    assert_eq!(
        s.list_app_credentials(a.id).await.unwrap()[0].description,
        "ERP (prod)"
    );
    s.delete_app_credential(a.id, cred.id).await.unwrap();
    assert_eq!(
        f(
            s.verify_app_credential("erp", "app-password-2", ip("10.1.2.3"), t(11))
                .await
        ),
        Some(AuthFailure::UnknownCredential)
    );
    let _ = Duration::zero();
}
