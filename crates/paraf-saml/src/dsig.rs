//! The SAML profile of XML-DSig (SAML core §5.4): an enveloped signature over the element
//! that holds it, one reference `#ID`, enveloped-signature + C14N transforms. Returns the
//! canonical bytes that were digested, for the caller to read the facts from.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::Decode as _;
use sha2::Digest as _;
use ua_cryptography_xml_c14n::{canonicalize, Algorithm};
use x509_cert::Certificate;

use crate::{b64, children, is, only_child, roxmltree, text_of, SamlError, NS_DSIG};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const NS_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

const RSA_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest_method(uri: &str) -> Result<Hash, SamlError> {
        match uri {
            "http://www.w3.org/2001/04/xmlenc#sha256" => Ok(Hash::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => Ok(Hash::Sha384),
            "http://www.w3.org/2001/04/xmlenc#sha512" => Ok(Hash::Sha512),
            "http://www.w3.org/2000/09/xmldsig#sha1" => Err(SamlError::BadSignature(
                "the reference is digested with SHA-1, which is refused: configure the identity provider for SHA-256".into(),
            )),
            other => Err(SamlError::BadSignature(format!(
                "unsupported DigestMethod {other}"
            ))),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    Ec,
}

fn signature_method(uri: &str) -> Result<(KeyKind, Hash), SamlError> {
    const MORE: &str = "http://www.w3.org/2001/04/xmldsig-more#";
    let Some(name) = uri.strip_prefix(MORE) else {
        if uri == "http://www.w3.org/2000/09/xmldsig#rsa-sha1" {
            return Err(SamlError::BadSignature(
                "the response is signed with RSA-SHA1, which is refused: configure the identity provider for RSA-SHA256".into(),
            ));
        }
        return Err(SamlError::BadSignature(format!(
            "unsupported SignatureMethod {uri}"
        )));
    };
    match name {
        "rsa-sha256" => Ok((KeyKind::Rsa, Hash::Sha256)),
        "rsa-sha384" => Ok((KeyKind::Rsa, Hash::Sha384)),
        "rsa-sha512" => Ok((KeyKind::Rsa, Hash::Sha512)),
        "ecdsa-sha256" => Ok((KeyKind::Ec, Hash::Sha256)),
        "ecdsa-sha384" => Ok((KeyKind::Ec, Hash::Sha384)),
        "ecdsa-sha512" => Ok((KeyKind::Ec, Hash::Sha512)),
        _ => Err(SamlError::BadSignature(format!(
            "unsupported SignatureMethod {uri}"
        ))),
    }
}

/// The canonicalization an element names in `Algorithm`, with its InclusiveNamespaces list.
fn c14n_of(n: Node<'_, '_>) -> Result<Option<(Algorithm, Vec<String>)>, SamlError> {
    let uri = n.attribute("Algorithm").unwrap_or_default();
    let Some(alg) = Algorithm::from_uri(uri) else {
        return Ok(None);
    };
    let prefixes = children(n, NS_EXC_C14N, "InclusiveNamespaces")
        .filter_map(|i| i.attribute("PrefixList"))
        .flat_map(|l| l.split_ascii_whitespace().map(str::to_string))
        .collect();
    Ok(Some((alg, prefixes)))
}

fn required<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> Result<Node<'a, 'i>, SamlError> {
    only_child(n, NS_DSIG, name)?
        .ok_or_else(|| SamlError::BadSignature(format!("the signature has no {name}")))
}

/// Verifies `signature`, a direct child of `signed`, against one of `certificates`; returns
/// the canonical form of `signed` (the signature left out) that its reference digests.
pub(crate) fn verify_enveloped(
    signed: Node<'_, '_>,
    signature: Node<'_, '_>,
    certificates: &[Vec<u8>],
) -> Result<Vec<u8>, SamlError> {
    let what = signed.tag_name().name();
    let id = signed
        .attribute("ID")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SamlError::BadSignature(format!("the signed {what} has no ID")))?;
    // The ID must name one element only, or the reference could point elsewhere.
    let same_id = signed
        .document()
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.attributes().any(|a| {
                    a.value() == id && matches!(a.name(), "ID" | "Id" | "id" | "AssertionID")
                })
        })
        .count();
    if same_id != 1 {
        return Err(SamlError::BadSignature(format!(
            "the ID {id} is carried by {same_id} elements"
        )));
    }

    let signed_info = required(signature, "SignedInfo")?;
    let (si_c14n, si_prefixes) = c14n_of(required(signed_info, "CanonicalizationMethod")?)?
        .ok_or_else(|| SamlError::BadSignature("unsupported CanonicalizationMethod".into()))?;
    let sig_method = required(signed_info, "SignatureMethod")?
        .attribute("Algorithm")
        .unwrap_or_default();
    let (kind, hash) = signature_method(sig_method)?;
    let mut references = children(signed_info, NS_DSIG, "Reference");
    let reference = references
        .next()
        .ok_or_else(|| SamlError::BadSignature("the signature has no Reference".into()))?;
    if references.next().is_some() {
        return Err(SamlError::BadSignature(
            "the signature has more than one Reference".into(),
        ));
    }
    let uri = reference.attribute("URI").unwrap_or_default();
    if uri.strip_prefix('#') != Some(id) {
        return Err(SamlError::BadSignature(format!(
            "the signature's Reference is {uri:?}, not the signed {what} (#{id})"
        )));
    }

    // Transforms: enveloped-signature (required: the signature is inside what it signs) and at
    // most one C14N. A bare-name reference drops comments whatever the C14N says.
    let mut enveloped = false;
    let mut c14n: Option<(Algorithm, Vec<String>)> = None;
    if let Some(ts) = only_child(reference, NS_DSIG, "Transforms")? {
        for t in children(ts, NS_DSIG, "Transform") {
            let alg = t.attribute("Algorithm").unwrap_or_default();
            if alg == ENVELOPED && !enveloped {
                enveloped = true;
            } else if let (Some(found), None) = (c14n_of(t)?, &c14n) {
                c14n = Some(found);
            } else {
                return Err(SamlError::BadSignature(format!(
                    "the transform {alg} is not accepted (only enveloped-signature and one C14N)"
                )));
            }
        }
    }
    if !enveloped {
        return Err(SamlError::BadSignature(
            "the Reference lacks the enveloped-signature transform".into(),
        ));
    }
    let (ref_alg, ref_prefixes) = c14n.unwrap_or((Algorithm::Inclusive, Vec::new()));
    let ref_alg = match ref_alg {
        Algorithm::InclusiveWithComments => Algorithm::Inclusive,
        Algorithm::ExclusiveWithComments => Algorithm::Exclusive,
        a => a,
    };
    let digest_hash = Hash::digest_method(
        required(reference, "DigestMethod")?
            .attribute("Algorithm")
            .unwrap_or_default(),
    )?;
    let expected = b64(&text_of(required(reference, "DigestValue")?), "DigestValue")?;

    // The signature over SignedInfo first (small), so a response no key of the IdP signed
    // costs no canonicalization of its (larger) signed element. A certificate of the
    // metadata that cannot be read is skipped.
    let si_prefixes: Vec<&str> = si_prefixes.iter().map(String::as_str).collect();
    let signed_bytes = canonicalize(signed_info, si_c14n, &si_prefixes, None);
    let value = b64(
        &text_of(required(signature, "SignatureValue")?),
        "SignatureValue",
    )?;
    if !certificates
        .iter()
        .any(|der| matches!(verifies(der, kind, hash, &signed_bytes, &value), Ok(true)))
    {
        return Err(SamlError::BadSignature(
            "the signature was not made by the identity provider's key (metadata certificates)"
                .into(),
        ));
    }

    let prefixes: Vec<&str> = ref_prefixes.iter().map(String::as_str).collect();
    let canonical = canonicalize(signed, ref_alg, &prefixes, Some(signature));
    if verify_slices_are_equal(&digest_hash.digest(&canonical), &expected).is_err() {
        return Err(SamlError::BadSignature(format!(
            "the signed {what} was changed after it was signed (digest mismatch)"
        )));
    }
    Ok(canonical)
}

