//! Incremental updates (§7.5.6): new and changed objects appended after the original bytes,
//! with a cross-reference section of the same kind as the file's newest one.
//!
//! **Invariant**: the original bytes are never modified; an update only appends. Earlier
//! signatures therefore keep covering exactly what they covered.

use std::collections::BTreeMap;

use crate::document::Document;
use crate::error::Result;
use crate::object::{Dict, ObjRef, Object, PdfString};
use crate::xref::XrefKind;

/// Objects to append to a document.
pub struct IncrementalUpdate<'a> {
    doc: &'a Document,
    next_num: u32,
    objects: BTreeMap<ObjRef, Body>,
    kind: XrefKind,
}

enum Body {
    Object(Object),
    /// Serialised already; written between `n g obj\n` and `\nendobj`.
    Raw(Vec<u8>),
}

/// The bytes an update appends and where each object's body starts in them.
pub struct AppendedUpdate {
    pub bytes: Vec<u8>,
    /// Offset (relative to the start of `bytes`) of the first byte after `n g obj\n`.
    pub body_offsets: BTreeMap<ObjRef, usize>,
}

impl<'a> IncrementalUpdate<'a> {
    pub fn new(doc: &'a Document) -> Self {
        Self {
            doc,
            next_num: doc.next_object_number(),
            objects: BTreeMap::new(),
            kind: doc.xref_kind(),
        }
    }

    pub fn document(&self) -> &Document {
        self.doc
    }

    /// Forces the kind of cross-reference section written.
    pub fn set_xref_kind(&mut self, kind: XrefKind) {
        self.kind = kind;
    }

    /// Reserves a new object number.
    pub fn alloc(&mut self) -> ObjRef {
        let r = ObjRef::new(self.next_num, 0);
        self.next_num += 1;
        r
    }

    /// Adds or replaces object `r`. Strings and streams are encrypted for encrypted documents.
    pub fn put(&mut self, r: ObjRef, obj: impl Into<Object>) {
        self.objects.insert(r, Body::Object(obj.into()));
    }

    /// Adds an object already serialised by the caller (who is responsible for encrypting it).
    pub fn put_raw(&mut self, r: ObjRef, body: Vec<u8>) {
        self.objects.insert(r, Body::Raw(body));
    }

