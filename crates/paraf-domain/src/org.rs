//! Organisations (tenants) and their plans: the Alphasign plan names Lontar … Nusantara with
//! their per-minute/day/month request limits (seed 000), and quotas on documents, signatures,
//! storage bytes and API requests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::DomainError;
use crate::ids::OrgId;
use crate::ratelimit::RateWindow;

/// An organisation's URL-safe unique name: 2–63 characters of `a-z`, `0-9` and `-`, not
/// starting or ending with `-`. Also the `@domain` of Signing Today's `username@domain`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parses a slug (surrounding whitespace is trimmed, upper case is refused).
    pub fn parse(s: &str) -> Result<Slug, DomainError> {
        let s = s.trim();
        let err = |r: &str| Err(DomainError::invalid("slug", r));
        if s.len() < 2 || s.len() > 63 {
            return err("must be 2 to 63 characters");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err("only lower-case letters, digits and '-' are allowed");
        }
        if s.starts_with('-') || s.ends_with('-') {
            return err("must not start or end with '-'");
        }
        Ok(Slug(s.to_owned()))
    }
}

parsed_string!(Slug);

/// An organisation's display name: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);

impl OrgName {
    /// Parses a display name.
    pub fn parse(s: &str) -> Result<OrgName, DomainError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 200 {
            return Err(DomainError::invalid("name", "must be 1 to 200 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(OrgName(s.to_owned()))
    }
}

parsed_string!(OrgName);

/// The subscription plans (seed 000, Alphasign). Piagam and Keraton share one row of the
/// seed's rate-limit table; they differ in quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Lontar,
    Prasasti,
    Piagam,
    Keraton,
    Nusantara,
}

impl Plan {
    /// Every plan, smallest first.
    pub const ALL: [Plan; 5] = [
        Plan::Lontar,
        Plan::Prasasti,
        Plan::Piagam,
        Plan::Keraton,
        Plan::Nusantara,
    ];

    /// Lower-case name as used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Lontar => "lontar",
            Plan::Prasasti => "prasasti",
            Plan::Piagam => "piagam",
            Plan::Keraton => "keraton",
            Plan::Nusantara => "nusantara",
        }
    }

    /// Display name as the seed writes it ("Lontar").
    pub fn display_name(self) -> &'static str {
        match self {
            Plan::Lontar => "Lontar",
            Plan::Prasasti => "Prasasti",
            Plan::Piagam => "Piagam",
            Plan::Keraton => "Keraton",
            Plan::Nusantara => "Nusantara",
        }
    }

    /// Parses a plan name, case-insensitively.
    pub fn parse(s: &str) -> Result<Plan, DomainError> {
        let l = s.trim().to_ascii_lowercase();
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == l)
            .ok_or_else(|| {
                DomainError::invalid(
                    "plan",
                    format!("unknown plan {s:?} (expected lontar, prasasti, piagam, keraton or nusantara)"),
                )
            })
    }

    /// Requests allowed per credential (seed 000's table).
    pub fn rate_limits(self) -> RateLimits {
        let (per_minute, per_day, per_month) = match self {
            Plan::Lontar => (60, 1_000, 1_000),
            Plan::Prasasti => (120, 5_000, 5_000),
            Plan::Piagam | Plan::Keraton => (300, 10_000, 10_000),
            Plan::Nusantara => (600, 20_000, 20_000),
        };
        RateLimits {
            per_minute,
            per_day,
            per_month,
        }
    }

    /// The quotas an organisation gets on this plan (the seed gives no numbers: these are
    /// Paraf's defaults, an operator may change an organisation's quotas). `api_requests`
    /// equals the plan's monthly request limit.
    pub fn default_quotas(self) -> Quotas {
        const GIB: u64 = 1024 * 1024 * 1024;
        let (documents, signatures, storage_gib) = match self {
            Plan::Lontar => (50, 100, 1),
            Plan::Prasasti => (250, 500, 5),
            Plan::Piagam => (1_000, 2_000, 20),
            Plan::Keraton => (2_500, 5_000, 50),
            Plan::Nusantara => (10_000, 20_000, 200),
        };
        Quotas {
            documents,
            signatures,
            storage_bytes: storage_gib * GIB,
            api_requests: self.rate_limits().per_month,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::parse(s)
    }
}

