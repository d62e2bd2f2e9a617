//! SAML 2.0 Web Browser SSO for a service provider, the part Paraf needs: read an identity
//! provider's metadata ([`parse_metadata`]) and accept or refuse a `samlp:Response` it sent
//! ([`verify_response`]).
//!
//! Why written here: the established SAML crate (`samael`) verifies signatures only through
//! the C libraries libxmlsec1 and OpenSSL, which a fresh machine does not have (the README's
//! first command must build anywhere); the pure-Rust SAML stacks (`gamlastan`/`bergshamra`,
//! `risaml`, `xml-sec`) bring 50 to 70 further crates of cryptography (post-quantum, Ed448,
//! …) that measured close to ten minutes of extra build on CI's two cores. What SAML needs of
//! XML-DSig is narrow, so we take a well-kept canonicalizer (`ua-cryptography-xml-c14n`, over
//! `roxmltree`, DTDs refused) and the workspace's `aws-lc-rs`, and verify only the SAML
//! profile of XML-DSig (SAML core §5, saml-bindings):
//!
//! - one `ds:Signature`, a direct child of the `Response` or of the one `Assertion`, with one
//!   `Reference` whose URI is `#` + that element's `ID` (unique in the document);
//! - transforms: enveloped-signature and (exclusive) C14N 1.0 only — no XPath, no XSLT;
//! - RSA PKCS#1 v1.5 or ECDSA with SHA-256/384/512 (SHA-1 refused), by a certificate of the
//!   configured metadata (the signature's own `KeyInfo` is never trusted);
//! - **what is read is what was hashed**: after the digest matches, the facts (issuer,
//!   subject, conditions, attributes) are read from the canonical bytes that were digested,
//!   parsed anew, never from the received tree — signature-wrapping attacks have nothing to
//!   hide behind, and a canonicalization quirk can only refuse a response, not forge one.
//!
//! Synchronous, no I/O, no clock: "now" is a parameter.

#![forbid(unsafe_code)]

mod dsig;
mod metadata;
mod response;

pub use metadata::{parse_metadata, IdentityProvider};
pub use response::{verify_response, Expectations, VerifiedAssertion};

/// Why a metadata document or a response was refused. `Display` is a sentence for the caller
/// (no secret is ever in it).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SamlError {
    /// Not XML, not base64, a DTD, too deep, or not the expected element.
    #[error("{0}")]
    Malformed(String),
    /// No signature where one is required.
    #[error("{0}")]
    Unsigned(String),
    /// The signature does not verify (digest, value, key, algorithm, structure).
    #[error("{0}")]
    BadSignature(String),
    /// Signed, but not for us or not now: audience, recipient, destination, issuer, time.
    #[error("{0}")]
    Refused(String),
    /// The identity provider answered with a non-success status.
    #[error("{0}")]
    Status(String),
}

impl SamlError {
    /// A short stable name of the kind (for logs and audit records).
    pub fn kind(&self) -> &'static str {
        match self {
            SamlError::Malformed(_) => "malformed",
            SamlError::Unsigned(_) => "unsigned",
            SamlError::BadSignature(_) => "bad_signature",
            SamlError::Refused(_) => "refused",
            SamlError::Status(_) => "status",
        }
    }
}

/// The SAML 2.0 assertion namespace.
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 protocol namespace.
pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 metadata namespace.
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The XML-DSig namespace.
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Parses XML safely (no DTD, bounded depth); the text is kept for the caller to borrow.
pub(crate) fn xml_text(
    bytes: &[u8],
    what: &str,
) -> Result<ua_cryptography_xml_c14n::DocumentText, SamlError> {
    ua_cryptography_xml_c14n::DocumentText::decode(bytes)
        .map_err(|e| SamlError::Malformed(format!("{what} is not XML: {e}")))
}

/// `true` when `n` is the element `ns:name`.
pub(crate) fn is(n: roxmltree::Node<'_, '_>, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
}

/// The element children of `n` named `ns:name`.
pub(crate) fn children<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children().filter(move |c| is(*c, ns, name))
}

/// The one child `ns:name` of `n`, if there is exactly one.
pub(crate) fn only_child<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> Result<Option<roxmltree::Node<'a, 'i>>, SamlError> {
    let mut it = children(n, ns, name);
    let first = it.next();
    if it.next().is_some() {
        return Err(SamlError::Malformed(format!(
            "{} holds more than one {name}",
            n.tag_name().name()
        )));
    }
    Ok(first)
}

/// The text of an element, trimmed.
pub(crate) fn text_of(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Decodes base64 that may be folded over lines.
pub(crate) fn b64(text: &str, what: &str) -> Result<Vec<u8>, SamlError> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| SamlError::Malformed(format!("{what} is not base64")))
}

/// Re-exported parser types, so callers and tests name the same ones.
pub(crate) use ua_cryptography_xml_c14n::roxmltree;
