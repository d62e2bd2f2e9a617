//! The standard security handler (ISO 32000-2 §7.6.4): opening encrypted PDFs and encrypting the
//! objects we append to them in an incremental update.
//!
//! Supported: `/V 1` and `/V 2` with `/R 2` or `/R 3` (RC4, 40 to 128-bit keys); `/V 4 /R 4` with
//! crypt filters (`/CFM /V2` = RC4, `/AESV2` = AES-128-CBC, `/None` = identity); `/V 5` with
//! `/R 5` (Adobe extension level 3, SHA-256 key check) and `/R 6` (ISO 32000-2, the hardened hash
//! of algorithm 2.B), `/AESV3` = AES-256-CBC. Other security handlers (public-key `/Adobe.PubSec`,
//! vendor handlers) and other `/V`/`/R` combinations fail with [`ErrorKind::Unsupported`].
//!
//! What is *not* encrypted, by the standard: the `/Encrypt` dictionary, the trailer `/ID`,
//! cross-reference streams, the objects inside an object stream (the object stream as a whole is),
//! and the `/Contents` string of a signature dictionary. The first four are the caller's job:
//! do not pass those objects here. The last one is handled by [`SecurityHandler::decrypt_object`]
//! and [`SecurityHandler::encrypt_object`]: any dictionary with a `/ByteRange` keeps its
//! `/Contents` as is.
//!
//! Tolerance: like PDF readers, AES decryption does not fail on damaged data. Data shorter than
//! the 16-byte IV decrypts to nothing, a trailing partial block is ignored, and when the PKCS#5
//! padding is invalid the decrypted bytes are returned without removing any padding.
//!
//! Passwords are bytes. For `/R 2`–`/R 4` the caller passes PDFDocEncoding (Latin-1 for most
//! characters); for `/R 5`–`/R 6` UTF-8, which ISO 32000-2 wants normalised with SASLprep
//! (RFC 4013) first — we do not apply SASLprep, which only matters for non-ASCII passwords with
//! unusual characters. Passwords are truncated to 32 (`/R 2`–`/R 4`) and 127 bytes (`/R 5`–`/R 6`).
//!
//! RC4 and CBC mode are written out here (each a dozen lines) on top of the RustCrypto `aes`
//! block cipher, `md-5` and `sha2`: it keeps the dependencies small and lets us choose how
//! damaged data is treated.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use md5::{Digest, Md5};
use sha2::{Sha256, Sha384, Sha512};

use crate::error::{ErrorKind, PdfError, Result};
use crate::object::{Dict, ObjRef, Object};

/// The padding string of algorithm 2 (§7.6.4.3.2), also used to pad passwords.
const PAD: [u8; 32] = [
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
];

/// How strings or streams are encrypted (a crypt filter's `/CFM`, or implied by `/V`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptMethod {
    /// Not encrypted (`/Identity`, `/CFM /None`).
    Identity,
    /// RC4 with a per-object key (`/V 1`, `/V 2`, `/CFM /V2`).
    Rc4,
    /// AES-128-CBC with a per-object key (`/CFM /AESV2`).
    Aes128,
    /// AES-256-CBC with the file key (`/CFM /AESV3`).
    Aes256,
}

/// An opened standard security handler: the file encryption key and how to apply it.
///
/// Encrypting with AES needs random IVs. They come from a SHA-256-based generator seeded from the
/// operating system on first use; [`SecurityHandler::with_iv_seed`] injects the seed instead, for
/// reproducible output in tests.
pub struct SecurityHandler {
    revision: u8,
    version: u8,
    /// The file encryption key: 5–16 bytes for `/R 2`–`/R 4`, 32 bytes for `/R 5`–`/R 6`.
    key: Vec<u8>,
    strings: CryptMethod,
    streams: CryptMethod,
    /// The crypt filters of `/CF`, by name, for streams that name their own (`/Filter /Crypt`).
    filters: Vec<(Vec<u8>, CryptMethod)>,
    encrypt_metadata: bool,
    permissions: i32,
    owner: bool,
    iv_seed: OnceLock<[u8; 32]>,
    iv_counter: AtomicU64,
}

impl fmt::Debug for SecurityHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHandler")
            .field("version", &self.version)
            .field("revision", &self.revision)
            .field("key_bits", &(self.key.len() * 8))
            .field("strings", &self.strings)
            .field("streams", &self.streams)
            .field("encrypt_metadata", &self.encrypt_metadata)
            .field("permissions", &self.permissions)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// The values of an `/Encrypt` dictionary that the key algorithms need.
struct Params<'a> {
    revision: u8,
    o: &'a [u8],
    u: &'a [u8],
    p: i32,
    id0: &'a [u8],
    key_len: usize,
    encrypt_metadata: bool,
}

impl SecurityHandler {
    /// Opens an /Encrypt dictionary with a password (tried as user password, then as owner password).
    ///
    /// `id0` is the first element of the trailer /ID. Empty password is the common case
    /// (permissions-only files). A password that is both the user and the owner password opens
    /// the file as user ([`Self::opened_as_owner`] is false).
    ///
    /// Errors: a wrong password is [`ErrorKind::BadPassword`] ("wrong password", or "the file is
    /// encrypted; a password is required" when the password was empty); an unknown /Filter or an
    /// unsupported /V–/R combination is [`ErrorKind::Unsupported`]; missing or malformed entries
    /// are [`ErrorKind::Structure`].
    pub fn open(encrypt: &Dict, id0: &[u8], password: &[u8]) -> Result<Self> {
        let filter = encrypt.name("Filter").unwrap_or(b"");
        if filter != b"Standard" {
            return Err(PdfError::new(
                ErrorKind::Unsupported,
                format!(
                    "the security handler /{} is not supported",
                    String::from_utf8_lossy(filter)
                ),
            ));
        }
        let v = encrypt.int("V").unwrap_or(0);
        let r = encrypt
            .int("R")
            .ok_or_else(|| PdfError::structure("/Encrypt has no /R"))?;
        let (version, revision) = match (v, r) {
            (1 | 2, 2 | 3) | (4, 4) | (5, 5 | 6) => (v as u8, r as u8),
            _ => {
                return Err(PdfError::new(
                    ErrorKind::Unsupported,
                    format!("encryption /V {v} /R {r} is not supported"),
                ))
            }
        };
        let o = string(encrypt, "O")?;
        let u = string(encrypt, "U")?;
        let p = encrypt
            .int("P")
            .ok_or_else(|| PdfError::structure("/Encrypt has no /P"))?;
        // /P is a 32-bit field; some writers store it unsigned.
        let permissions = p as u32 as i32;
        let encrypt_metadata = !matches!(encrypt.get("EncryptMetadata"), Some(Object::Bool(false)));

        let (strings, streams, filters) = match version {
            1 | 2 => (CryptMethod::Rc4, CryptMethod::Rc4, Vec::new()),
            _ => {
                let filters = crypt_filters(encrypt)?;
                let pick = |key: &str| lookup(&filters, encrypt.name(key).unwrap_or(b"Identity"));
                (pick("StrF")?, pick("StmF")?, filters)
            }
        };
        let uses =
            |m: CryptMethod| strings == m || streams == m || filters.iter().any(|(_, f)| *f == m);
        if revision < 5 && uses(CryptMethod::Aes256) {
            return Err(PdfError::new(
                ErrorKind::Unsupported,
                format!("/AESV3 needs /R 5 or 6, not /R {revision}"),
            ));
        }
        let key_len = match (version, revision) {
            (_, 2) => 5,
            (1, _) => 5,
            (_, 5 | 6) => 32,
            _ if uses(CryptMethod::Aes128) => 16,
            (2, _) => key_bytes(encrypt.int("Length").unwrap_or(40))?,
            _ => {
                let std_cf = encrypt
                    .get("CF")
                    .and_then(Object::as_dict)
                    .and_then(|cf| cf.get(stream_filter_name(encrypt)))
                    .and_then(Object::as_dict)
                    .and_then(|d| d.int("Length"));
                key_bytes(encrypt.int("Length").or(std_cf).unwrap_or(128))?
            }
        };

        let params = Params {
            revision,
            o,
            u,
            p: permissions,
            id0,
            key_len,
            encrypt_metadata,
        };
        let (key, owner) = if revision <= 4 {
            if let Some(k) = user_key_r4(&params, password)? {
                (k, false)
            } else if let Some(k) = owner_key_r4(&params, password)? {
                (k, true)
            } else {
                return Err(bad_password(password));
            }
        } else {
            let oe = string(encrypt, "OE")?;
            let ue = string(encrypt, "UE")?;
            if let Some(k) = user_key_r6(&params, ue, password)? {
                (k, false)
            } else if let Some(k) = owner_key_r6(&params, oe, password)? {
                (k, true)
            } else {
                return Err(bad_password(password));
            }
        };
        Ok(Self {
            revision,
            version,
            key,
            strings,
            streams,
            filters,
            encrypt_metadata,
            permissions,
            owner,
            iv_seed: OnceLock::new(),
            iv_counter: AtomicU64::new(0),
        })
    }

