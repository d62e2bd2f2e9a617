//! Token families: OAuth2 password grant with refresh rotation and reuse detection, the
//! seed-004 chain, console sessions, logout.

use chrono::Duration;
use paraf_domain::{AuthFailure, CredentialKind, TokenLifetimes};
use paraf_store::StoreError;

use crate::common::{org, t, user, TestDb};
use crate::store_tests;

store_tests!(oauth_rotation_and_reuse, seed_004_chain, console_sessions);

fn lifetimes() -> TokenLifetimes {
    TokenLifetimes {
        access: Duration::minutes(10),
        refresh: Duration::days(1),
        user_token: Duration::days(7),
        console_session: Duration::hours(1),
    }
}

fn fail<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Option<AuthFailure> {
    r.unwrap_err().auth_failure()
}

async fn oauth_rotation_and_reuse(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let u = user(s, &a, "budi@example.com", Some("budi-password")).await;
    let lt = lifetimes();

    assert_eq!(
        fail(
            s.oauth_password_grant(a.id, &u.email, "wrong-password", &lt, t(0))
                .await
        ),
        Some(AuthFailure::WrongPassword)
    );
    let first = s
        .oauth_password_grant(a.id, &u.email, "budi-password", &lt, t(0))
        .await
        .unwrap();
    let access1 = first.access.clone().unwrap();
    let refresh1 = first.refresh.clone().unwrap();
    assert!(access1.secret.expose().starts_with("paraf_oat_"));
    assert!(refresh1.secret.expose().starts_with("paraf_ort_"));
    assert_eq!(access1.expires_at, t(600));

    let p = s
        .authenticate_access_token(access1.secret.expose(), t(1))
        .await
        .unwrap();
    assert_eq!(
        (p.org, p.user, p.kind),
        (a.id, Some(u.id), CredentialKind::OAuth)
    );
    assert_eq!(p.key.as_str(), format!("family:{}", first.family));
    // Kinds are not interchangeable.
    assert_eq!(
        fail(
            s.authenticate_access_token(refresh1.secret.expose(), t(1))
                .await
        ),
        Some(AuthFailure::WrongTokenKind)
    );
    assert_eq!(
        fail(s.refresh_tokens(access1.secret.expose(), &lt, t(1)).await),
        Some(AuthFailure::WrongTokenKind)
    );
    // Expiry.
    assert_eq!(
        fail(
            s.authenticate_access_token(access1.secret.expose(), t(600))
                .await
        ),
        Some(AuthFailure::Expired)
    );

    // Rotation: a new pair in the same family; the family key (rate limits) is stable.
    let second = s
        .refresh_tokens(refresh1.secret.expose(), &lt, t(100))
        .await
        .unwrap();
    assert_eq!(second.family, first.family);
    let access2 = second.access.clone().unwrap();
    let refresh2 = second.refresh.clone().unwrap();
    assert_ne!(refresh2.secret, refresh1.secret);
    assert_eq!(
        s.authenticate_access_token(access2.secret.expose(), t(101))
            .await
            .unwrap()
            .key,
        p.key
    );
    // The old access token stays valid until it expires.
    s.authenticate_access_token(access1.secret.expose(), t(101))
        .await
        .unwrap();

    // Reuse of the spent refresh token: the whole family is revoked.
    assert_eq!(
        fail(
            s.refresh_tokens(refresh1.secret.expose(), &lt, t(200))
                .await
        ),
        Some(AuthFailure::RefreshTokenReused)
    );
    assert_eq!(
        fail(
            s.authenticate_access_token(access2.secret.expose(), t(201))
                .await
        ),
        Some(AuthFailure::Revoked)
    );
    assert_eq!(
        fail(
            s.refresh_tokens(refresh2.secret.expose(), &lt, t(201))
                .await
        ),
        Some(AuthFailure::Revoked)
    );

    // Logout revokes a fresh family.
    let third = s
        .oauth_password_grant(a.id, &u.email, "budi-password", &lt, t(300))
        .await
        .unwrap();
    let access3 = third.access.unwrap();
    s.authenticate_access_token(access3.secret.expose(), t(301))
        .await
        .unwrap();
    s.revoke_token_family_of(access3.secret.expose(), t(302))
        .await
        .unwrap();
    s.revoke_token_family_of(access3.secret.expose(), t(303))
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.authenticate_access_token(access3.secret.expose(), t(304))
                .await
        ),
        Some(AuthFailure::Revoked)
    );
    assert_eq!(
        fail(
            s.refresh_tokens(third.refresh.unwrap().secret.expose(), &lt, t(304))
                .await
        ),
        Some(AuthFailure::Revoked)
    );

    // Expired refresh token.
    let fourth = s
        .oauth_password_grant(a.id, &u.email, "budi-password", &lt, t(400))
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.refresh_tokens(
                fourth.refresh.unwrap().secret.expose(),
                &lt,
                t(400 + 86_400)
            )
            .await
        ),
        Some(AuthFailure::Expired)
    );

    // A disabled user's tokens stop working.
    let fifth = s
        .oauth_password_grant(a.id, &u.email, "budi-password", &lt, t(500))
        .await
        .unwrap();
    s.set_user_disabled(a.id, u.id, true, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.authenticate_access_token(fifth.access.unwrap().secret.expose(), t(501))
                .await
        ),
        Some(AuthFailure::Disabled)
    );
}

