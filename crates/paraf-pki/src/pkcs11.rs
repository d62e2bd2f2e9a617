//! Keys on PKCS#11 tokens (HSMs, smart cards, SoftHSM): [`Pkcs11Signer`], and helpers to create
//! a key pair on a token and read its public key so the CA can certify it
//! ([`generate_key_pair`], [`public_key_spki`]).
//!
//! Mechanisms: RSA keys sign with `CKM_SHA{256,384,512}_RSA_PKCS` (the token hashes);
//! EC keys sign the hash with `CKM_ECDSA`, and the token's raw `r || s` is re-encoded as the
//! DER `Ecdsa-Sig-Value` CMS expects.
//!
//! A module is loaded and `C_Initialize`d once per process and kept loaded (PKCS#11 allows one
//! initialisation per process; finalising while another user holds a session would break it).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::asn1::{BitString, Null, ObjectIdentifier, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

use crate::digest::DigestAlg;
use crate::error::{decode_err, encode_err, PkiError, PkiErrorKind, Result};
use crate::key::{
    public_key_kind, to_der, verify_with_scheme, KeyType, PublicKeyKind, SignatureScheme,
};
use crate::oids;
use crate::signer::Signer;
use crate::x509::spki_der;

fn ck(what: &'static str) -> impl FnOnce(CkError) -> PkiError {
    move |e| {
        let kind = match &e {
            CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            ) => PkiErrorKind::BadPassword,
            CkError::LibraryLoading(_) => PkiErrorKind::NotFound,
            _ => PkiErrorKind::Token,
        };
        PkiError::new(kind, format!("PKCS#11 {what}: {e}")).with_source(e)
    }
}

static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();

/// The process-wide context for `module`, loading and initialising it on first use.
fn context(module: &Path) -> Result<Pkcs11> {
    let lock = CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = lock
        .lock()
        .map_err(|_| PkiError::new(PkiErrorKind::Token, "PKCS#11 context registry poisoned"))?;
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    if !module.exists() {
        return Err(PkiError::new(
            PkiErrorKind::NotFound,
            format!("PKCS#11 module {} does not exist", module.display()),
        ));
    }
    let ctx = Pkcs11::new(module).map_err(ck("loading the module"))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ck("C_Initialize")(e)),
    }
    map.insert(module.to_path_buf(), ctx.clone());
    Ok(ctx)
}

/// Opens a logged-in user session on the token labelled `token_label`.
fn login(module: &Path, token_label: &str, pin: &str, read_write: bool) -> Result<Session> {
    let ctx = context(module)?;
    let mut found = None;
    for slot in ctx.get_slots_with_token().map_err(ck("C_GetSlotList"))? {
        let info = ctx.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        if info.label().trim_end() == token_label {
            found = Some(slot);
            break;
        }
    }
    let slot = found.ok_or_else(|| {
        PkiError::new(
            PkiErrorKind::NotFound,
            format!("no token labelled {token_label:?} in {}", module.display()),
        )
    })?;
    let session = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .map_err(ck("C_OpenSession"))?;
    match session.login(UserType::User, Some(&AuthPin::from(pin))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(ck("C_Login")(e)),
    }
}

fn find_one(session: &Session, class: ObjectClass, label: &str) -> Result<ObjectHandle> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(ck("C_FindObjects"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(PkiError::new(
            PkiErrorKind::NotFound,
            format!("no {class} labelled {label:?} on the token"),
        )),
        _ => Err(PkiError::invalid(format!(
            "{} objects of class {class} are labelled {label:?}",
            found.len()
        ))),
    }
}

#[derive(Sequence)]
struct RsaPublicKey {
    modulus: Uint,
    public_exponent: Uint,
}

#[derive(Sequence)]
struct EcdsaSigValue {
    r: Uint,
    s: Uint,
}

/// Builds the `SubjectPublicKeyInfo` of a public-key object.
fn spki_of(session: &Session, handle: ObjectHandle) -> Result<Vec<u8>> {
    let attrs = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )
        .map_err(ck("C_GetAttributeValue"))?;
    let mut key_type = None;
    let (mut n, mut e, mut params, mut point) = (None, None, None, None);
    for a in attrs {
        match a {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    let spki = if key_type == Some(CkKeyType::RSA) {
        let (Some(n), Some(e)) = (n, e) else {
            return Err(PkiError::new(
                PkiErrorKind::Token,
                "RSA public key without modulus or exponent",
            ));
        };
        let rsa = RsaPublicKey {
            modulus: Uint::new(&n).map_err(encode_err("RSA modulus"))?,
            public_exponent: Uint::new(&e).map_err(encode_err("RSA exponent"))?,
        };
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(Any::from(Null)),
            },
            subject_public_key: BitString::from_bytes(&to_der(&rsa, "RSAPublicKey")?)
                .map_err(encode_err("public key"))?,
        }
    } else if key_type == Some(CkKeyType::EC) {
        let (Some(params), Some(point)) = (params, point) else {
            return Err(PkiError::new(
                PkiErrorKind::Token,
                "EC public key without parameters or point",
            ));
        };
        let curve = ObjectIdentifier::from_der(&params)
            .map_err(decode_err("CKA_EC_PARAMS (named curve expected)"))?;
        // CKA_EC_POINT is a DER OCTET STRING around the point; some modules give the bare point.
        let raw = OctetString::from_der(&point)
            .map(|o| o.into_bytes())
            .unwrap_or(point);
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oids::EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&curve).map_err(encode_err("curve"))?),
            },
            subject_public_key: BitString::from_bytes(&raw).map_err(encode_err("public key"))?,
        }
    } else {
        return Err(PkiError::unsupported(format!(
            "token key type {key_type:?} (RSA and EC are supported)"
        )));
    };
    let der = to_der(&spki, "SubjectPublicKeyInfo")?;
    public_key_kind(&der)?;
    Ok(der)
}

