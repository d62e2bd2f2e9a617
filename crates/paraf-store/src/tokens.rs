//! Token families: one model for OAuth2 (password grant, refresh rotation), the seed-004
//! chain (user token → refresh token → access token) and web console sessions.
//!
//! A **family** (`token_families`) belongs to one user of one organisation and has a
//! flavour; its **tokens** (`family_tokens`) each have a kind (access, refresh, user token,
//! console session), an expiry, and are stored as SHA-256 of the secret. Revoking the family
//! (logout, reuse detection, admin) refuses every token in it at once. Rate limits and
//! idempotency records are kept per family (`family:<id>`), so refreshing does not reset
//! them.
//!
//! | flavour | issued by | refresh |
//! |---|---|---|
//! | `oauth` | `oauth_password_grant` (access + refresh) | rotates: a refresh token is spent on use; presenting a spent one revokes the family (`RefreshTokenReused`) |
//! | `gateway` | `gateway_login` (user, refresh and access token; after `gateway_app_by_key` and the user's password) or `issue_user_token` (a user token alone) | `refresh_from_user_token` gives a refresh token (revoking earlier ones); `refresh_tokens` rotates as for `oauth` |
//! | `console` | `create_console_session` (after the user's password) | none: the session expires |

use paraf_domain::{
    AuthFailure, CredentialKey, Email, Entity, GatewayAppId, IssuedToken, IssuedTokens, OrgId,
    Principal, SecretToken, Timestamp, TokenFamilyId, TokenFlavour, TokenKind, TokenLifetimes,
    UserId,
};