/// Requests allowed per credential in each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub per_minute: u64,
    pub per_day: u64,
    pub per_month: u64,
}

impl RateLimits {
    /// The limit for one window.
    pub fn limit(&self, window: RateWindow) -> u64 {
        match window {
            RateWindow::Minute => self.per_minute,
            RateWindow::Day => self.per_day,
            RateWindow::Month => self.per_month,
        }
    }
}

/// What an organisation's usage is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    Documents,
    Signatures,
    StorageBytes,
    ApiRequests,
}

impl QuotaKind {
    /// Every kind.
    pub const ALL: [QuotaKind; 4] = [
        QuotaKind::Documents,
        QuotaKind::Signatures,
        QuotaKind::StorageBytes,
        QuotaKind::ApiRequests,
    ];

    /// snake_case name (Alphasign's `/me/quota` keys).
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaKind::Documents => "documents",
            QuotaKind::Signatures => "signatures",
            QuotaKind::StorageBytes => "storage_bytes",
            QuotaKind::ApiRequests => "api_requests",
        }
    }
}

impl fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits on what an organisation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    pub documents: u64,
    pub signatures: u64,
    pub storage_bytes: u64,
    pub api_requests: u64,
}

impl Quotas {
    /// The quota of one kind.
    pub fn get(&self, kind: QuotaKind) -> u64 {
        match kind {
            QuotaKind::Documents => self.documents,
            QuotaKind::Signatures => self.signatures,
            QuotaKind::StorageBytes => self.storage_bytes,
            QuotaKind::ApiRequests => self.api_requests,
        }
    }
}

/// What an organisation has used so far (same fields as [`Quotas`]).
pub type Usage = Quotas;

/// The PAdES level of the signatures an organisation's direct signing makes (the BSrE
/// dialect); envelopes always end at B-LTA (each signature B-LT, the completed envelope
/// sealed with a document timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SignatureLevel {
    /// Signature timestamp (the signing time is proved).
    #[serde(rename = "B-T")]
    BT,
    /// B-T + the validation data (chains, OCSP, CRLs) in the document's DSS.
    #[serde(rename = "B-LT")]
    BLT,
    /// B-LT + a document timestamp over it all, renewed before it expires (`ltv refresh`).
    #[serde(rename = "B-LTA")]
    BLTA,
}

impl SignatureLevel {
    /// Every level, lowest first.
    pub const ALL: [SignatureLevel; 3] = [
        SignatureLevel::BT,
        SignatureLevel::BLT,
        SignatureLevel::BLTA,
    ];

    /// The ETSI name (`B-T`, `B-LT`, `B-LTA`), as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureLevel::BT => "B-T",
            SignatureLevel::BLT => "B-LT",
            SignatureLevel::BLTA => "B-LTA",
        }
    }

    /// Parses `B-T`, `B-LT` or `B-LTA`, case-insensitively (the `B-` may be left out).
    pub fn parse(s: &str) -> Result<SignatureLevel, DomainError> {
        let l = s.trim().to_ascii_uppercase();
        let l = l.strip_prefix("B-").unwrap_or(&l);
        SignatureLevel::ALL
            .into_iter()
            .find(|v| &v.as_str()[2..] == l)
            .ok_or_else(|| {
                DomainError::invalid(
                    "level",
                    format!("unknown signature level {s:?} (expected B-T, B-LT or B-LTA)"),
                )
            })
    }
}

/// The algorithm of the keys made for an organisation's identities and seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    /// RSA, 2048-bit modulus (the default: what BSrE issues and relying parties expect).
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// ECDSA on NIST P-256.
    P256,
    /// ECDSA on NIST P-384.
    P384,
}