/// The `SubjectPublicKeyInfo` DER of the public key labelled `key_label` on the token.
pub fn public_key_spki(
    module: &Path,
    token_label: &str,
    pin: &str,
    key_label: &str,
) -> Result<Vec<u8>> {
    let session = login(module, token_label, pin, false)?;
    let handle = find_one(&session, ObjectClass::PUBLIC_KEY, key_label)?;
    spki_of(&session, handle)
}

/// Generates a persistent key pair labelled `key_label` (private key sensitive and not
/// extractable) on the token and returns its `SubjectPublicKeyInfo` DER.
pub fn generate_key_pair(
    module: &Path,
    token_label: &str,
    pin: &str,
    key_label: &str,
    key_type: KeyType,
) -> Result<Vec<u8>> {
    let session = login(module, token_label, pin, true)?;
    let label = Attribute::Label(key_label.as_bytes().to_vec());
    let id = Attribute::Id(key_label.as_bytes().to_vec());
    let private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        label.clone(),
        id.clone(),
    ];
    let (mechanism, public) = match key_type {
        KeyType::Rsa2048 | KeyType::Rsa3072 => {
            let bits: u64 = if key_type == KeyType::Rsa2048 {
                2048
            } else {
                3072
            };
            (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::Token(true),
                    Attribute::Verify(true),
                    Attribute::ModulusBits(bits.into()),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    label,
                    id,
                ],
            )
        }
        KeyType::P256 | KeyType::P384 => {
            let curve = if key_type == KeyType::P256 {
                oids::SECP256R1
            } else {
                oids::SECP384R1
            };
            (
                Mechanism::EccKeyPairGen,
                vec![
                    Attribute::Token(true),
                    Attribute::Verify(true),
                    Attribute::EcParams(curve.to_der().map_err(encode_err("curve"))?),
                    label,
                    id,
                ],
            )
        }
    };
    let (pub_handle, _) = session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(ck("C_GenerateKeyPair"))?;
    spki_of(&session, pub_handle)
}

/// A [`Signer`] whose private key stays on a PKCS#11 token.
pub struct Pkcs11Signer {
    session: Mutex<Session>,
    key: ObjectHandle,
    cert: Certificate,
    chain: Vec<Certificate>,
    scheme: SignatureScheme,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Logs into the token `token_label` of `module` with `pin` and finds the private key
    /// labelled `key_label`. The scheme follows the certificate's key: RSA PKCS#1 v1.5 with
    /// SHA-256, ECDSA with SHA-256 (P-256) or SHA-384 (P-384). A test signature checked against
    /// `cert` makes sure the key and the certificate belong together.
    pub fn open(
        module_path: &Path,
        token_label: &str,
        pin: &str,
        key_label: &str,
        cert: Certificate,
        chain: Vec<Certificate>,
    ) -> Result<Self> {
        let scheme = match public_key_kind(&spki_der(&cert)?)? {
            PublicKeyKind::Rsa => SignatureScheme::RsaPkcs1v15(DigestAlg::Sha256),
            PublicKeyKind::P256 => SignatureScheme::Ecdsa(DigestAlg::Sha256),
            PublicKeyKind::P384 => SignatureScheme::Ecdsa(DigestAlg::Sha384),
        };
        let session = login(module_path, token_label, pin, false)?;
        let key = find_one(&session, ObjectClass::PRIVATE_KEY, key_label)?;
        let signer = Pkcs11Signer {
            session: Mutex::new(session),
            key,
            cert,
            chain,
            scheme,
        };
        let probe = b"paraf: does this token key match the certificate?";
        let sig = signer.sign(probe)?;
        verify_with_scheme(&spki_der(&signer.cert)?, scheme, probe, &sig).map_err(|_| {
            PkiError::invalid(format!(
                "the token key {key_label:?} does not belong to the given certificate"
            ))
        })?;
        Ok(signer)
    }
}

impl Signer for Pkcs11Signer {
    fn certificate(&self) -> &Certificate {
        &self.cert
    }

    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let session = self
            .session
            .lock()
            .map_err(|_| PkiError::new(PkiErrorKind::Token, "PKCS#11 session lock poisoned"))?;
        match self.scheme {
            SignatureScheme::RsaPkcs1v15(d) => {
                let mech = match d {
                    DigestAlg::Sha256 => Mechanism::Sha256RsaPkcs,
                    DigestAlg::Sha384 => Mechanism::Sha384RsaPkcs,
                    DigestAlg::Sha512 => Mechanism::Sha512RsaPkcs,
                };
                session.sign(&mech, self.key, message).map_err(ck("C_Sign"))
            }
            SignatureScheme::Ecdsa(d) => {
                let raw = session
                    .sign(&Mechanism::Ecdsa, self.key, &d.digest(message))
                    .map_err(ck("C_Sign"))?;
                if raw.is_empty() || raw.len() % 2 != 0 {
                    return Err(PkiError::new(
                        PkiErrorKind::Token,
                        format!("CKM_ECDSA returned {} bytes", raw.len()),
                    ));
                }
                let (r, s) = raw.split_at(raw.len() / 2);
                let sig = EcdsaSigValue {
                    r: Uint::new(r).map_err(encode_err("ECDSA r"))?,
                    s: Uint::new(s).map_err(encode_err("ECDSA s"))?,
                };
                to_der(&sig, "Ecdsa-Sig-Value")
            }
            SignatureScheme::RsaPss(_) => Err(PkiError::unsupported("RSA-PSS on PKCS#11 tokens")),
        }
    }
}
