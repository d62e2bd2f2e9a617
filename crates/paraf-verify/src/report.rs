//! The [`ValidationReport`]: what the validator found, per signature and for the document, with
//! ETSI EN 319 102-1 indications. Serialisable (serde) so every interface can hand it out as is
//! or map it to its own shape.

use serde::{Deserialize, Serialize};

/// The main status indication of ETSI EN 319 102-1 §5.1.3, plus `NO_SIGNATURE` for a document
/// without any signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    Indeterminate,
    TotalFailed,
    NoSignature,
}

impl Indication {
    /// The ETSI spelling (`TOTAL_PASSED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL_PASSED",
            Indication::Indeterminate => "INDETERMINATE",
            Indication::TotalFailed => "TOTAL_FAILED",
            Indication::NoSignature => "NO_SIGNATURE",
        }
    }
}

impl std::fmt::Display for Indication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sub-indications of ETSI EN 319 102-1 §5.1.3 (the subset this validator can conclude).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    // TOTAL_FAILED
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    // INDETERMINATE
    SigConstraintsFailure,
    ChainConstraintsFailure,
    CryptoConstraintsFailureNoPoe,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    RevokedNoPoe,
    RevokedCaNoPoe,
    OutOfBoundsNoPoe,
    OutOfBoundsNotRevoked,
    NotYetValid,
    TryLater,
    TimestampOrderFailure,
    SignedDataNotFound,
    GenericError,
}

impl SubIndication {
    /// The ETSI spelling (`HASH_FAILURE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::CryptoConstraintsFailureNoPoe => "CRYPTO_CONSTRAINTS_FAILURE_NO_POE",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::RevokedNoPoe => "REVOKED_NO_POE",
            SubIndication::RevokedCaNoPoe => "REVOKED_CA_NO_POE",
            SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            SubIndication::OutOfBoundsNotRevoked => "OUT_OF_BOUNDS_NOT_REVOKED",
            SubIndication::NotYetValid => "NOT_YET_VALID",
            SubIndication::TryLater => "TRY_LATER",
            SubIndication::TimestampOrderFailure => "TIMESTAMP_ORDER_FAILURE",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::GenericError => "GENERIC",
        }
    }

    /// Whether this is about trust or cryptographic age (chain, validity, revocation data not
    /// available yet), not about the signed bytes: what a file from a foreign test PKI gets
    /// even when it is intact.
    pub fn is_trust_only(self) -> bool {
        use SubIndication as S;
        matches!(
            self,
            S::NoCertificateChainFound
                | S::ChainConstraintsFailure
                | S::CryptoConstraintsFailureNoPoe
                | S::OutOfBoundsNoPoe
                | S::OutOfBoundsNotRevoked
                | S::NotYetValid
                | S::TryLater
                | S::RevokedNoPoe
                | S::RevokedCaNoPoe
        )
    }

    /// The main indication this sub-indication belongs to (ETSI EN 319 102-1 table 5).
    pub fn indication(self) -> Indication {
        match self {
            SubIndication::FormatFailure
            | SubIndication::HashFailure
            | SubIndication::SigCryptoFailure
            | SubIndication::Revoked => Indication::TotalFailed,
            _ => Indication::Indeterminate,
        }
    }
}

impl std::fmt::Display for SubIndication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a signature did not pass, in the order checks ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub indication: Indication,
    pub sub_indication: SubIndication,
    pub message: String,
}

impl Problem {
    pub fn new(sub: SubIndication, message: impl Into<String>) -> Self {
        Problem {
            indication: sub.indication(),
            sub_indication: sub,
            message: message.into(),
        }
    }
}

/// The whole result of validating one file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Worst indication over all signatures, or `NO_SIGNATURE`.
    pub indication: Indication,
    /// The sub-indication of the signature that decided `indication`.
    pub sub_indication: Option<SubIndication>,
    /// RFC 3339 UTC time the validation was made at (passed in by the caller).
    pub validation_time: String,
    pub document: DocumentInfo,
    /// Signatures and document timestamps, in the order they were applied (oldest first).
    pub signatures: Vec<SignatureReport>,
    /// Findings about the document as a whole (orphan signature dictionaries, damaged xref...).
    pub findings: Vec<String>,
}

impl ValidationReport {
    /// The report as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Reads a report back from JSON.
    pub fn from_json(s: &str) -> Result<Self, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    /// Number of signatures (document timestamps included) with `TOTAL_PASSED`.
    pub fn passed(&self) -> usize {
        self.signatures
            .iter()
            .filter(|s| s.indication == Indication::TotalPassed)
            .count()
    }
}

/// Facts about the file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub size: usize,
    /// SHA-256 of the whole file, hex.
    pub sha256: Option<String>,
    /// Number of revisions (the original plus each incremental update).
    pub revisions: usize,
    pub pages: Option<usize>,
    pub encrypted: bool,
    /// The cross-reference data was unusable and rebuilt by scanning: revisions cannot be told apart.
    pub xref_recovered: bool,
    /// DocMDP permission of the certification signature, if the document is certified.
    pub docmdp: Option<u8>,
}

/// What kind of signature dictionary this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// An approval or certification signature (`/Type /Sig`).
    Signature,
    /// A document timestamp (`/Type /DocTimeStamp`, `ETSI.RFC3161`).
    DocumentTimestamp,
}

