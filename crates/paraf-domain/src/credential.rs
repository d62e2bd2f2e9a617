//! Credentials, one mechanism each, shared by every API dialect:
//!
//! | kind | secret shown once | stored as |
//! |---|---|---|
//! | API token (named, several per user; Alphasign, GesDocs, robots) | `paraf_pat_…` | SHA-256 hex |
//! | Basic application credential (BSrE) | the password the admin chose | Argon2id PHC string |
//! | OAuth2 access / refresh token (Signing Today) | `paraf_oat_…` / `paraf_ort_…` | SHA-256 hex |
//! | seed-004 user token → refresh → access | `paraf_put_…` → `paraf_ort_…` → `paraf_oat_…` | SHA-256 hex |
//! | seed-004 client system private key (`x-app-key` is public) | `paraf_gpk_…` | SHA-256 hex |
//! | web console session id (cookie) | `paraf_ses_…` | SHA-256 hex |
//!
//! Random tokens carry 256 bits of entropy, so a fast hash (SHA-256) is enough to store them;
//! passwords chosen by people get Argon2id. Secrets are wrapped in [`SecretToken`] /
//! [`Password`], whose `Debug` never prints them.

use std::fmt;
use std::net::IpAddr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Duration;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::entropy::{random_bytes, Entropy};
use crate::error::DomainError;
use crate::ids::{ApiTokenId, AppCredentialId, GatewayAppId, OrgId, TokenFamilyId, UserId};
use crate::user::Role;

/// A password chosen by a person: 8 to 1024 characters. `Debug` prints `Password(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Parses a new password (length rules only; the exact text is kept, spaces included).
    pub fn parse(s: &str) -> Result<Password, DomainError> {
        let n = s.chars().count();
        if !(8..=1024).contains(&n) {
            return Err(DomainError::invalid(
                "password",
                "must be 8 to 1024 characters",
            ));
        }
        Ok(Password(s.to_owned()))
    }

    /// The password text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Hashes a password with Argon2id (the `argon2` crate's defaults: m=19 MiB, t=2, p=1) and a
/// 16-byte salt from `entropy`; returns the PHC string (`$argon2id$v=19$…`).
pub fn hash_password(password: &Password, entropy: &dyn Entropy) -> Result<String, DomainError> {
    let salt_bytes: [u8; 16] = random_bytes(entropy)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| DomainError::Entropy {
        reason: e.to_string(),
    })?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Entropy {
            reason: format!("argon2: {e}"),
        })
}

/// Whether `password` matches the PHC string `phc` (false for malformed hashes).
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one password check when there is no stored hash to check against (an
/// unknown user name), so that refusals do not reveal which names exist. Always `false`.
pub fn verify_password_against_nothing(password: &str) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| {
        SaltString::encode_b64(b"paraf-dummy-salt")
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"no such user", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    });
    let _ = verify_password(phc, password);
    false
}

/// The kinds of random bearer secrets, each with a recognisable prefix (so a leaked token is
/// easy to spot by secret scanners and by people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A named API token (`paraf_pat_`).
    ApiToken,
    /// An OAuth2 / seed-004 access token (`paraf_oat_`).
    Access,
    /// An OAuth2 / seed-004 refresh token (`paraf_ort_`).
    Refresh,
    /// A seed-004 `x-user-token` (`paraf_put_`).
    UserToken,
    /// A web console session id (`paraf_ses_`).
    ConsoleSession,
    /// A seed-004 client system's private key (`paraf_gpk_`).
    GatewayPrivateKey,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: [TokenKind; 6] = [
        TokenKind::ApiToken,
        TokenKind::Access,
        TokenKind::Refresh,
        TokenKind::UserToken,
        TokenKind::ConsoleSession,
        TokenKind::GatewayPrivateKey,
    ];

    /// The prefix every secret of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::ApiToken => "paraf_pat_",
            TokenKind::Access => "paraf_oat_",
            TokenKind::Refresh => "paraf_ort_",
            TokenKind::UserToken => "paraf_put_",
            TokenKind::ConsoleSession => "paraf_ses_",
            TokenKind::GatewayPrivateKey => "paraf_gpk_",
        }
    }

    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ApiToken => "api_token",
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::UserToken => "user_token",
            TokenKind::ConsoleSession => "console_session",
            TokenKind::GatewayPrivateKey => "gateway_private_key",
        }
    }

    /// The inverse of [`TokenKind::as_str`].
    pub fn from_db(s: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind whose prefix `secret` carries, if any.
    pub fn of_secret(secret: &str) -> Option<TokenKind> {
        TokenKind::ALL
            .into_iter()
            .find(|k| secret.starts_with(k.prefix()))
    }
}