    /// Replaces the random seed of the AES IV generator, making encryption deterministic.
    /// For tests and reproducible fixtures only: production code keeps the random seed.
    pub fn with_iv_seed(self, seed: [u8; 32]) -> Self {
        Self {
            iv_seed: OnceLock::from(seed),
            iv_counter: AtomicU64::new(0),
            ..self
        }
    }

    /// The `/R` of the handler: 2 to 6.
    pub fn revision(&self) -> u8 {
        self.revision
    }

    /// The method for stream data (`/StmF`; for `/V 1`–`/V 2` always RC4). Strings may use another
    /// one (`/StrF`) in unusual files; [`Self::string_method`] tells.
    pub fn method(&self) -> CryptMethod {
        self.streams
    }

    /// The method for strings (`/StrF`).
    pub fn string_method(&self) -> CryptMethod {
        self.strings
    }

    /// The `/P` permission flags (§7.6.4.2, table 22). They bind only users who did not open the
    /// file with the owner password. For `/R 5`–`/R 6` the copy in `/Perms` is not checked.
    pub fn permissions(&self) -> i32 {
        self.permissions
    }

    /// Whether the password given to [`Self::open`] was the owner password (and not the user one).
    pub fn opened_as_owner(&self) -> bool {
        self.owner
    }

    /// Whether `/Type /Metadata` streams are encrypted (`/EncryptMetadata`, default true).
    pub fn encrypts_metadata(&self) -> bool {
        self.encrypt_metadata
    }

    /// Decrypts a string of object `obj`.
    pub fn decrypt_string(&self, obj: ObjRef, data: &[u8]) -> Result<Vec<u8>> {
        Ok(self.apply(self.strings, obj, data, Direction::Decrypt))
    }

    /// Decrypts the data of a stream of object `obj`: honours a `/Crypt` filter naming its own
    /// crypt filter (`/Identity` included), leaves `/Type /XRef` streams alone, and
    /// `/Type /Metadata` streams too when `/EncryptMetadata` is false.
    pub fn decrypt_stream(&self, obj: ObjRef, stream_dict: &Dict, data: &[u8]) -> Result<Vec<u8>> {
        let m = self.stream_method_for(stream_dict)?;
        Ok(self.apply(m, obj, data, Direction::Decrypt))
    }

    /// Encrypts a string of object `obj`.
    pub fn encrypt_string(&self, obj: ObjRef, data: &[u8]) -> Vec<u8> {
        self.apply(self.strings, obj, data, Direction::Encrypt)
    }

    /// Encrypts the data of a stream of object `obj`, by the rules of [`Self::decrypt_stream`].
    /// A stream naming a crypt filter that `/CF` does not define is encrypted with `/StmF`.
    pub fn encrypt_stream(&self, obj: ObjRef, stream_dict: &Dict, data: &[u8]) -> Vec<u8> {
        let m = self.stream_method_for(stream_dict).unwrap_or(self.streams);
        self.apply(m, obj, data, Direction::Encrypt)
    }

    /// Recursively decrypts every string inside `obj` (arrays, dicts, stream dicts) and stream
    /// data, in place, except the /Contents string of a signature dictionary (a dict that has
    /// /ByteRange), which PDF never encrypts. On error `obj` may be partly decrypted.
    pub fn decrypt_object(&self, obj_ref: ObjRef, obj: &mut Object) -> Result<()> {
        self.walk(obj_ref, obj, Direction::Decrypt)
    }

    /// Same in the other direction, for objects we write in an incremental update (again skipping
    /// a signature dict's /Contents); stream data is encrypted too.
    pub fn encrypt_object(&self, obj_ref: ObjRef, obj: &mut Object) {
        // Encryption cannot fail: `walk` only fails on a stream naming an unknown crypt filter,
        // and `encrypt_stream` falls back to /StmF for those.
        let _ = self.walk(obj_ref, obj, Direction::Encrypt);
    }

    /// Iterative (not recursive) so that hostile nesting cannot exhaust the stack.
    fn walk(&self, r: ObjRef, obj: &mut Object, dir: Direction) -> Result<()> {
        let mut stack: Vec<&mut Object> = vec![obj];
        while let Some(o) = stack.pop() {
            match o {
                Object::String(s) => s.bytes = self.apply(self.strings, r, &s.bytes, dir),
                Object::Array(a) => stack.extend(a.iter_mut()),
                Object::Dict(d) => push_entries(d, &mut stack),
                // Cross-reference streams are never encrypted, dictionary included (its /ID).
                Object::Stream(s) if s.dict.name("Type") == Some(b"XRef") => {}
                Object::Stream(s) => {
                    s.data = match dir {
                        Direction::Decrypt => self.decrypt_stream(r, &s.dict, &s.data)?,
                        Direction::Encrypt => self.encrypt_stream(r, &s.dict, &s.data),
                    };
                    push_entries(&mut s.dict, &mut stack);
                }
                Object::Null
                | Object::Bool(_)
                | Object::Int(_)
                | Object::Real(_)
                | Object::Name(_)
                | Object::Ref(_) => {}
            }
        }
        Ok(())
    }

    fn stream_method_for(&self, dict: &Dict) -> Result<CryptMethod> {
        match dict.name("Type") {
            Some(b"XRef") => return Ok(CryptMethod::Identity),
            Some(b"Metadata") if !self.encrypt_metadata && self.version >= 4 => {
                return Ok(CryptMethod::Identity)
            }
            _ => {}
        }
        if self.version < 4 {
            return Ok(self.streams);
        }
        // A /Crypt filter must come first in the chain (§7.4.10); its /Name defaults to Identity.
        let (first, parms) = match dict.get("Filter") {
            Some(Object::Name(n)) => (Some(n.as_slice()), dict.get("DecodeParms")),
            Some(Object::Array(a)) => (
                a.first().and_then(Object::as_name),
                match dict.get("DecodeParms") {
                    Some(Object::Array(p)) => p.first(),
                    other => other,
                },
            ),
            _ => (None, None),
        };
        if first != Some(b"Crypt".as_slice()) {
            return Ok(self.streams);
        }
        let name = parms
            .and_then(Object::as_dict)
            .and_then(|p| p.name("Name"))
            .unwrap_or(b"Identity");
        lookup(&self.filters, name)
    }