fn verifies(
    der: &[u8],
    kind: KeyKind,
    hash: Hash,
    message: &[u8],
    value: &[u8],
) -> Result<bool, SamlError> {
    let cert = Certificate::from_der(der)
        .map_err(|e| SamlError::Malformed(format!("a metadata certificate: {e}")))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let key = spki.subject_public_key.raw_bytes();
    let alg: &'static dyn VerificationAlgorithm = match (kind, spki.algorithm.oid) {
        (KeyKind::Rsa, oid) if oid == RSA_KEY => match hash {
            Hash::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        },
        (KeyKind::Ec, oid) if oid == EC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match (curve, hash) {
                (Some(c), Hash::Sha256) if c == P256 => &sig::ECDSA_P256_SHA256_FIXED,
                (Some(c), Hash::Sha384) if c == P384 => &sig::ECDSA_P384_SHA384_FIXED,
                (Some(c), Hash::Sha512) if c == P521 => &sig::ECDSA_P521_SHA512_FIXED,
                _ => return Ok(false),
            }
        }
        // This certificate's key is of another kind than the signature method.
        _ => return Ok(false),
    };
    Ok(UnparsedPublicKey::new(alg, key)
        .verify(message, value)
        .is_ok())
}

/// `true` for a `ds:Signature` element.
pub(crate) fn is_signature(n: Node<'_, '_>) -> bool {
    is(n, NS_DSIG, "Signature")
}