use crate::credentials::{expect_kind, parse_role};
use crate::{affected, ts, with_pool, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct TokenLookup {
    id: i64,
    family_id: i64,
    kind: String,
    expires_at: i64,
    revoked_at: Option<i64>,
    org_id: i64,
    user_id: i64,
    flavour: String,
    family_revoked_at: Option<i64>,
    gateway_app_id: Option<i64>,
    role: String,
    robot: bool,
    disabled: bool,
}

const LOOKUP_SQL: &str =
    "SELECT t.id, t.family_id, t.kind, t.expires_at, t.spent_at, t.revoked_at, \
    f.org_id, f.user_id, f.flavour, f.revoked_at AS family_revoked_at, f.gateway_app_id, u.role, u.robot, u.disabled \
    FROM family_tokens t JOIN token_families f ON f.id = t.family_id \
    JOIN users u ON u.id = f.user_id AND u.org_id = f.org_id WHERE t.token_hash = $1";

const INSERT_TOKEN_SQL: &str =
    "INSERT INTO family_tokens (family_id, kind, token_hash, created_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5)";

/// A token to insert: its secret (returned to the caller) and its row values.
struct Pending {
    kind: TokenKind,
    secret: SecretToken,
    expires_at: Timestamp,
}

impl Pending {
    fn issued(&self) -> IssuedToken {
        IssuedToken {
            secret: self.secret.clone(),
            expires_at: self.expires_at,
        }
    }
}

impl TokenLookup {
    fn flavour(&self) -> Result<TokenFlavour> {
        TokenFlavour::from_db(&self.flavour)
            .ok_or_else(|| StoreError::corrupt(format!("token family {}: flavour", self.family_id)))
    }

    /// The checks common to every presented family token.
    fn check(&self, now: Timestamp) -> Result<()> {
        let now = ts(now);
        if self.family_revoked_at.is_some() || self.revoked_at.is_some_and(|t| t <= now) {
            return Err(StoreError::auth(AuthFailure::Revoked));
        }
        if self.expires_at <= now {
            return Err(StoreError::auth(AuthFailure::Expired));
        }
        if self.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        Ok(())
    }

    fn principal(&self) -> Result<Principal> {
        Ok(Principal {
            org: OrgId(self.org_id),
            user: Some(UserId(self.user_id)),
            role: Some(parse_role(&self.role)?),
            robot: self.robot,
            kind: self.flavour()?.credential_kind(),
            key: CredentialKey::family(TokenFamilyId(self.family_id)),
        })
    }
}

impl Store {
    fn pending(&self, kind: TokenKind, now: Timestamp, ttl: chrono::Duration) -> Result<Pending> {
        Ok(Pending {
            kind,
            secret: SecretToken::generate(kind, &*self.entropy)?,
            expires_at: now + ttl,
        })
    }

    async fn lookup_token(&self, secret: &SecretToken) -> Result<TokenLookup> {
        let row: Option<TokenLookup> = with_pool!(self, |p| sqlx::query_as(LOOKUP_SQL)
            .bind(secret.hash())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::auth(AuthFailure::UnknownCredential))
    }

    /// Creates a family and its first tokens in one transaction.
    async fn new_family(
        &self,
        org: OrgId,
        user: UserId,
        flavour: TokenFlavour,
        app: Option<GatewayAppId>,
        tokens: &[&Pending],
        now: Timestamp,
    ) -> Result<TokenFamilyId> {
        let id: i64 = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO token_families (org_id, user_id, flavour, gateway_app_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(org.0)
            .bind(user.0)
            .bind(flavour.as_str())
            .bind(app.map(|a| a.0))
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?;
            for t in tokens {
                sqlx::query(INSERT_TOKEN_SQL)
                    .bind(id)
                    .bind(t.kind.as_str())
                    .bind(t.secret.hash())
                    .bind(ts(now))
                    .bind(ts(t.expires_at))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id
        });
        Ok(TokenFamilyId(id))
    }

    /// OAuth2 password grant: checks the user's password (see
    /// [`Store::verify_user_password`] for the refusals) and issues an access token and a
    /// refresh token in a new `oauth` family.
    pub async fn oauth_password_grant(
        &self,
        org: OrgId,
        email: &Email,
        password: &str,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let user = self.verify_user_password(org, email, password).await?;
        self.oauth_grant_for(org, user.id, lifetimes, now).await
    }

    /// Issues a new `oauth` family (access + refresh) to a user whose identity was proven
    /// another way (a password, a SAML assertion). `Disabled` for a disabled user, robots
    /// refused as `UnknownCredential`.
    pub async fn oauth_grant_for(
        &self,
        org: OrgId,
        user: UserId,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let found = self.user(org, user).await?;
        if found.robot {
            return Err(StoreError::auth(AuthFailure::UnknownCredential));
        }
        if found.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        let access = self.pending(TokenKind::Access, now, lifetimes.access)?;
        let refresh = self.pending(TokenKind::Refresh, now, lifetimes.refresh)?;
        let family = self
            .new_family(
                org,
                user,
                TokenFlavour::OAuth,
                None,
                &[&access, &refresh],
                now,
            )
            .await?;
        Ok(IssuedTokens {
            family,
            access: Some(access.issued()),
            refresh: Some(refresh.issued()),
            user_token: None,
        })
    }

    /// Exchanges a refresh token. `oauth` and `gateway` families rotate: the presented token
    /// is spent and a new access + refresh pair is returned; presenting a spent refresh token
    /// again revokes the whole family and fails with `RefreshTokenReused`. Other refusals: `Malformed`, `WrongTokenKind`,
    /// `UnknownCredential`, `Revoked`, `Expired`, `Disabled`.
    pub async fn refresh_tokens(
        &self,
        presented: &str,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let secret = expect_kind(presented, TokenKind::Refresh)?;
        let found = self.lookup_token(&secret).await?;
        let family = TokenFamilyId(found.family_id);
        if found.kind != TokenKind::Refresh.as_str() {
            return Err(StoreError::auth(AuthFailure::WrongTokenKind));
        }
        found.check(now)?;
        let flavour = found.flavour()?;
        let access = self.pending(TokenKind::Access, now, lifetimes.access)?;
        match flavour {
            // Both rotate: a refresh token is spent on use; presenting it again revokes the
            // family.
            TokenFlavour::OAuth | TokenFlavour::Gateway => {
                let refresh = self.pending(TokenKind::Refresh, now, lifetimes.refresh)?;
                let rotated: bool = with_pool!(self, |p| {
                    let mut tx = p.begin().await?;
                    let spent = sqlx::query(
                        "UPDATE family_tokens SET spent_at = $2 \
                         WHERE id = $1 AND spent_at IS NULL AND revoked_at IS NULL",
                    )
                    .bind(found.id)
                    .bind(ts(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if spent == 1 {
                        for t in [&access, &refresh] {
                            sqlx::query(INSERT_TOKEN_SQL)
                                .bind(found.family_id)
                                .bind(t.kind.as_str())
                                .bind(t.secret.hash())
                                .bind(ts(now))
                                .bind(ts(t.expires_at))
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    tx.commit().await?;
                    spent == 1
                });
                if !rotated {
                    self.revoke_family(family, "refresh_token_reused", now)
                        .await?;
                    return Err(StoreError::auth(AuthFailure::RefreshTokenReused));
                }
                Ok(IssuedTokens {
                    family,
                    access: Some(access.issued()),
                    refresh: Some(refresh.issued()),
                    user_token: None,
                })
            }
            TokenFlavour::Console => Err(StoreError::auth(AuthFailure::WrongTokenKind)),
        }
    }

    async fn revoke_family(
        &self,
        family: TokenFamilyId,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "UPDATE token_families SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL"
        )
        .bind(family.0)
        .bind(ts(now))
        .bind(reason)
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Authenticates an access token (`oauth` or `gateway` family). Refusals: `Malformed`,
    /// `WrongTokenKind`, `UnknownCredential`, `Revoked` (family logged out or revoked),
    /// `Expired`, `Disabled` (user).
    pub async fn authenticate_access_token(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Principal> {
        let secret = expect_kind(presented, TokenKind::Access)?;
        let found = self.lookup_token(&secret).await?;
        if found.kind != TokenKind::Access.as_str() {
            return Err(StoreError::auth(AuthFailure::WrongTokenKind));
        }
        found.check(now)?;
        found.principal()
    }

    /// Logout: revokes the whole family of any of its tokens (access, refresh, user token or
    /// console session). `UnknownCredential` if the token is not ours; revoking twice is fine.
    pub async fn revoke_token_family_of(&self, presented: &str, now: Timestamp) -> Result<()> {
        let secret = SecretToken::from_presented(presented);
        if secret.kind().is_none() {
            return Err(StoreError::auth(AuthFailure::Malformed));
        }
        let found = self.lookup_token(&secret).await?;
        self.revoke_family(TokenFamilyId(found.family_id), "logout", now)
            .await
    }

    /// Revokes a family by id (admin action), within the organisation.
    pub async fn revoke_token_family(
        &self,
        org: OrgId,
        family: TokenFamilyId,
        now: Timestamp,
    ) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE token_families SET revoked_at = COALESCE(revoked_at, $3), \
             revoked_reason = COALESCE(revoked_reason, 'revoked') WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(family.0)
        .bind(ts(now))
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::TokenFamily));
        }
        Ok(())
    }

    /// Starts a web console session for a user whose password was checked; the secret is
    /// the cookie value (`paraf_ses_…`; set it `Secure; HttpOnly; SameSite=Lax`).
    pub async fn create_console_session(
        &self,
        org: OrgId,
        user: UserId,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedToken> {
        let u = self.user(org, user).await?;
        if u.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        let session = self.pending(TokenKind::ConsoleSession, now, lifetimes.console_session)?;
        self.new_family(org, user, TokenFlavour::Console, None, &[&session], now)
            .await?;
        Ok(session.issued())
    }

    /// Authenticates a console session cookie (refusals as for access tokens).
    pub async fn authenticate_console_session(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Principal> {
        let secret = expect_kind(presented, TokenKind::ConsoleSession)?;
        let found = self.lookup_token(&secret).await?;
        found.check(now)?;
        found.principal()
    }

    /// Seed-004 login (the caller checked the user's password): a new `gateway` family of
    /// app `app` holding a user token, a refresh token and an access token.
    pub async fn gateway_login(
        &self,
        org: OrgId,
        app: GatewayAppId,
        user: UserId,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let ut = self.pending(TokenKind::UserToken, now, lifetimes.user_token)?;
        let access = self.pending(TokenKind::Access, now, lifetimes.access)?;
        let refresh = self.pending(TokenKind::Refresh, now, lifetimes.refresh)?;
        let family = self
            .new_gateway_family(org, app, user, &[&ut, &access, &refresh], now)
            .await?;
        Ok(IssuedTokens {
            family,
            access: Some(access.issued()),
            refresh: Some(refresh.issued()),
            user_token: Some(ut.issued()),
        })
    }

    /// A new `gateway` family of `app` for `user`, holding `tokens` (one transaction), once
    /// the app is known and enabled and the user is not disabled.
    async fn new_gateway_family(
        &self,
        org: OrgId,
        app: GatewayAppId,
        user: UserId,
        tokens: &[&Pending],
        now: Timestamp,
    ) -> Result<TokenFamilyId> {
        let enabled: Option<(bool,)> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT enabled FROM gateway_apps WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        )
        .bind(org.0)
        .bind(app.0)
        .fetch_optional(p)
        .await
        })?;
        match enabled {
            None => return Err(StoreError::not_found(Entity::GatewayApp)),
            Some((false,)) => return Err(StoreError::auth(AuthFailure::Disabled)),
            Some((true,)) => {}
        }
        if self.user(org, user).await?.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        self.new_family(org, user, TokenFlavour::Gateway, Some(app), tokens, now)
            .await
    }

    /// A live token of a `gateway` family, of `kind`: its principal, its family and the app
    /// that family belongs to. Refusals as for access tokens; another kind or a family of
    /// another flavour is `WrongTokenKind`.
    pub async fn gateway_token(
        &self,
        presented: &str,
        kind: TokenKind,
        now: Timestamp,
    ) -> Result<(Principal, TokenFamilyId, GatewayAppId)> {
        let secret = expect_kind(presented, kind)?;
        let found = self.lookup_token(&secret).await?;
        if found.kind != kind.as_str() || found.flavour()? != TokenFlavour::Gateway {
            return Err(StoreError::auth(AuthFailure::WrongTokenKind));
        }
        found.check(now)?;
        let app = found.gateway_app_id.ok_or_else(|| {
            StoreError::corrupt(format!("gateway family {} has no app", found.family_id))
        })?;
        Ok((
            found.principal()?,
            TokenFamilyId(found.family_id),
            GatewayAppId(app),
        ))
    }

    /// Issues a seed-004 `x-user-token` for a user (whose password the caller checked) of
    /// the app's organisation: the root of a new `gateway` family.
    pub async fn issue_user_token(
        &self,
        org: OrgId,
        app: GatewayAppId,
        user: UserId,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let ut = self.pending(TokenKind::UserToken, now, lifetimes.user_token)?;
        let family = self.new_gateway_family(org, app, user, &[&ut], now).await?;
        Ok(IssuedTokens {
            family,
            access: None,
            refresh: None,
            user_token: Some(ut.issued()),
        })
    }

    /// Seed-004: `Bearer <x-user-token>` → a new refresh token; earlier refresh tokens of
    /// the family are revoked. Refusals as for access tokens.
    pub async fn refresh_from_user_token(
        &self,
        presented: &str,
        lifetimes: &TokenLifetimes,
        now: Timestamp,
    ) -> Result<IssuedTokens> {
        let secret = expect_kind(presented, TokenKind::UserToken)?;
        let found = self.lookup_token(&secret).await?;
        found.check(now)?;
        let refresh = self.pending(TokenKind::Refresh, now, lifetimes.refresh)?;
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE family_tokens SET revoked_at = $2 \
                 WHERE family_id = $1 AND kind = 'refresh' AND revoked_at IS NULL",
            )
            .bind(found.family_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(INSERT_TOKEN_SQL)
                .bind(found.family_id)
                .bind(refresh.kind.as_str())
                .bind(refresh.secret.hash())
                .bind(ts(now))
                .bind(ts(refresh.expires_at))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(IssuedTokens {
            family: TokenFamilyId(found.family_id),
            access: None,
            refresh: Some(refresh.issued()),
            user_token: None,
        })
    }
}