/// A bearer secret (token, session id, private key). Shown to its owner once, then only its
/// [`token_hash`] is kept. `Debug` prints the kind and a short prefix, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// A fresh secret: the kind's prefix and 32 random bytes in lower-case hex.
    pub fn generate(kind: TokenKind, entropy: &dyn Entropy) -> Result<SecretToken, DomainError> {
        let bytes: [u8; 32] = random_bytes(entropy)?;
        Ok(SecretToken(format!(
            "{}{}",
            kind.prefix(),
            hex::encode(bytes)
        )))
    }

    /// Wraps a secret presented by a client (no validation; look it up by its hash).
    pub fn from_presented(s: &str) -> SecretToken {
        SecretToken(s.trim().to_owned())
    }

    /// The secret itself (to show once, or to hash).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 hex digest that the store keeps.
    pub fn hash(&self) -> String {
        token_hash(&self.0)
    }

    /// The first characters (prefix and 4 hex digits), safe to show in listings.
    pub fn display_prefix(&self) -> String {
        let kind_len = TokenKind::of_secret(&self.0).map_or(0, |k| k.prefix().len());
        self.0.chars().take(kind_len + 4).collect()
    }

    /// The kind its prefix says.
    pub fn kind(&self) -> Option<TokenKind> {
        TokenKind::of_secret(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken({}…)", self.display_prefix())
    }
}

/// SHA-256 of a secret, lower-case hex: how bearer secrets are stored and looked up.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Which check refused a credential. Logged and audited; clients only see "401".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    /// No credential with this username / token / key.
    UnknownCredential,
    /// The username exists but the password does not match.
    WrongPassword,
    /// The credential or its user is disabled.
    Disabled,
    /// The client's IP address is outside the credential's allow-list.
    IpNotAllowed,
    /// The token (or its family) was revoked (logout, admin action).
    Revoked,
    /// The token is past its expiry.
    Expired,
    /// A refresh token was presented a second time: the whole family is now revoked.
    RefreshTokenReused,
    /// A token of another kind was presented (e.g. a refresh token as an access token).
    WrongTokenKind,
    /// The presented value is not a credential of ours at all.
    Malformed,
}

impl AuthFailure {
    /// snake_case name for logs and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::UnknownCredential => "unknown_credential",
            AuthFailure::WrongPassword => "wrong_password",
            AuthFailure::Disabled => "disabled",
            AuthFailure::IpNotAllowed => "ip_not_allowed",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Expired => "expired",
            AuthFailure::RefreshTokenReused => "refresh_token_reused",
            AuthFailure::WrongTokenKind => "wrong_token_kind",
            AuthFailure::Malformed => "malformed",
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<AuthFailure> for DomainError {
    fn from(f: AuthFailure) -> DomainError {
        DomainError::Unauthenticated(f)
    }
}

/// The IP addresses an application credential may be used from. Entries are CIDRs
/// (`10.0.0.0/8`, `2001:db8::/32`) or single addresses (`192.0.2.7`, stored as `/32`).
/// **An empty list allows every address.** IPv4-mapped IPv6 client addresses
/// (`::ffff:192.0.2.7`) are compared as IPv4.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IpAllowList(Vec<IpNet>);

impl IpAllowList {
    /// Parses every entry; the first bad one is reported.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<IpAllowList, DomainError> {
        entries
            .iter()
            .map(|e| IpAllowList::parse_one(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(IpAllowList)
    }

    /// Parses one CIDR or address.
    pub fn parse_one(s: &str) -> Result<IpNet, DomainError> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(net.trunc());
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(IpNet::from(ip));
        }
        Err(DomainError::invalid(
            "allowed_ips",
            format!("{s:?} is not an IP address or CIDR (like 192.0.2.0/24)"),
        ))
    }