    fn apply(&self, m: CryptMethod, obj: ObjRef, data: &[u8], dir: Direction) -> Vec<u8> {
        match m {
            CryptMethod::Identity => data.to_vec(),
            CryptMethod::Rc4 => rc4(&self.object_key(obj, false), data),
            CryptMethod::Aes128 => {
                let mut k = [0u8; 16];
                copy_prefix(&mut k, &self.object_key(obj, true));
                let aes = Aes::A128(Box::new(Aes128::new(&Array::from(k))));
                match dir {
                    Direction::Decrypt => aes.cbc_decrypt(data),
                    Direction::Encrypt => aes.cbc_encrypt(self.next_iv(), data),
                }
            }
            CryptMethod::Aes256 => {
                let mut k = [0u8; 32];
                copy_prefix(&mut k, &self.key);
                let aes = Aes::A256(Box::new(Aes256::new(&Array::from(k))));
                match dir {
                    Direction::Decrypt => aes.cbc_decrypt(data),
                    Direction::Encrypt => aes.cbc_encrypt(self.next_iv(), data),
                }
            }
        }
    }

    /// Algorithm 1 (§7.6.3.2): MD5 of the file key, the object number's low 3 bytes, the
    /// generation's low 2 bytes (and "sAlT" for AES), truncated to key length + 5, at most 16.
    fn object_key(&self, obj: ObjRef, aes: bool) -> Vec<u8> {
        let mut h = Md5::new();
        h.update(&self.key);
        h.update(obj.num.to_le_bytes().get(..3).unwrap_or_default());
        h.update(obj.gen.to_le_bytes());
        if aes {
            h.update(b"sAlT");
        }
        let n = (self.key.len() + 5).min(16);
        h.finalize().iter().take(n).copied().collect()
    }

    fn next_iv(&self) -> [u8; 16] {
        let seed = self.iv_seed.get_or_init(|| {
            let mut s = [0u8; 32];
            if getrandom::fill(&mut s).is_err() {
                // No OS randomness (should not happen on any platform we run on): derive a seed
                // from the key. IVs stay distinct within the process, thanks to the counter.
                let d = Sha256::new()
                    .chain_update(b"paraf-pdf IV fallback")
                    .chain_update(&self.key)
                    .finalize();
                copy_prefix(&mut s, &d);
            }
            s
        });
        let n = self.iv_counter.fetch_add(1, Ordering::Relaxed);
        let d = Sha256::new()
            .chain_update(seed)
            .chain_update(n.to_le_bytes())
            .finalize();
        let mut iv = [0u8; 16];
        copy_prefix(&mut iv, &d);
        iv
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Decrypt,
    Encrypt,
}

fn push_entries<'a>(d: &'a mut Dict, stack: &mut Vec<&'a mut Object>) {
    let signature = d.contains("ByteRange");
    for (k, v) in d.0.iter_mut() {
        if !(signature && k == b"Contents") {
            stack.push(v);
        }
    }
}

fn bad_password(password: &[u8]) -> PdfError {
    PdfError::new(
        ErrorKind::BadPassword,
        if password.is_empty() {
            "the file is encrypted; a password is required"
        } else {
            "wrong password"
        },
    )
}

fn string<'a>(d: &'a Dict, key: &str) -> Result<&'a [u8]> {
    d.get(key)
        .and_then(Object::as_string)
        .ok_or_else(|| PdfError::structure(format!("/Encrypt has no /{key} string")))
}

/// A key length from `/Length`: in bits (40–128, a multiple of 8), or in bytes (5–16) as some
/// writers put it in crypt filter dictionaries.
fn key_bytes(length: i64) -> Result<usize> {
    match length {
        5..=16 => Ok(length as usize),
        40..=128 if length % 8 == 0 => Ok(length as usize / 8),
        _ => Err(PdfError::new(
            ErrorKind::Unsupported,
            format!("encryption key /Length {length} is not supported"),
        )),
    }
}

fn stream_filter_name(encrypt: &Dict) -> &str {
    match encrypt.name("StmF") {
        Some(b"StdCF") | None => "StdCF",
        Some(n) => std::str::from_utf8(n).unwrap_or("StdCF"),
    }
}

/// The `/CF` dictionary: crypt filter name → method.
fn crypt_filters(encrypt: &Dict) -> Result<Vec<(Vec<u8>, CryptMethod)>> {
    let Some(cf) = encrypt.get("CF") else {
        return Ok(Vec::new());
    };
    let cf = cf
        .as_dict()
        .ok_or_else(|| PdfError::structure("/CF is not a dictionary"))?;
    cf.iter()
        .map(|(name, f)| {
            let cfm = f.as_dict().and_then(|d| d.name("CFM")).unwrap_or(b"None");
            let m = match cfm {
                b"None" => CryptMethod::Identity,
                b"V2" => CryptMethod::Rc4,
                b"AESV2" => CryptMethod::Aes128,
                b"AESV3" => CryptMethod::Aes256,
                _ => {
                    return Err(PdfError::new(
                        ErrorKind::Unsupported,
                        format!(
                            "crypt filter method /{} is not supported",
                            String::from_utf8_lossy(cfm)
                        ),
                    ))
                }
            };
            Ok((name.to_vec(), m))
        })
        .collect()
}

fn lookup(filters: &[(Vec<u8>, CryptMethod)], name: &[u8]) -> Result<CryptMethod> {
    if name == b"Identity" {
        return Ok(CryptMethod::Identity);
    }
    filters
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            PdfError::structure(format!(
                "crypt filter /{} is not defined in /CF",
                String::from_utf8_lossy(name)
            ))
        })
}

fn copy_prefix(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The first `n` bytes of `s`, or a Structure error naming the entry.
fn prefix<'a>(s: &'a [u8], n: usize, what: &str) -> Result<&'a [u8]> {
    s.get(..n).ok_or_else(|| {
        PdfError::structure(format!(
            "/{what} is {} bytes, at least {n} expected",
            s.len()
        ))
    })
}