    /// Encrypts a string for object `r` if the document is encrypted.
    pub fn string_for(&self, r: ObjRef, bytes: &[u8]) -> PdfString {
        match self.doc.security() {
            Some(c) => PdfString::hex(c.encrypt_string(r, bytes)),
            None => PdfString::literal(bytes.to_vec()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Dictionary `r` as this update leaves it: the one put here if any, else the document's.
    pub fn get_dict(&self, r: ObjRef) -> Result<Dict> {
        match self.objects.get(&r) {
            Some(Body::Object(Object::Dict(d))) => Ok(d.clone()),
            _ => self.doc.get_dict(r),
        }
    }

    /// The whole updated file: the original bytes and this update after them.
    pub fn finish_file(self) -> Result<Vec<u8>> {
        let doc = self.doc;
        let appended = self.finish()?;
        let mut pdf = Vec::with_capacity(doc.data().len() + appended.bytes.len());
        pdf.extend_from_slice(doc.data());
        pdf.extend_from_slice(&appended.bytes);
        Ok(pdf)
    }

    /// Serialises the update. `base_len` is where the appended bytes will start in the output
    /// (the original length; a newline is added first if the original does not end with one).
    pub fn finish(self) -> Result<AppendedUpdate> {
        let data = self.doc.data();
        let base_len = data.len();
        let mut out = Vec::new();
        if !matches!(data.last(), Some(b'\n') | Some(b'\r')) {
            out.push(b'\n');
        }
        let mut offsets: BTreeMap<u32, (usize, u16)> = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        let crypt = self.doc.security();
        for (r, body) in self.objects {
            offsets.insert(r.num, (base_len + out.len(), r.gen));
            out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
            body_offsets.insert(r, out.len());
            match body {
                Body::Object(mut o) => {
                    if let Some(c) = crypt {
                        c.encrypt_object(r, &mut o);
                    }
                    o.write_to(&mut out);
                }
                Body::Raw(b) => out.extend_from_slice(&b),
            }
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut trailer = Dict::new();
        let old = self.doc.trailer();
        for key in ["Root", "Info", "Encrypt"] {
            if let Some(v) = old.get(key) {
                trailer.set(key, v.clone());
            }
        }
        trailer.set("ID", new_id(old, &out));
        if let Some(prev) = self.doc.startxref() {
            trailer.set("Prev", prev as i64);
        }
        match self.kind {
            XrefKind::Table => {
                let size = self.next_num;
                trailer
                    .0
                    .insert(0, (b"Size".to_vec(), Object::Int(size as i64)));
                let xref_at = base_len + out.len();
                out.extend_from_slice(b"xref\n");
                for run in runs(&offsets) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                    for (_, (off, gen)) in run {
                        out.extend_from_slice(format!("{off:010} {gen:05} n\r\n").as_bytes());
                    }
                }
                out.extend_from_slice(b"trailer\n");
                Object::Dict(trailer).write_to(&mut out);
                out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
            }
            XrefKind::Stream => {
                let xref_num = self.next_num;
                let xref_at = base_len + out.len();
                offsets.insert(xref_num, (xref_at, 0));
                let size = xref_num + 1;
                let mut index = Vec::new();
                let mut rows = Vec::new();
                for run in runs(&offsets) {
                    index.push(Object::Int(run[0].0 as i64));
                    index.push(Object::Int(run.len() as i64));
                    for (_, (off, gen)) in run {
                        rows.push(1u8);
                        rows.extend_from_slice(&(off as u64).to_be_bytes()[3..]);
                        rows.extend_from_slice(&gen.to_be_bytes());
                    }
                }
                let mut dict = Dict::new()
                    .with("Type", Object::name("XRef"))
                    .with("Size", size as i64)
                    .with("W", vec![Object::Int(1), Object::Int(5), Object::Int(2)])
                    .with("Index", index);
                for (k, v) in trailer.0 {
                    dict.0.push((k, v));
                }
                out.extend_from_slice(format!("{xref_num} 0 obj\n").as_bytes());
                Object::Stream(crate::object::Stream { dict, data: rows }).write_to(&mut out);
                out.extend_from_slice(
                    format!("\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
                );
            }
        }
        Ok(AppendedUpdate {
            bytes: out,
            body_offsets,
        })
    }
}

/// Groups consecutive object numbers into xref subsections.
fn runs(offsets: &BTreeMap<u32, (usize, u16)>) -> Vec<Vec<(u32, (usize, u16))>> {
    let mut out: Vec<Vec<(u32, (usize, u16))>> = Vec::new();
    for (&n, &e) in offsets {
        match out.last_mut() {
            Some(run) if run.last().is_some_and(|(m, _)| m + 1 == n) => run.push((n, e)),
            _ => out.push(vec![(n, e)]),
        }
    }
    out
}

/// Keeps the permanent first /ID and derives a new second one from the update's bytes.
fn new_id(old: &Dict, update: &[u8]) -> Object {
    let first = old
        .get("ID")
        .and_then(Object::as_array)
        .and_then(|a| a.first())
        .and_then(Object::as_string)
        .map(<[u8]>::to_vec);
    let digest = md5_like(update);
    let first = first.unwrap_or_else(|| digest.clone());
    Object::Array(vec![
        Object::String(PdfString::hex(first)),
        Object::String(PdfString::hex(digest)),
    ])
}

/// A 16-byte fingerprint of the update (FNV-1a in two lanes). The /ID only has to change
/// between revisions; it is not a security property, so no cryptographic hash is needed.
fn md5_like(b: &[u8]) -> Vec<u8> {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for &c in b {
        h1 = (h1 ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3);
        h2 = (h2 ^ (c as u64).rotate_left(3)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut v = h1.to_be_bytes().to_vec();
    v.extend_from_slice(&h2.to_be_bytes());
    v
}

/// A whole new file from serialised object bodies (object `i + 1` is `bodies[i]`), with a
/// classic cross-reference table and a trailer naming `trailer` (e.g. `/Root 1 0 R`) — for
/// the small documents Paraf makes from nothing.
pub fn new_document(bodies: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", bodies.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} {trailer} >>\nstartxref\n{xref}\n%%EOF\n",
            bodies.len() + 1
        )
        .as_bytes(),
    );
    out
}
