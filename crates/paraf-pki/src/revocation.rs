//! Revocation data for long-term validation: the [`RevocationSource`] trait (OCSP responses and
//! CRLs for a certificate) and [`RevocationReason`].

use std::fmt;
use std::str::FromStr;

use x509_cert::ext::pkix::CrlReason;
use x509_cert::Certificate;

use crate::error::{PkiError, Result};

/// Where the signing engine gets revocation data to embed (PAdES B-LT): the built-in CA
/// answers itself; for foreign certificates an adapter fetches from the URLs in them.
pub trait RevocationSource: Send + Sync {
    /// A DER OCSPResponse about `cert` (issued by `issuer`), or `None` if no responder knows it.
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Result<Option<Vec<u8>>>;
    /// DER CRLs that cover `cert` (possibly none).
    fn crls(&self, cert: &Certificate) -> Result<Vec<Vec<u8>>>;
    /// The certificate that issued `cert` when it is not at hand (e.g. fetched from its AIA
    /// caIssuers URL), so that a DSS can hold complete chains. `None` by default.
    fn issuer(&self, _cert: &Certificate) -> Result<Option<Certificate>> {
        Ok(None)
    }
}

/// Why a certificate was revoked (RFC 5280 section 5.3.1 `CRLReason`, minus the
/// attribute-authority values this CA never uses). `CertificateHold` is a suspension: the only
/// reason that can be lifted ([`crate::ca::CertificateAuthority::release_hold`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The private key was compromised.
    KeyCompromise,
    /// The CA's key was compromised.
    CaCompromise,
    /// The subject's name or affiliation changed.
    AffiliationChanged,
    /// The certificate was replaced by another.
    Superseded,
    /// The certificate is no longer needed.
    CessationOfOperation,
    /// A privilege in the certificate was withdrawn.
    PrivilegeWithdrawn,
    /// Suspended: revoked until released (RFC 5280 `certificateHold`).
    CertificateHold,
}

impl RevocationReason {
    /// All reasons, in CRLReason code order.
    pub const ALL: [RevocationReason; 8] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::CertificateHold,
    ];

    /// The RFC 5280 name, e.g. `keyCompromise`.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            RevocationReason::CertificateHold => "certificateHold",
        }
    }

    /// The ASN.1 value.
    pub fn crl_reason(self) -> CrlReason {
        match self {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::CaCompromise => CrlReason::CaCompromise,
            RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
            RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
            RevocationReason::CertificateHold => CrlReason::CertificateHold,
        }
    }

    /// From the ASN.1 value (the AA reasons have no counterpart).
    pub fn from_crl_reason(r: CrlReason) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.crl_reason() == r)
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RevocationReason {
    type Err = PkiError;

    /// Accepts the RFC 5280 name in any case, with or without dashes or underscores.
    fn from_str(s: &str) -> Result<Self> {
        let norm = |x: &str| x.to_ascii_lowercase().replace(['-', '_'], "");
        Self::ALL
            .into_iter()
            .find(|r| norm(r.name()) == norm(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.name()).collect();
                PkiError::invalid(format!(
                    "unknown revocation reason {s:?} (one of {})",
                    names.join(", ")
                ))
            })
    }
}