async fn seed_004_chain(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let u = user(s, &a, "siti@example.com", Some("siti-password")).await;
    let lt = lifetimes();

    let app = s
        .create_gateway_app(a.id, "Core banking", &[7; 32], true, t(0))
        .await
        .unwrap();
    assert!(app.app_key.starts_with("paraf_gak_"));
    assert_eq!(
        (app.public_key.clone(), app.require_signature),
        (vec![7; 32], true)
    );
    assert_eq!(s.gateway_app_by_key(&app.app_key).await.unwrap(), app);
    assert_eq!(
        fail(s.gateway_app_by_key("paraf_gak_nope").await),
        Some(AuthFailure::UnknownCredential)
    );
    assert!(s
        .create_gateway_app(a.id, "Short key", &[7; 31], false, t(0))
        .await
        .is_err());
    assert!(s
        .create_gateway_app(a.id, " ", &[7; 32], false, t(0))
        .await
        .is_err());
    // Rotation: a new public key, the same x-app-key.
    let rotated = s.set_gateway_app_key(a.id, app.id, &[8; 32]).await.unwrap();
    assert_eq!(
        (rotated.app_key.clone(), rotated.public_key.clone()),
        (app.app_key.clone(), vec![8; 32])
    );
    assert_eq!(s.gateway_apps(a.id).await.unwrap(), vec![rotated.clone()]);

    // x-user-token (after the user's password) → refresh → access.
    let user_ok = s
        .verify_user_password(a.id, &u.email, "siti-password")
        .await
        .unwrap();
    let root = s
        .issue_user_token(a.id, app.id, user_ok.id, &lt, t(0))
        .await
        .unwrap();
    let ut = root.user_token.unwrap();
    assert!(ut.secret.expose().starts_with("paraf_put_"));
    let r1 = s
        .refresh_from_user_token(ut.secret.expose(), &lt, t(10))
        .await
        .unwrap()
        .refresh
        .unwrap();
    let acc = s
        .refresh_tokens(r1.secret.expose(), &lt, t(20))
        .await
        .unwrap();
    let r1b = acc.refresh.clone().expect("gateway refresh tokens rotate");
    let p = s
        .authenticate_access_token(acc.access.unwrap().secret.expose(), t(21))
        .await
        .unwrap();
    assert_eq!((p.user, p.kind), (Some(u.id), CredentialKind::Gateway));
    let (gp, family, gapp) = s
        .gateway_token(
            ut.secret.expose(),
            paraf_domain::TokenKind::UserToken,
            t(21),
        )
        .await
        .unwrap();
    assert_eq!((gp.user, family, gapp), (Some(u.id), root.family, app.id));
    assert_eq!(
        fail(
            s.gateway_token(r1b.secret.expose(), paraf_domain::TokenKind::Access, t(21))
                .await
        ),
        Some(AuthFailure::WrongTokenKind)
    );
    // The rotated refresh token works once.
    let r1c = s
        .refresh_tokens(r1b.secret.expose(), &lt, t(30))
        .await
        .unwrap()
        .refresh
        .unwrap();
    // A new refresh token from the user token revokes the earlier one.
    let r2 = s
        .refresh_from_user_token(ut.secret.expose(), &lt, t(40))
        .await
        .unwrap()
        .refresh
        .unwrap();
    assert_eq!(
        fail(s.refresh_tokens(r1c.secret.expose(), &lt, t(41)).await),
        Some(AuthFailure::Revoked)
    );
    let acc2 = s
        .refresh_tokens(r2.secret.expose(), &lt, t(42))
        .await
        .unwrap()
        .access
        .unwrap();
    // The user token is not an access token.
    assert_eq!(
        fail(s.authenticate_access_token(ut.secret.expose(), t(43)).await),
        Some(AuthFailure::WrongTokenKind)
    );

    // Disabling the app stops new user tokens; logout ends the chain.
    s.set_gateway_app_enabled(a.id, app.id, false)
        .await
        .unwrap();
    assert_eq!(
        fail(s.gateway_app_by_key(&app.app_key).await),
        Some(AuthFailure::Disabled)
    );
    assert_eq!(
        fail(s.issue_user_token(a.id, app.id, u.id, &lt, t(50)).await),
        Some(AuthFailure::Disabled)
    );
    s.revoke_token_family_of(ut.secret.expose(), t(60))
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.authenticate_access_token(acc2.secret.expose(), t(61))
                .await
        ),
        Some(AuthFailure::Revoked)
    );
    assert_eq!(
        fail(
            s.refresh_from_user_token(ut.secret.expose(), &lt, t(61))
                .await
        ),
        Some(AuthFailure::Revoked)
    );

    // Deleting an app: its key is unknown from then on, and its users' tokens stop.
    let other = s
        .create_gateway_app(a.id, "Payroll", &[9; 32], false, t(70))
        .await
        .unwrap();
    let chain = s
        .issue_user_token(a.id, other.id, u.id, &lt, t(70))
        .await
        .unwrap()
        .user_token
        .unwrap();
    s.delete_gateway_app(a.id, other.id, t(71)).await.unwrap();
    assert_eq!(
        fail(s.gateway_app_by_key(&other.app_key).await),
        Some(AuthFailure::UnknownCredential)
    );
    assert_eq!(
        fail(
            s.refresh_from_user_token(chain.secret.expose(), &lt, t(72))
                .await
        ),
        Some(AuthFailure::Revoked)
    );
    assert!(s
        .gateway_apps(a.id)
        .await
        .unwrap()
        .iter()
        .all(|g| g.id != other.id));
    assert!(s.delete_gateway_app(a.id, other.id, t(73)).await.is_err());

    // Login gives the three tokens at once; reusing a rotated refresh token ends the chain.
    s.set_gateway_app_enabled(a.id, app.id, true).await.unwrap();
    let login = s
        .gateway_login(a.id, app.id, u.id, &lt, t(80))
        .await
        .unwrap();
    let (first_refresh, access, user_token) = (
        login.refresh.unwrap(),
        login.access.unwrap(),
        login.user_token.unwrap(),
    );
    s.gateway_token(
        access.secret.expose(),
        paraf_domain::TokenKind::Access,
        t(81),
    )
    .await
    .unwrap();
    s.refresh_tokens(first_refresh.secret.expose(), &lt, t(82))
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.refresh_tokens(first_refresh.secret.expose(), &lt, t(83))
                .await
        ),
        Some(AuthFailure::RefreshTokenReused)
    );
    assert_eq!(
        fail(
            s.gateway_token(
                user_token.secret.expose(),
                paraf_domain::TokenKind::UserToken,
                t(84)
            )
            .await
        ),
        Some(AuthFailure::Revoked)
    );
}