    /// Whether `ip` may use the credential.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The entries.
    pub fn entries(&self) -> &[IpNet] {
        &self.0
    }

    /// The entries as text (`192.0.2.7/32`).
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether the list is empty (every address allowed).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<String>> for IpAllowList {
    type Error = DomainError;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        IpAllowList::parse(&v)
    }
}

impl From<IpAllowList> for Vec<String> {
    fn from(l: IpAllowList) -> Vec<String> {
        l.to_strings()
    }
}

/// Which mechanism authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    ApiToken,
    AppCredential,
    /// An access token of an OAuth2 password-grant family.
    OAuth,
    /// An access token of a seed-004 (gateway) family.
    Gateway,
    ConsoleSession,
}

/// The key under which rate-limit counters and idempotency records are kept for a
/// credential: `api_token:<id>`, `app_credential:<id>` or `family:<id>` (every token of one
/// OAuth / seed-004 / console family shares its family's key, so refreshing does not reset
/// the limits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialKey(pub String);

impl CredentialKey {
    /// The key of an API token.
    pub fn api_token(id: ApiTokenId) -> CredentialKey {
        CredentialKey(format!("api_token:{id}"))
    }
    /// The key of an application credential.
    pub fn app_credential(id: AppCredentialId) -> CredentialKey {
        CredentialKey(format!("app_credential:{id}"))
    }
    /// The key of a token family.
    pub fn family(id: TokenFamilyId) -> CredentialKey {
        CredentialKey(format!("family:{id}"))
    }
    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who is calling, once a credential is accepted. Every store call on tenant data takes
/// `principal.org`: a principal can never reach another organisation's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub org: OrgId,
    /// The user behind the credential; `None` for application credentials (the application
    /// acts for the organisation).
    pub user: Option<UserId>,
    /// The user's role (`None` when `user` is `None`).
    pub role: Option<Role>,
    /// Whether the user is a robot.
    pub robot: bool,
    pub kind: CredentialKind,
    /// Rate limits and idempotency records are kept per this key.
    pub key: CredentialKey,
}

/// A named API token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub org: OrgId,
    pub user: UserId,
    /// The name its owner gave ("Backend ERP").
    pub name: String,
    /// The secret's first characters, for recognising it (`paraf_pat_1a2b`).
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Why the token cannot be used at `now`, if it cannot.
    pub fn refusal(&self, now: Timestamp) -> Option<AuthFailure> {
        if self.revoked_at.is_some_and(|t| t <= now) {
            Some(AuthFailure::Revoked)
        } else if self.expires_at.is_some_and(|t| t <= now) {
            Some(AuthFailure::Expired)
        } else {
            None
        }
    }
}

/// What is needed to create an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub org: OrgId,
    pub user: UserId,
    /// 1–100 characters.
    pub name: String,
    pub expires_at: Option<Timestamp>,
}

/// A Basic-auth application credential (BSrE's "API Credentials" page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppCredential {
    pub id: AppCredentialId,
    pub org: OrgId,
    /// Unique across the whole server (Basic auth carries no organisation).
    pub username: String,
    pub description: String,
    pub allowed_ips: IpAllowList,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What is needed to create an application credential.
#[derive(Debug, Clone)]
pub struct NewAppCredential {
    pub org: OrgId,
    /// 1–100 characters, no `:` and no spaces (see [`NewAppCredential::parse_username`]).
    pub username: String,
    pub password: Password,
    pub description: String,
    pub allowed_ips: IpAllowList,
}

impl NewAppCredential {
    /// Checks a Basic-auth username: 1–100 printable characters without `:` or spaces.
    pub fn parse_username(s: &str) -> Result<String, DomainError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 100 {
            return Err(DomainError::invalid(
                "username",
                "must be 1 to 100 characters",
            ));
        }
        if s.chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
        {
            return Err(DomainError::invalid(
                "username",
                "must not contain ':' or spaces",
            ));
        }
        Ok(s.to_owned())
    }
}