impl KeyAlgorithm {
    /// Every algorithm.
    pub const ALL: [KeyAlgorithm; 4] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::P256,
        KeyAlgorithm::P384,
    ];

    /// `rsa2048`, `rsa3072`, `p256` or `p384`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
            KeyAlgorithm::P256 => "p256",
            KeyAlgorithm::P384 => "p384",
        }
    }

    /// Parses one of [`KeyAlgorithm::as_str`]'s names, case-insensitively.
    pub fn parse(s: &str) -> Result<KeyAlgorithm, DomainError> {
        let l = s.trim().to_ascii_lowercase();
        KeyAlgorithm::ALL
            .into_iter()
            .find(|v| v.as_str() == l)
            .ok_or_else(|| {
                DomainError::invalid(
                    "key_type",
                    format!("unknown key type {s:?} (expected rsa2048, rsa3072, p256 or p384)"),
                )
            })
    }
}

/// How an organisation signs: the level of direct signatures and the algorithm of new keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SigningProfile {
    pub level: SignatureLevel,
    pub key_type: KeyAlgorithm,
}

impl Default for SigningProfile {
    /// B-LTA and RSA-2048.
    fn default() -> Self {
        SigningProfile {
            level: SignatureLevel::BLTA,
            key_type: KeyAlgorithm::Rsa2048,
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrgId,
    pub slug: Slug,
    pub name: OrgName,
    pub plan: Plan,
    pub quotas: Quotas,
    pub usage: Usage,
    /// The calendar month (`YYYY-MM`) of the monthly counters in `usage` (documents,
    /// signatures, API requests); storage is not monthly.
    pub usage_period: String,
    /// How it signs (level of direct signatures, algorithm of new keys).
    pub signing: SigningProfile,
    pub created_at: Timestamp,
}

impl Organisation {
    /// The per-credential rate limits of this organisation's plan.
    pub fn rate_limits(&self) -> RateLimits {
        self.plan.rate_limits()
    }

    /// What the organisation used in the month `period` (`YYYY-MM`, see [`usage_period`]):
    /// the monthly counters start from zero in a month nothing was counted in yet.
    pub fn usage_in(&self, period: &str) -> Usage {
        // A newer period on record (this clock is behind at a month's turn) stands as it is.
        if self.usage_period.as_str() >= period {
            self.usage
        } else {
            Usage {
                documents: 0,
                signatures: 0,
                api_requests: 0,
                ..self.usage
            }
        }
    }
}

/// The calendar month (UTC) of `t` as usage counters name it: `YYYY-MM`.
pub fn usage_period(t: Timestamp) -> String {
    t.format("%Y-%m").to_string()
}

impl QuotaKind {
    /// Whether the counter starts again every calendar month (all but storage).
    pub fn is_monthly(self) -> bool {
        !matches!(self, QuotaKind::StorageBytes)
    }
}

/// What is needed to create an organisation; quotas default to the plan's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    pub slug: Slug,
    pub name: OrgName,
    pub plan: Plan,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(Slug::parse("acme-corp").is_ok());
        assert!(Slug::parse("a").is_err());
        assert!(Slug::parse("Acme").is_err());
        assert!(Slug::parse("-acme").is_err());
        assert!(Slug::parse("ac me").is_err());
    }

    #[test]
    fn plans_follow_seed_000() {
        assert_eq!(Plan::parse("Lontar"), Ok(Plan::Lontar));
        assert!(Plan::parse("gold").is_err());
        assert_eq!(
            Plan::Prasasti.rate_limits(),
            RateLimits {
                per_minute: 120,
                per_day: 5_000,
                per_month: 5_000
            }
        );
        assert_eq!(Plan::Keraton.rate_limits(), Plan::Piagam.rate_limits());
        assert_eq!(Plan::Nusantara.rate_limits().limit(RateWindow::Minute), 600);
    }
}