async fn console_sessions(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let u = user(s, &a, "admin@example.com", Some("admin-password")).await;
    let lt = lifetimes();
    let sess = s
        .create_console_session(a.id, u.id, &lt, t(0))
        .await
        .unwrap();
    assert!(sess.secret.expose().starts_with("paraf_ses_"));
    assert_eq!(sess.expires_at, t(3600));
    let p = s
        .authenticate_console_session(sess.secret.expose(), t(10))
        .await
        .unwrap();
    assert_eq!(
        (p.user, p.kind),
        (Some(u.id), CredentialKind::ConsoleSession)
    );
    assert_eq!(
        fail(
            s.authenticate_console_session(sess.secret.expose(), t(3600))
                .await
        ),
        Some(AuthFailure::Expired)
    );
    assert_eq!(
        fail(
            s.authenticate_access_token(sess.secret.expose(), t(10))
                .await
        ),
        Some(AuthFailure::WrongTokenKind)
    );
    s.revoke_token_family_of(sess.secret.expose(), t(20))
        .await
        .unwrap();
    assert_eq!(
        fail(
            s.authenticate_console_session(sess.secret.expose(), t(21))
                .await
        ),
        Some(AuthFailure::Revoked)
    );
    assert_eq!(
        fail(s.revoke_token_family_of("paraf_ses_unknown", t(21)).await),
        Some(AuthFailure::UnknownCredential)
    );
}