fn pad_password(password: &[u8]) -> [u8; 32] {
    let mut out = PAD;
    let n = password.len().min(32);
    copy_prefix(&mut out, password.get(..n).unwrap_or_default());
    if let Some(rest) = out.get_mut(n..) {
        copy_prefix(rest, &PAD);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Revisions 2–4 (§7.6.4.3): MD5 and RC4.

/// Algorithm 2: the file encryption key from a (user) password.
fn file_key_r4(p: &Params<'_>, password: &[u8]) -> Result<Vec<u8>> {
    let mut h = Md5::new();
    h.update(pad_password(password));
    h.update(prefix(p.o, 32, "O")?);
    h.update(p.p.to_le_bytes());
    h.update(p.id0);
    if p.revision >= 4 && !p.encrypt_metadata {
        h.update([0xFF; 4]);
    }
    let mut d: [u8; 16] = h.finalize().into();
    let n = p.key_len.min(16);
    if p.revision >= 3 {
        for _ in 0..50 {
            d = Md5::digest(d.get(..n).unwrap_or(&d)).into();
        }
    }
    Ok(d.iter().take(n).copied().collect())
}

/// Algorithms 4–6: the key if `password` is the user password.
fn user_key_r4(p: &Params<'_>, password: &[u8]) -> Result<Option<Vec<u8>>> {
    let key = file_key_r4(p, password)?;
    let ok = if p.revision == 2 {
        rc4(&key, &PAD) == prefix(p.u, 32, "U")?
    } else {
        let mut h = Md5::new();
        h.update(PAD);
        h.update(p.id0);
        let mut x = rc4(&key, &h.finalize());
        for i in 1..=19u8 {
            let k: Vec<u8> = key.iter().map(|b| b ^ i).collect();
            x = rc4(&k, &x);
        }
        x == prefix(p.u, 16, "U")?
    };
    Ok(ok.then_some(key))
}

/// Algorithms 3 and 7: recovers the user password from /O with the owner password, then
/// proceeds as for the user password.
fn owner_key_r4(p: &Params<'_>, password: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut d: [u8; 16] = Md5::digest(pad_password(password)).into();
    if p.revision >= 3 {
        for _ in 0..50 {
            d = Md5::digest(d).into();
        }
    }
    let n = if p.revision == 2 {
        5
    } else {
        p.key_len.min(16)
    };
    let key = d.get(..n).unwrap_or(&d);
    let o = prefix(p.o, 32, "O")?;
    let user = if p.revision == 2 {
        rc4(key, o)
    } else {
        let mut x = o.to_vec();
        for i in (0..=19u8).rev() {
            let k: Vec<u8> = key.iter().map(|b| b ^ i).collect();
            x = rc4(&k, &x);
        }
        x
    };
    user_key_r4(p, &user)
}

/// RC4 (a symmetric stream cipher: the same call encrypts and decrypts).
fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s = [0u8; 256];
    for (i, x) in s.iter_mut().enumerate() {
        *x = i as u8;
    }
    let mut j = 0u8;
    for (i, &k) in (0..256usize).zip(key.iter().cycle()) {
        j = j.wrapping_add(s[i]).wrapping_add(k);
        s.swap(i, usize::from(j));
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|&b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[usize::from(i)]);
            s.swap(usize::from(i), usize::from(j));
            let k = s[usize::from(s[usize::from(i)].wrapping_add(s[usize::from(j)]))];
            b ^ k
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Revisions 5 and 6 (§7.6.4.3.3–4): SHA-2 and AES-256.

/// The password hash: SHA-256 for /R 5, algorithm 2.B for /R 6.
fn hash_r6(revision: u8, password: &[u8], salt: &[u8], udata: &[u8]) -> [u8; 32] {
    let mut k: Vec<u8> = Sha256::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(udata)
        .finalize()
        .to_vec();
    if revision == 6 {
        let mut round = 0u32;
        loop {
            let mut k1 = Vec::with_capacity(64 * (password.len() + k.len() + udata.len()));
            for _ in 0..64 {
                k1.extend_from_slice(password);
                k1.extend_from_slice(&k);
                k1.extend_from_slice(udata);
            }
            let (mut key, mut iv) = ([0u8; 16], [0u8; 16]);
            copy_prefix(&mut key, &k);
            copy_prefix(&mut iv, k.get(16..).unwrap_or_default());
            let e = Aes::A128(Box::new(Aes128::new(&Array::from(key)))).cbc_encrypt_raw(iv, &k1);
            // The first 16 bytes as a big-endian number mod 3 = their sum mod 3 (256 ≡ 1).
            let m = e.iter().take(16).map(|&b| u32::from(b)).sum::<u32>() % 3;
            k = match m {
                0 => Sha256::digest(&e).to_vec(),
                1 => Sha384::digest(&e).to_vec(),
                _ => Sha512::digest(&e).to_vec(),
            };
            round += 1;
            let last = u32::from(e.last().copied().unwrap_or(0));
            if round >= 64 && last + 32 <= round {
                break;
            }
        }
    }
    let mut out = [0u8; 32];
    copy_prefix(&mut out, &k);
    out
}

/// Unwraps /UE or /OE: AES-256-CBC with a zero IV and no padding.
fn unwrap_key(intermediate: [u8; 32], wrapped: &[u8]) -> Result<Vec<u8>> {
    let wrapped = prefix(wrapped, 32, "UE or /OE")?;
    let aes = Aes::A256(Box::new(Aes256::new(&Array::from(intermediate))));
    Ok(aes.cbc_decrypt_raw([0; 16], wrapped))
}

fn password_r6(password: &[u8]) -> &[u8] {
    password.get(..127).unwrap_or(password)
}

/// Algorithm 2.A, user branch (and algorithm 11).
fn user_key_r6(p: &Params<'_>, ue: &[u8], password: &[u8]) -> Result<Option<Vec<u8>>> {
    let pw = password_r6(password);
    let u = prefix(p.u, 48, "U")?;
    let (hash, rest) = u.split_at(32);
    let (validation_salt, key_salt) = rest.split_at(8);
    if hash_r6(p.revision, pw, validation_salt, &[]) != hash {
        return Ok(None);
    }
    unwrap_key(hash_r6(p.revision, pw, key_salt, &[]), ue).map(Some)
}

/// Algorithm 2.A, owner branch (and algorithm 12).
fn owner_key_r6(p: &Params<'_>, oe: &[u8], password: &[u8]) -> Result<Option<Vec<u8>>> {
    let pw = password_r6(password);
    let u = prefix(p.u, 48, "U")?;
    let o = prefix(p.o, 48, "O")?;
    let (hash, rest) = o.split_at(32);
    let (validation_salt, key_salt) = rest.split_at(8);
    if hash_r6(p.revision, pw, validation_salt, u) != hash {
        return Ok(None);
    }
    unwrap_key(hash_r6(p.revision, pw, key_salt, u), oe).map(Some)
}

// ---------------------------------------------------------------------------------------------
// AES-CBC as PDF uses it: the 16-byte IV first, PKCS#5 padding.

enum Aes {
    A128(Box<Aes128>),
    A256(Box<Aes256>),
}

impl Aes {
    fn encrypt_block(&self, b: &mut [u8; 16]) {
        let mut a = Array::from(*b);
        match self {
            Aes::A128(c) => c.encrypt_block(&mut a),
            Aes::A256(c) => c.encrypt_block(&mut a),
        }
        *b = a.into();
    }

    fn decrypt_block(&self, b: &mut [u8; 16]) {
        let mut a = Array::from(*b);
        match self {
            Aes::A128(c) => c.decrypt_block(&mut a),
            Aes::A256(c) => c.decrypt_block(&mut a),
        }
        *b = a.into();
    }

    /// CBC over whole blocks, no padding; a trailing partial block is ignored.
    fn cbc_encrypt_raw(&self, iv: [u8; 16], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut prev = iv;
        for chunk in data.chunks_exact(16) {
            for (p, c) in prev.iter_mut().zip(chunk) {
                *p ^= c;
            }
            self.encrypt_block(&mut prev);
            out.extend_from_slice(&prev);
        }
        out
    }

    /// CBC over whole blocks, no padding; a trailing partial block is ignored.
    fn cbc_decrypt_raw(&self, iv: [u8; 16], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut prev = iv;
        for chunk in data.chunks_exact(16) {
            let mut block = [0u8; 16];
            copy_prefix(&mut block, chunk);
            let cipher_block = block;
            self.decrypt_block(&mut block);
            for (b, p) in block.iter_mut().zip(&prev) {
                *b ^= p;
            }
            out.extend_from_slice(&block);
            prev = cipher_block;
        }
        out
    }

    /// IV ‖ CBC(data ‖ PKCS#5 padding).
    fn cbc_encrypt(&self, iv: [u8; 16], data: &[u8]) -> Vec<u8> {
        let pad = 16 - data.len() % 16;
        let mut padded = Vec::with_capacity(data.len() + pad);
        padded.extend_from_slice(data);
        padded.resize(data.len() + pad, pad as u8);
        let mut out = Vec::with_capacity(16 + padded.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&self.cbc_encrypt_raw(iv, &padded));
        out
    }

    /// The inverse of [`Self::cbc_encrypt`], tolerant of damage (see the module documentation).
    fn cbc_decrypt(&self, data: &[u8]) -> Vec<u8> {
        let Some((iv, body)) = data.split_first_chunk::<16>() else {
            return Vec::new();
        };
        let mut out = self.cbc_decrypt_raw(*iv, body);
        if let Some(&pad) = out.last() {
            let n = usize::from(pad);
            let valid = (1..=16).contains(&n)
                && n <= out.len()
                && out.iter().rev().take(n).all(|&b| b == pad);
            if valid {
                out.truncate(out.len() - n);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{PdfString, Stream};
    use std::path::Path;
    use std::process::Command;

    fn unhex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap() as u8)
            .collect();
        digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // -- primitives against published vectors ------------------------------------------------

    #[test]
    fn rc4_known_vectors() {
        // The classic test vectors (Wikipedia "RC4", test vectors section).
        assert_eq!(hex(&rc4(b"Key", b"Plaintext")), "bbf316e8d940af0ad3");
        assert_eq!(hex(&rc4(b"Wiki", b"pedia")), "1021bf0420");
        assert_eq!(
            hex(&rc4(b"Secret", b"Attack at dawn")),
            "45a01f645fc35b383552544b9bf5"
        );
        assert_eq!(rc4(b"Key", &rc4(b"Key", b"roundtrip")), b"roundtrip");
    }

    #[test]
    fn aes_cbc_nist_sp800_38a_vectors() {
        // NIST SP 800-38A, F.2.1 (CBC-AES128) and F.2.5 (CBC-AES256), first two blocks.
        let iv: [u8; 16] = unhex("000102030405060708090a0b0c0d0e0f")
            .try_into()
            .unwrap();
        let pt = unhex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51");
        let k128: [u8; 16] = unhex("2b7e151628aed2a6abf7158809cf4f3c")
            .try_into()
            .unwrap();
        let a = Aes::A128(Box::new(Aes128::new(&Array::from(k128))));
        let ct = a.cbc_encrypt_raw(iv, &pt);
        assert_eq!(
            hex(&ct),
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        );
        assert_eq!(a.cbc_decrypt_raw(iv, &ct), pt);
        let k256: [u8; 32] =
            unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
                .try_into()
                .unwrap();
        let a = Aes::A256(Box::new(Aes256::new(&Array::from(k256))));
        let ct = a.cbc_encrypt_raw(iv, &pt);
        assert_eq!(
            hex(&ct),
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
        );
        assert_eq!(a.cbc_decrypt_raw(iv, &ct), pt);
    }

    #[test]
    fn aes_decryption_tolerates_damage() {
        let a = Aes::A128(Box::new(Aes128::new(&Array::from([7u8; 16]))));
        for len in [0usize, 1, 15, 16, 17, 31, 32, 100] {
            let data = vec![0x41u8; len];
            let ct = a.cbc_encrypt([3; 16], &data);
            assert_eq!(ct.len(), 16 + (len / 16 + 1) * 16);
            assert_eq!(a.cbc_decrypt(&ct), data);
            // Truncations and garbage never panic.
            for cut in 0..ct.len() {
                let _ = a.cbc_decrypt(&ct[..cut]);
            }
        }
        // Shorter than the IV: nothing.
        assert!(a.cbc_decrypt(&[1, 2, 3]).is_empty());
        assert!(a.cbc_decrypt(&[0; 16]).is_empty());
        // Invalid padding: the decrypted block is returned whole.
        let raw = a.cbc_encrypt_raw([0; 16], &[0x42; 16]);
        let mut ct = vec![0u8; 16];
        ct.extend_from_slice(&raw);
        assert_eq!(a.cbc_decrypt(&ct), [0x42; 16]);
        // A trailing partial block is ignored.
        let mut ct = a.cbc_encrypt([9; 16], b"hello");
        ct.extend_from_slice(&[1, 2, 3]);
        assert_eq!(a.cbc_decrypt(&ct), b"hello");
    }

    #[test]
    fn password_padding() {
        assert_eq!(pad_password(b""), PAD);
        let p = pad_password(b"user");
        assert_eq!(&p[..4], b"user");
        assert_eq!(&p[4..], &PAD[..28]);
        assert_eq!(pad_password(&[b'x'; 40]), [b'x'; 32]);
    }

    // -- fixtures made once with qpdf 11.3 (`--static-id`), so that these run without it -------

    /// `qpdf --allow-weak-crypto --static-id --encrypt user owner 40 --`
    fn fixture_r2() -> (Dict, Vec<u8>) {
        let d = Dict::new()
            .with("Filter", Object::name("Standard"))
            .with("Length", 40)
            .with("O", PdfString::hex(unhex(R2_O)))
            .with("P", -4)
            .with("R", 2)
            .with("U", PdfString::hex(unhex(R2_U)))
            .with("V", 1);
        (d, unhex(STATIC_ID))
    }

    /// `qpdf --static-id --encrypt user owner 256 --`
    fn fixture_r6() -> (Dict, Vec<u8>) {
        let d = Dict::new()
            .with(
                "CF",
                Dict::new().with(
                    "StdCF",
                    Dict::new()
                        .with("AuthEvent", Object::name("DocOpen"))
                        .with("CFM", Object::name("AESV3"))
                        .with("Length", 32),
                ),
            )
            .with("Filter", Object::name("Standard"))
            .with("Length", 256)
            .with("O", PdfString::hex(unhex(R6_O)))
            .with("OE", PdfString::hex(unhex(R6_OE)))
            .with("P", -4)
            .with("Perms", PdfString::hex(unhex(R6_PERMS)))
            .with("R", 6)
            .with("StmF", Object::name("StdCF"))
            .with("StrF", Object::name("StdCF"))
            .with("U", PdfString::hex(unhex(R6_U)))
            .with("UE", PdfString::hex(unhex(R6_UE)))
            .with("V", 5);
        (d, unhex(STATIC_ID))
    }

    const STATIC_ID: &str = "31415926535897932384626433832795";
    const R2_O: &str = "94e8094419662a774442fb072e3d9f19e9d130ec09a4d0061e78fe920f7ab62f";
    const R2_U: &str = "2aa12f26bcf1a217c0f1ee491745f646671475ae85bddf3e3c1a45a8457391cb";
    const R2_KEY: &str = "ee4fd3a223";
    const R2_TITLE: &str = "af522c1469a0edae7662f6244c669f46";
    const R6_O: &str = "2b343d941278d887cdeabe4321aa85fbb2bf7c543e221040b788de68d210962090266b3ac33bf465def5bc5e1dfb634b";
    const R6_OE: &str = "1667611344e0a21598ba5092c8ed78ab74107789db10de2a4ae5796f334225ea";
    const R6_U: &str = "c98931a1431c50617518ad6f06b0fabded025b801abb8c0f8fa747195b75e2833d9e8828faeca38791a687d34d9135b6";
    const R6_UE: &str = "7d84c365d10e8602ebe75e70b7b2c923f7df90f1636df743221c75e18ea46482";
    const R6_PERMS: &str = "33da9cc5078d8a848c2f1883a9d4ddfb";
    const R6_KEY: &str = "809cafb46b95e146d7faf90ff655e331e9d32cef9c3a7ce1bafba1e5d196c51f";
    const R6_TITLE: &str = "0870045603c81418ce5b158f70db14421ac41796d29b7346dd51aeb35a1ae9c91169841a7377ffe9105025394fff8d3d";
    /// The Info dictionary is object 2 in qpdf's output.
    const INFO: ObjRef = ObjRef::new(2, 0);

    #[test]
    fn fixture_rc4_40_user_owner_wrong() {
        let (d, id) = fixture_r2();
        let h = SecurityHandler::open(&d, &id, b"user").unwrap();
        assert_eq!(hex(&h.key), R2_KEY);
        assert_eq!((h.revision(), h.method()), (2, CryptMethod::Rc4));
        assert!(!h.opened_as_owner());
        assert_eq!(h.permissions(), -4);
        let title = h.decrypt_string(INFO, &unhex(R2_TITLE)).unwrap();
        assert_eq!(title, b"Paraf test title");

        let h = SecurityHandler::open(&d, &id, b"owner").unwrap();
        assert!(h.opened_as_owner());
        assert_eq!(hex(&h.key), R2_KEY);

        let e = SecurityHandler::open(&d, &id, b"nope").unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::BadPassword, "wrong password")
        );
        let e = SecurityHandler::open(&d, &id, b"").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadPassword);
        assert_eq!(e.message, "the file is encrypted; a password is required");
        // The key depends on /ID.
        assert!(SecurityHandler::open(&d, b"other id", b"user").is_err());
    }

    #[test]
    fn fixture_aes_256_r6_user_owner_wrong() {
        let (d, id) = fixture_r6();
        let h = SecurityHandler::open(&d, &id, b"user").unwrap();
        assert_eq!(hex(&h.key), R6_KEY);
        assert_eq!((h.revision(), h.method()), (6, CryptMethod::Aes256));
        assert!(!h.opened_as_owner());
        let title = h.decrypt_string(INFO, &unhex(R6_TITLE)).unwrap();
        assert_eq!(title, b"Paraf test title");
        let h = SecurityHandler::open(&d, &id, b"owner").unwrap();
        assert!(h.opened_as_owner());
        assert_eq!(hex(&h.key), R6_KEY);
        let e = SecurityHandler::open(&d, &id, b"User").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadPassword);
        // /R 5 and /R 6 do not use /ID.
        assert!(SecurityHandler::open(&d, b"", b"user").is_ok());
    }

    // -- objects: what is and is not encrypted ------------------------------------------------

    fn r6_handler() -> SecurityHandler {
        let (d, id) = fixture_r6();
        SecurityHandler::open(&d, &id, b"user")
            .unwrap()
            .with_iv_seed([5; 32])
    }

    fn r2_handler() -> SecurityHandler {
        let (d, id) = fixture_r2();
        SecurityHandler::open(&d, &id, b"user").unwrap()
    }

    #[test]
    fn object_roundtrip_skips_signature_contents() {
        let r = ObjRef::new(12, 0);
        let sig = Dict::new()
            .with("Type", Object::name("Sig"))
            .with("ByteRange", vec![Object::Int(0), Object::Int(10)])
            .with("Contents", PdfString::hex(vec![0u8; 8]))
            .with("Name", PdfString::literal(b"Budi".to_vec()));
        let original = Object::Dict(
            Dict::new()
                .with("T", PdfString::literal(b"Signature1".to_vec()))
                .with("V", sig)
                .with(
                    "Kids",
                    vec![
                        Object::String(PdfString::literal(b"a".to_vec())),
                        Object::Int(3),
                    ],
                )
                .with(
                    "AP",
                    Stream {
                        dict: Dict::new().with("Name", PdfString::literal(b"n".to_vec())),
                        data: b"q Q".to_vec(),
                    },
                ),
        );
        for h in [r2_handler(), r6_handler()] {
            let mut o = original.clone();
            h.encrypt_object(r, &mut o);
            let d = o.as_dict().unwrap();
            let sig = d.get("V").unwrap().as_dict().unwrap();
            assert_eq!(sig.get("Contents").unwrap().as_string().unwrap(), [0u8; 8]);
            assert_ne!(sig.get("Name").unwrap().as_string().unwrap(), b"Budi");
            assert_ne!(d.get("T").unwrap().as_string().unwrap(), b"Signature1");
            assert_ne!(d.get("AP").unwrap().as_stream().unwrap().data, b"q Q");
            h.decrypt_object(r, &mut o).unwrap();
            assert_eq!(o, original);
        }
    }

    #[test]
    fn iv_seed_makes_output_reproducible_and_ivs_distinct() {
        let r = ObjRef::new(1, 0);
        let a = r6_handler();
        let b = r6_handler();
        let (a1, a2) = (a.encrypt_string(r, b"x"), a.encrypt_string(r, b"x"));
        assert_ne!(a1, a2, "each encryption takes a fresh IV");
        assert_eq!(a1, b.encrypt_string(r, b"x"));
        assert_eq!(a.decrypt_string(r, &a2).unwrap(), b"x");
        // Without an injected seed, output differs between handlers.
        let (d, id) = fixture_r6();
        let c = SecurityHandler::open(&d, &id, b"user").unwrap();
        assert_ne!(c.encrypt_string(r, b"x"), a1);
    }

    #[test]
    fn stream_exceptions_xref_metadata_and_crypt_filters() {
        let r = ObjRef::new(7, 0);
        let h = r6_handler();
        let xref = Dict::new().with("Type", Object::name("XRef"));
        assert_eq!(h.encrypt_stream(r, &xref, b"raw"), b"raw");
        assert_eq!(h.decrypt_stream(r, &xref, b"raw").unwrap(), b"raw");
        let id = Object::Array(vec![Object::String(PdfString::hex(b"id".to_vec()))]);
        let mut o = Object::Stream(Stream {
            dict: xref.clone().with("ID", id),
            data: b"raw".to_vec(),
        });
        let before = o.clone();
        h.encrypt_object(r, &mut o);
        assert_eq!(o, before);
        // Metadata is encrypted by default...
        let meta = Dict::new().with("Type", Object::name("Metadata"));
        assert_ne!(h.encrypt_stream(r, &meta, b"<x/>"), b"<x/>");
        // ...but not with /EncryptMetadata false.
        let (mut d, id) = fixture_r6();
        d.set("EncryptMetadata", false);
        let clear = SecurityHandler::open(&d, &id, b"user").unwrap();
        assert!(!clear.encrypts_metadata());
        assert_eq!(clear.encrypt_stream(r, &meta, b"<x/>"), b"<x/>");
        assert_eq!(clear.decrypt_stream(r, &meta, b"<x/>").unwrap(), b"<x/>");
        // A /Crypt filter naming /Identity (or nothing) passes the data through.
        for parms in [
            Object::Dict(Dict::new().with("Name", Object::name("Identity"))),
            Object::Dict(Dict::new()),
        ] {
            let s = Dict::new()
                .with(
                    "Filter",
                    vec![Object::name("Crypt"), Object::name("FlateDecode")],
                )
                .with("DecodeParms", vec![parms, Object::Null]);
            assert_eq!(h.decrypt_stream(r, &s, b"plain").unwrap(), b"plain");
        }
        // ...naming /StdCF it is encrypted; naming an undefined filter is an error.
        let s = Dict::new().with("Filter", Object::name("Crypt")).with(
            "DecodeParms",
            Dict::new().with("Name", Object::name("StdCF")),
        );
        let ct = h.encrypt_stream(r, &s, b"secret");
        assert_eq!(h.decrypt_stream(r, &s, &ct).unwrap(), b"secret");
        let s = Dict::new().with("Filter", Object::name("Crypt")).with(
            "DecodeParms",
            Dict::new().with("Name", Object::name("Nope")),
        );
        assert!(h.decrypt_stream(r, &s, b"x").is_err());
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let mut o = Object::String(PdfString::literal(b"deep".to_vec()));
        for _ in 0..200_000 {
            o = Object::Array(vec![o]);
        }
        let h = r2_handler();
        h.encrypt_object(ObjRef::new(1, 0), &mut o);
        h.decrypt_object(ObjRef::new(1, 0), &mut o).unwrap();
        // Dropping such a value recurses too (in std); unwind it by hand.
        let mut cur = o;
        let mut depth = 0;
        while let Object::Array(mut a) = cur {
            cur = a.pop().unwrap();
            depth += 1;
        }
        assert_eq!(depth, 200_000);
        assert_eq!(cur.as_string().unwrap(), b"deep");
    }

    #[test]
    fn unsupported_and_malformed_dictionaries() {
        let (d, id) = fixture_r2();
        let err = |d: &Dict| SecurityHandler::open(d, &id, b"user").unwrap_err().kind;
        let mut x = d.clone();
        x.set("Filter", Object::name("Adobe.PubSec"));
        assert_eq!(err(&x), ErrorKind::Unsupported);
        x.remove("Filter");
        assert_eq!(err(&x), ErrorKind::Unsupported);
        for (v, r) in [(3, 3), (1, 5), (5, 4), (4, 6), (0, 2), (2, 7)] {
            let x = d.clone().with("V", v).with("R", r);
            assert_eq!(err(&x), ErrorKind::Unsupported, "V {v} R {r}");
        }
        let x = d.clone().with("V", 2).with("R", 3).with("Length", 44);
        assert_eq!(err(&x), ErrorKind::Unsupported);
        for key in ["O", "U", "P", "R"] {
            let mut x = d.clone();
            x.remove(key);
            assert_eq!(err(&x), ErrorKind::Structure, "{key}");
        }
        // Short /O and /U strings are errors, not panics, for every revision.
        for (v, r) in [(1, 2), (2, 3), (4, 4), (5, 5), (5, 6)] {
            for len in [0, 5, 16, 31, 40] {
                let x = d
                    .clone()
                    .with("V", v)
                    .with("R", r)
                    .with("O", PdfString::hex(vec![1; len]))
                    .with("U", PdfString::hex(vec![2; len]))
                    .with("OE", PdfString::hex(vec![3; len]))
                    .with("UE", PdfString::hex(vec![4; len]));
                assert!(SecurityHandler::open(&x, &id, b"user").is_err());
            }
        }
        // V4 with an unknown crypt filter method, or /StmF naming an undefined filter.
        let v4 = d
            .clone()
            .with("V", 4)
            .with("R", 4)
            .with(
                "CF",
                Dict::new().with("StdCF", Dict::new().with("CFM", Object::name("X"))),
            )
            .with("StmF", Object::name("StdCF"));
        assert_eq!(err(&v4), ErrorKind::Unsupported);
        let v4 = v4
            .with("CF", Dict::new())
            .with("StrF", Object::name("StdCF"));
        assert_eq!(err(&v4), ErrorKind::Structure);
        // /AESV3 needs /R 5 or 6.
        let v4 = v4.with(
            "CF",
            Dict::new().with("StdCF", Dict::new().with("CFM", Object::name("AESV3"))),
        );
        assert_eq!(err(&v4), ErrorKind::Unsupported);
    }

    // -- live round trips with qpdf -----------------------------------------------------------

    /// A one-page PDF with an /Info /Title and an uncompressed content stream.
    fn source_pdf() -> Vec<u8> {
        let objects: [&[u8]; 5] = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
            b"<< /Length 16 >>\nstream\nBT (Hello) Tj ET\nendstream",
            b"<< /Title (Paraf test title) /Producer (Paraf) >>",
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        out
    }

    fn qpdf(args: &[&str]) -> std::process::Output {
        match Command::new("qpdf").args(args).output() {
            Ok(o) => o,
            Err(e) => panic!("qpdf is needed by these tests (apt-get install qpdf): {e}"),
        }
    }

    /// A tiny reader for qpdf's uncompressed output (no object streams): just enough syntax.
    struct Mini<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Mini<'_> {
        fn peek(&self) -> u8 {
            self.b.get(self.i).copied().unwrap_or(0)
        }
        fn ws(&mut self) {
            while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            }
        }
        fn token(&mut self) -> &[u8] {
            let s = self.i;
            while self.peek().is_ascii_alphanumeric() || b".-+_#".contains(&self.peek()) {
                self.i += 1;
            }
            &self.b[s..self.i]
        }
        fn obj(&mut self) -> Object {
            self.ws();
            match self.peek() {
                b'<' if self.b[self.i + 1] == b'<' => {
                    self.i += 2;
                    let mut d = Dict::new();
                    loop {
                        self.ws();
                        if self.peek() == b'>' {
                            self.i += 2;
                            return Object::Dict(d);
                        }
                        let Object::Name(k) = self.obj() else {
                            panic!("key")
                        };
                        let v = self.obj();
                        d.0.push((k, v));
                    }
                }
                b'<' => {
                    let end = self.i + self.b[self.i..].iter().position(|&c| c == b'>').unwrap();
                    let s = std::str::from_utf8(&self.b[self.i + 1..end]).unwrap();
                    self.i = end + 1;
                    Object::String(PdfString::hex(unhex(s)))
                }
                b'(' => {
                    self.i += 1;
                    let mut s = Vec::new();
                    let mut depth = 0;
                    loop {
                        let c = self.peek();
                        self.i += 1;
                        match c {
                            b'\\' => {
                                let e = self.peek();
                                self.i += 1;
                                s.push(match e {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 8,
                                    b'f' => 12,
                                    b'0'..=b'7' => {
                                        let mut v = u32::from(e - b'0');
                                        for _ in 0..2 {
                                            if matches!(self.peek(), b'0'..=b'7') {
                                                v = v * 8 + u32::from(self.peek() - b'0');
                                                self.i += 1;
                                            }
                                        }
                                        v as u8
                                    }
                                    other => other,
                                });
                            }
                            b'(' => {
                                depth += 1;
                                s.push(c);
                            }
                            b')' if depth == 0 => break,
                            b')' => {
                                depth -= 1;
                                s.push(c);
                            }
                            _ => s.push(c),
                        }
                    }
                    Object::String(PdfString::literal(s))
                }
                b'[' => {
                    self.i += 1;
                    let mut a = Vec::new();
                    loop {
                        self.ws();
                        if self.peek() == b']' {
                            self.i += 1;
                            return Object::Array(a);
                        }
                        a.push(self.obj());
                    }
                }
                b'/' => {
                    self.i += 1;
                    Object::Name(self.token().to_vec())
                }
                _ => {
                    let t = std::str::from_utf8(self.token()).unwrap().to_string();
                    match t.as_str() {
                        "true" => return Object::Bool(true),
                        "false" => return Object::Bool(false),
                        "null" => return Object::Null,
                        _ => {}
                    }
                    let n: i64 = t.parse().unwrap_or_else(|_| panic!("number {t:?}"));
                    let save = self.i;
                    self.ws();
                    let g = std::str::from_utf8(self.token()).unwrap().parse::<u16>();
                    self.ws();
                    if let (Ok(g), b'R') = (g, self.peek()) {
                        self.i += 1;
                        return Object::Ref(ObjRef::new(n as u32, g));
                    }
                    self.i = save;
                    Object::Int(n)
                }
            }
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).rposition(|w| w == needle)
    }

    /// Object `r` of `pdf`, with stream data when it is a stream (direct /Length only).
    fn get(pdf: &[u8], r: ObjRef) -> Object {
        let at = find(pdf, format!("\n{} {} obj", r.num, r.gen).as_bytes()).unwrap();
        let mut m = Mini { b: pdf, i: at + 1 };
        m.token();
        m.ws();
        m.token();
        m.ws();
        m.token();
        let o = m.obj();
        m.ws();
        if pdf[m.i..].starts_with(b"stream") {
            let Object::Dict(dict) = o else { panic!() };
            let mut start = m.i + 6;
            if pdf[start] == b'\r' {
                start += 1;
            }
            start += 1;
            let len = dict.int("Length").unwrap() as usize;
            let data = pdf[start..start + len].to_vec();
            return Object::Stream(Stream { dict, data });
        }
        o
    }

    fn trailer(pdf: &[u8]) -> Dict {
        let at = rfind(pdf, b"trailer").unwrap();
        let mut m = Mini { b: pdf, i: at + 7 };
        let Object::Dict(d) = m.obj() else { panic!() };
        d
    }

    fn deref(pdf: &[u8], o: &Object) -> Object {
        get(pdf, o.as_ref().unwrap())
    }

    struct Case {
        args: &'static [&'static str],
        user: &'static str,
        revision: u8,
        method: CryptMethod,
        encrypt_metadata: bool,
    }

    const CASES: &[Case] = &[
        Case {
            args: &["40"],
            user: "user",
            revision: 2,
            method: CryptMethod::Rc4,
            encrypt_metadata: true,
        },
        Case {
            args: &["40"],
            user: "",
            revision: 2,
            method: CryptMethod::Rc4,
            encrypt_metadata: true,
        },
        Case {
            args: &["128", "--use-aes=n"],
            user: "user",
            revision: 3,
            method: CryptMethod::Rc4,
            encrypt_metadata: true,
        },
        Case {
            args: &["128", "--use-aes=n", "--force-V4"],
            user: "user",
            revision: 4,
            method: CryptMethod::Rc4,
            encrypt_metadata: true,
        },
        Case {
            args: &["128", "--use-aes=y"],
            user: "user",
            revision: 4,
            method: CryptMethod::Aes128,
            encrypt_metadata: true,
        },
        Case {
            args: &["128", "--use-aes=y", "--cleartext-metadata"],
            user: "",
            revision: 4,
            method: CryptMethod::Aes128,
            encrypt_metadata: false,
        },
        Case {
            args: &["256", "--force-R5"],
            user: "user",
            revision: 5,
            method: CryptMethod::Aes256,
            encrypt_metadata: true,
        },
        Case {
            args: &["256"],
            user: "user",
            revision: 6,
            method: CryptMethod::Aes256,
            encrypt_metadata: true,
        },
        Case {
            args: &["256"],
            user: "",
            revision: 6,
            method: CryptMethod::Aes256,
            encrypt_metadata: true,
        },
        Case {
            args: &["256", "--cleartext-metadata"],
            user: "Kata sandi ü",
            revision: 6,
            method: CryptMethod::Aes256,
            encrypt_metadata: false,
        },
    ];

    fn qpdf_key(file: &Path, password: &str) -> String {
        let out = qpdf(&[
            "--show-encryption-key",
            "--show-encryption",
            &format!("--password={password}"),
            file.to_str().unwrap(),
        ]);
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("Encryption key = "))
            .unwrap_or_else(|| panic!("no key in {text}"));
        line.trim().to_string()
    }

    /// Appends an incremental update: object `info` replaced by our encryption of a new title,
    /// the page's content stream replaced by our encryption of new content.
    fn append_update(pdf: &[u8], h: &SecurityHandler, info: ObjRef, content: ObjRef) -> Vec<u8> {
        let mut out = pdf.to_vec();
        let prev = {
            let at = rfind(pdf, b"startxref").unwrap();
            let mut m = Mini { b: pdf, i: at + 9 };
            m.ws();
            std::str::from_utf8(m.token())
                .unwrap()
                .parse::<usize>()
                .unwrap()
        };
        let mut info_obj = Object::Dict(
            Dict::new()
                .with("Title", PdfString::literal(b"Signed (by) Paraf".to_vec()))
                .with("Producer", PdfString::literal(b"Paraf".to_vec())),
        );
        h.encrypt_object(info, &mut info_obj);
        let mut content_obj = Object::Stream(Stream {
            dict: Dict::new(),
            data: b"BT (Updated) Tj ET".to_vec(),
        });
        h.encrypt_object(content, &mut content_obj);
        let mut offs = Vec::new();
        for (r, o) in [(info, info_obj), (content, content_obj)] {
            offs.push((r, out.len()));
            out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
            o.write_to(&mut out);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n");
        for (r, off) in offs {
            out.extend_from_slice(format!("{} 1\n{off:010} {:05} n \n", r.num, r.gen).as_bytes());
        }
        let t = trailer(pdf).with("Prev", prev);
        out.extend_from_slice(b"trailer\n");
        Object::Dict(t).write_to(&mut out);
        out.extend_from_slice(format!("\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        out
    }

    #[test]
    fn qpdf_encrypted_files_open_decrypt_and_accept_our_updates() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.pdf");
        std::fs::write(&src, source_pdf()).unwrap();
        for (n, case) in CASES.iter().enumerate() {
            let what = format!("{:?} user {:?}", case.args, case.user);
            let enc = dir.path().join(format!("enc{n}.pdf"));
            let mut args = vec![
                "--allow-weak-crypto",
                "--static-id",
                "--object-streams=disable",
                "--compress-streams=n",
                "--decode-level=none",
                "--encrypt",
                case.user,
                "owner",
            ];
            args.extend_from_slice(case.args);
            args.extend_from_slice(&["--", src.to_str().unwrap(), enc.to_str().unwrap()]);
            let out = qpdf(&args);
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let pdf = std::fs::read(&enc).unwrap();
            let t = trailer(&pdf);
            let encrypt = deref(&pdf, t.get("Encrypt").unwrap());
            let encrypt = encrypt.as_dict().unwrap();
            let id0 = t.get("ID").unwrap().as_array().unwrap()[0]
                .as_string()
                .unwrap()
                .to_vec();
            let expected_key = qpdf_key(&enc, case.user);

            // User password.
            let h = SecurityHandler::open(encrypt, &id0, case.user.as_bytes())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(hex(&h.key), expected_key, "{what}");
            assert_eq!(h.revision(), case.revision, "{what}");
            assert_eq!(h.method(), case.method, "{what}");
            assert_eq!(h.string_method(), case.method, "{what}");
            assert_eq!(h.encrypts_metadata(), case.encrypt_metadata, "{what}");
            assert_eq!(h.permissions(), -4, "{what}");
            assert!(!h.opened_as_owner(), "{what}");

            // Owner password: same key.
            let ho = SecurityHandler::open(encrypt, &id0, b"owner").unwrap();
            assert!(ho.opened_as_owner(), "{what}");
            assert_eq!(ho.key, h.key, "{what}");

            // Wrong passwords.
            let e = SecurityHandler::open(encrypt, &id0, b"wrong").unwrap_err();
            assert_eq!(
                (e.kind, e.message.as_str()),
                (ErrorKind::BadPassword, "wrong password")
            );
            if !case.user.is_empty() {
                let e = SecurityHandler::open(encrypt, &id0, b"").unwrap_err();
                assert_eq!(e.kind, ErrorKind::BadPassword);
                assert_eq!(e.message, "the file is encrypted; a password is required");
            }

            // Decrypt what qpdf encrypted: the /Info title and the page content.
            let info_ref = t.get("Info").unwrap().as_ref().unwrap();
            let mut info = get(&pdf, info_ref);
            h.decrypt_object(info_ref, &mut info).unwrap();
            let title = info
                .as_dict()
                .unwrap()
                .get("Title")
                .unwrap()
                .as_string()
                .unwrap();
            assert_eq!(title, b"Paraf test title", "{what}");
            let root = deref(&pdf, t.get("Root").unwrap());
            let pages = deref(&pdf, root.as_dict().unwrap().get("Pages").unwrap());
            let kids = pages
                .as_dict()
                .unwrap()
                .get("Kids")
                .unwrap()
                .as_array()
                .unwrap();
            let page = deref(&pdf, &kids[0]);
            let content_ref = page
                .as_dict()
                .unwrap()
                .get("Contents")
                .unwrap()
                .as_ref()
                .unwrap();
            let mut content = get(&pdf, content_ref);
            h.decrypt_object(content_ref, &mut content).unwrap();
            assert_eq!(
                content.as_stream().unwrap().data,
                b"BT (Hello) Tj ET",
                "{what}"
            );

            // String round trip.
            let r = ObjRef::new(0x01_2345, 7);
            let ct = h.encrypt_string(r, b"roundtrip \x00\xff");
            assert_eq!(ho.decrypt_string(r, &ct).unwrap(), b"roundtrip \x00\xff");

            // What we encrypt, qpdf decrypts.
            let upd = dir.path().join(format!("upd{n}.pdf"));
            std::fs::write(&upd, append_update(&pdf, &h, info_ref, content_ref)).unwrap();
            let pw = format!("--password={}", case.user);
            let upd_s = upd.to_str().unwrap();
            let check = qpdf(&["--check", &pw, upd_s]);
            assert!(
                check.status.success(),
                "{what}: {}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            );
            let shown = qpdf(&[&pw, &format!("--show-object={}", info_ref.num), upd_s]);
            let shown = String::from_utf8_lossy(&shown.stdout);
            assert!(shown.contains(r"(Signed \(by\) Paraf)"), "{what}: {shown}");
            let data = qpdf(&[
                &pw,
                &format!("--show-object={}", content_ref.num),
                "--filtered-stream-data",
                upd_s,
            ]);
            assert!(data.status.success(), "{what}");
            assert_eq!(data.stdout, b"BT (Updated) Tj ET", "{what}");
        }
    }
}