/// Everything about one signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignatureReport {
    /// 1-based position in the order signatures were applied.
    pub index: usize,
    pub kind: SignatureKind,
    pub field_name: Option<String>,
    /// Object number of the signature dictionary.
    pub object: Option<u32>,
    pub sub_filter: Option<String>,
    /// PAdES baseline level reached: `B-B`, `B-T`, `B-LT`, `B-LTA` (none for timestamps).
    pub level: Option<String>,
    /// BSrE-style format name: `PKCS7-B`, `PKCS7-T`, `PKCS7-LT`, `PKCS7-LTA`.
    pub signature_format: Option<String>,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    /// Every reason it did not pass, in check order; the first of the worst class decides.
    pub problems: Vec<Problem>,
    /// Things worth knowing that do not change the conclusion.
    pub warnings: Vec<String>,
    /// `/Name` of the signature dictionary.
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// Signing time as claimed by the signer (`/M` or the signing-time attribute), RFC 3339.
    pub claimed_signing_time: Option<String>,
    /// DocMDP level when this is a certification signature.
    pub docmdp: Option<u8>,
    /// 1-based revision this signature signs (the revision that ends where its ByteRange ends).
    pub revision: Option<usize>,
    /// Whether the signature covers the whole file (it is the last revision).
    pub covers_whole_file: bool,
    pub byte_range: Option<Vec<i64>>,
    pub signer: Option<CertificateInfo>,
    pub timestamp: Option<TimestampReport>,
    pub integrity: IntegrityReport,
    pub modifications: ModificationReport,
    pub trust: TrustReport,
}

/// Certificate details for display.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub common_name: Option<String>,
    pub issuer: String,
    /// Hex, no leading zero bytes.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub public_key_algorithm: String,
    pub signature_algorithm: String,
    /// SHA-256 of the certificate DER, hex (pyHanko prints this one).
    pub sha256: String,
}

/// The bytes and the cryptography of a signature.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IntegrityReport {
    /// `/ByteRange` is `[0 a b c]` around this dictionary's own `/Contents` and ends at a
    /// revision end.
    pub byte_range_ok: bool,
    /// The digest of the covered bytes matches (message-digest attribute or imprint).
    pub digest_ok: bool,
    /// The CMS signature value verifies with the signer's key.
    pub signature_ok: bool,
    /// Signed attributes present and consistent (content-type, message-digest, signing certificate).
    pub signed_attributes_ok: bool,
    pub digest_algorithm: Option<String>,
    pub signature_algorithm: Option<String>,
}

impl IntegrityReport {
    /// Intact: the signed bytes are the ones that were signed, by that key.
    pub fn intact(&self) -> bool {
        self.byte_range_ok && self.digest_ok && self.signature_ok && self.signed_attributes_ok
    }
}

/// What changed after the signature, following pyHanko's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModificationLevel {
    /// Nothing was appended.
    None,
    /// Only DSS and document timestamps (and metadata).
    LtaUpdates,
    /// Also new signatures and filled fields.
    FormFilling,
    /// Also annotations.
    Annotations,
    /// Something that no rule allows.
    Other,
}

/// Modification analysis of the revisions after a signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModificationReport {
    pub level: ModificationLevel,
    /// Revisions appended after the signed one.
    pub later_revisions: usize,
    /// Changes no rule allows: each names the object and what changed.
    pub illegal: Vec<Change>,
    /// Changes that were allowed, for the record.
    pub allowed: Vec<Change>,
    /// What the pages show differently from the signed revision, beyond what later signature
    /// appearances and filled fields explain (render comparison; empty when not compared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visible_changes: Vec<VisibleChange>,
}

/// A visible difference between a signed revision and the final file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisibleChange {
    /// 1-based page.
    pub page: usize,
    /// The changed region `[x0, y0, x1, y1]` in points from the displayed page's top-left
    /// corner (`None`: the whole page, e.g. its size or the page count changed).
    pub rect: Option<[f64; 4]>,
    /// Changed pixels (rendered at 36 dpi).
    pub pixels: usize,
    pub what: String,
}

impl Default for ModificationReport {
    fn default() -> Self {
        ModificationReport {
            level: ModificationLevel::None,
            later_revisions: 0,
            illegal: Vec::new(),
            allowed: Vec::new(),
            visible_changes: Vec::new(),
        }
    }
}

/// One change found in a later revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// 1-based revision the change was made in.
    pub revision: usize,
    /// Object number, when the change is about one object.
    pub object: Option<u32>,
    pub what: String,
}

/// Chain, revocation and time.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrustReport {
    /// The signer's chain as built, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// The chain ends at one of the configured trust anchors.
    pub trusted: bool,
    /// The time certificate validity and revocation were judged at (RFC 3339): the time of a
    /// trusted timestamp when there is one, else the validation time.
    pub validated_at: Option<String>,
    /// Whether `validated_at` is proven by a trusted timestamp.
    pub time_from_timestamp: bool,
    pub revocation: Vec<RevocationCheck>,
}

/// Revocation status of one certificate of a chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevocationCheck {
    pub subject: String,
    /// `good`, `revoked`, `unknown`, `not_checked`.
    pub status: String,
    /// `ocsp` or `crl`, and where it came from: `dss`, `cms`, `live`.
    pub source: Option<String>,
    pub revocation_time: Option<String>,
    pub reason: Option<String>,
    /// thisUpdate of the evidence used.
    pub this_update: Option<String>,
    /// What was checked and how, or why nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
}

/// A signature timestamp or the token of a document timestamp.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimestampReport {
    /// genTime, RFC 3339.
    pub time: String,
    pub tsa: Option<CertificateInfo>,
    /// The token's imprint matches and its CMS signature verifies.
    pub intact: bool,
    /// The TSA chain ends at a trust anchor (and passed its checks).
    pub trusted: bool,
    pub chain: Vec<CertificateInfo>,
    pub revocation: Vec<RevocationCheck>,
    pub problems: Vec<String>,
}