/// Which scheme a token family belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFlavour {
    /// OAuth2 password grant: access + refresh, refresh rotates on every use.
    OAuth,
    /// Seed-004 chain: user token → refresh token → access token; refresh tokens are reusable
    /// until they expire, a new one comes from the user token.
    Gateway,
    /// Web console login: one session id.
    Console,
}

impl TokenFlavour {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFlavour::OAuth => "oauth",
            TokenFlavour::Gateway => "gateway",
            TokenFlavour::Console => "console",
        }
    }

    /// The inverse of [`TokenFlavour::as_str`].
    pub fn from_db(s: &str) -> Option<TokenFlavour> {
        [
            TokenFlavour::OAuth,
            TokenFlavour::Gateway,
            TokenFlavour::Console,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }

    /// The credential kind of this family's access tokens.
    pub fn credential_kind(self) -> CredentialKind {
        match self {
            TokenFlavour::OAuth => CredentialKind::OAuth,
            TokenFlavour::Gateway => CredentialKind::Gateway,
            TokenFlavour::Console => CredentialKind::ConsoleSession,
        }
    }
}

/// How long issued tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
    /// Seed-004 user tokens.
    pub user_token: Duration,
    /// Web console sessions.
    pub console_session: Duration,
}

impl Default for TokenLifetimes {
    /// Access 1 hour, refresh 30 days, user token 90 days, console session 12 hours.
    fn default() -> Self {
        TokenLifetimes {
            access: Duration::hours(1),
            refresh: Duration::days(30),
            user_token: Duration::days(90),
            console_session: Duration::hours(12),
        }
    }
}

/// One freshly issued secret and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub secret: SecretToken,
    pub expires_at: Timestamp,
}

/// What a grant, refresh or exchange hands out (shown to the client once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub family: TokenFamilyId,
    pub access: Option<IssuedToken>,
    pub refresh: Option<IssuedToken>,
    pub user_token: Option<IssuedToken>,
}

/// A seed-004 client system (an "application key" of the external API): its `x-app-key`
/// (sent on every request) and the Ed25519 public key of the private key handed to it once
/// (Paraf never keeps the private key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayApp {
    pub id: GatewayAppId,
    pub org: OrgId,
    pub name: String,
    /// The public `x-app-key` (`paraf_gak_…`).
    pub app_key: String,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// Every request must carry `x-signature` made with the private key.
    pub require_signature: bool,
    pub enabled: bool,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    #[test]
    fn secrets_have_prefixes_and_hide_in_debug() {
        let e = SeededEntropy::new(1);
        let t = SecretToken::generate(TokenKind::ApiToken, &e)
            .unwrap_or_else(|_| SecretToken::from_presented(""));
        assert!(t.expose().starts_with("paraf_pat_"));
        assert_eq!(t.expose().len(), "paraf_pat_".len() + 64);
        assert_eq!(t.kind(), Some(TokenKind::ApiToken));
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(&t.expose()[14..]));
        assert_eq!(t.hash(), token_hash(t.expose()));
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let e = SeededEntropy::new(2);
        let p = Password::parse("correct horse").unwrap_or_else(|_| Password(String::new()));
        let phc = hash_password(&p, &e).unwrap_or_default();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&phc, "correct horse"));
        assert!(!verify_password(&phc, "wrong horse"));
        assert!(!verify_password("garbage", "correct horse"));
        assert!(Password::parse("short").is_err());
    }

    #[test]
    fn allow_lists() {
        let l =
            IpAllowList::parse(&["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]).unwrap_or_default();
        assert!(l.allows("10.1.2.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(l.allows(
            "::ffff:192.0.2.7"
                .parse()
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))
        ));
        assert!(!l.allows("192.0.2.8".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(IpAllowList::default().allows(IpAddr::from([8, 8, 8, 8])));
        assert!(IpAllowList::parse(&["10.0.0.0/33"]).is_err());
        assert!(IpAllowList::parse(&["nope"]).is_err());
        assert_eq!(l.to_strings()[1], "192.0.2.7/32");
    }
}
