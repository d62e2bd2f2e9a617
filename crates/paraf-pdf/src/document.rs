//! A PDF document opened lazily: cross-reference data up front, objects on demand.
//!
//! **Invariant**: [`Document::get`] returns objects decrypted (strings and stream data) but still
//! filtered; [`Document::decode_stream`] applies the filters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::crypt::SecurityHandler;
use crate::error::{ErrorKind, PdfError, Result};
use crate::filter;
use crate::object::{Dict, ObjRef, Object, Stream};
use crate::parser::{parse_indirect, Lexer};
use crate::xref::{self, XrefEntry, XrefKind, XrefTable};

/// Deepest chain of references we follow when resolving, and deepest page tree.
const MAX_RESOLVE: usize = 64;

/// A decoded object stream: its data and the (number, offset) header pairs.
struct ObjStm {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// A page with its inherited attributes resolved.
#[derive(Clone, Debug)]
pub struct Page {
    pub id: ObjRef,
    pub dict: Dict,
    pub media_box: [f64; 4],
    /// The visible area: CropBox clipped to MediaBox (MediaBox when absent).
    pub crop_box: [f64; 4],
    /// Rotation in degrees, normalised to 0, 90, 180 or 270.
    pub rotate: i64,
    pub resources: Dict,
}

pub struct Document {
    data: Vec<u8>,
    xref: XrefTable,
    crypt: Option<SecurityHandler>,
    encrypt_ref: Option<ObjRef>,
    /// The password the file was opened with, to reopen it after an update.
    password: Vec<u8>,
    /// Built on first need when an xref offset turns out wrong.
    recovered: Mutex<Option<Arc<XrefTable>>>,
    objstm_cache: Mutex<HashMap<u32, Arc<ObjStm>>>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("len", &self.data.len())
            .field("objects", &self.xref.entries.len())
            .field("encrypted", &self.crypt.is_some())
            .finish()
    }
}

impl Document {
    /// Opens a PDF held in memory. `password` is tried for encrypted files (empty if `None`).
    pub fn load(data: Vec<u8>, password: Option<&[u8]>) -> Result<Self> {
        let header = data
            .get(..1024.min(data.len()))
            .and_then(|h| crate::parser::find(h, b"%PDF-"));
        if header.is_none() {
            return Err(PdfError::new(
                ErrorKind::NotPdf,
                "not a PDF file (no %PDF- header)",
            ));
        }
        let xref = match xref::find_startxref(&data).and_then(|s| xref::read_chain(&data, s)) {
            Ok(t) if t.trailer.contains("Root") => t,
            _ => xref::recover(&data)?,
        };
        let mut doc = Document {
            data,
            xref,
            crypt: None,
            encrypt_ref: None,
            password: password.unwrap_or(b"").to_vec(),
            recovered: Mutex::new(None),
            objstm_cache: Mutex::new(HashMap::new()),
        };
        if !doc.xref.trailer.contains("Root") {
            doc.find_root_by_scanning()?;
        }
        doc.open_encryption(password.unwrap_or(b""))?;
        // Check that the catalog can be read: a wrong xref is found here, not later.
        let root = doc.catalog_ref()?;
        if doc
            .get(root)
            .ok()
            .and_then(|o| o.as_dict().cloned())
            .is_none()
            && !doc.xref.recovered
        {
            let rec = xref::recover(&doc.data)?;
            doc.xref.entries = rec.entries;
            doc.xref.recovered = true;
        }
        doc.catalog()?;
        Ok(doc)
    }

    fn find_root_by_scanning(&mut self) -> Result<()> {
        let nums: Vec<u32> = self.xref.entries.keys().copied().collect();
        for n in nums.into_iter().rev() {
            let Some(XrefEntry::InFile { gen, .. }) = self.xref.entries.get(&n).copied() else {
                continue;
            };
            let r = ObjRef::new(n, gen);
            if let Ok(Object::Dict(d)) = self.get_raw(r) {
                if d.name("Type") == Some(b"Catalog") {
                    self.xref.trailer.set("Root", Object::Ref(r));
                    return Ok(());
                }
            }
        }
        Err(PdfError::structure("the file has no document catalog"))
    }

    fn open_encryption(&mut self, password: &[u8]) -> Result<()> {
        let Some(enc) = self.xref.trailer.get("Encrypt").cloned() else {
            return Ok(());
        };
        self.encrypt_ref = enc.as_ref();
        let dict = match enc {
            Object::Ref(r) => self.get_raw(r)?,
            o => o,
        };
        let Some(dict) = dict.as_dict() else {
            if dict.is_null() {
                // `/Encrypt null` (or a reference to nothing): the file is not encrypted.
                self.encrypt_ref = None;
                return Ok(());
            }
            return Err(PdfError::structure("/Encrypt is not a dictionary"));
        };
        let id0 = self
            .xref
            .trailer
            .get("ID")
            .and_then(Object::as_array)
            .and_then(|a| a.first())
            .and_then(Object::as_string)
            .unwrap_or(b"")
            .to_vec();
        self.crypt = Some(SecurityHandler::open(dict, &id0, password)?);
        Ok(())
    }

    /// The password this document was opened with (empty when none), to open the file again
    /// after an update was appended to it.
    pub fn password(&self) -> &[u8] {
        &self.password
    }

    /// The raw bytes of the file.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The merged trailer dictionary.
    pub fn trailer(&self) -> &Dict {
        &self.xref.trailer
    }

    pub fn xref(&self) -> &XrefTable {
        &self.xref
    }

    /// The security handler of an encrypted file.
    pub fn security(&self) -> Option<&SecurityHandler> {
        self.crypt.as_ref()
    }

    pub fn encrypt_ref(&self) -> Option<ObjRef> {
        self.encrypt_ref
    }

    /// How the newest cross-reference section is written (an update should match it).
    pub fn xref_kind(&self) -> XrefKind {
        self.xref
            .sections
            .first()
            .map_or(XrefKind::Table, |s| s.kind)
    }

    /// Offset of the newest cross-reference section, for an update's `/Prev`.
    pub fn startxref(&self) -> Option<usize> {
        (!self.xref.recovered).then_some(self.xref.startxref)
    }

    pub fn next_object_number(&self) -> u32 {
        xref::next_object_number(&self.xref)
    }

    pub fn catalog_ref(&self) -> Result<ObjRef> {
        self.xref
            .trailer
            .get("Root")
            .and_then(Object::as_ref)
            .ok_or_else(|| PdfError::structure("trailer has no /Root reference"))
    }

    pub fn catalog(&self) -> Result<Dict> {
        self.get_dict(self.catalog_ref()?)
    }

    /// Reads object `r`, decrypted. A missing object is `null` (§7.3.10).
    pub fn get(&self, r: ObjRef) -> Result<Object> {
        let mut o = self.get_raw(r)?;
        if let Some(c) = &self.crypt {
            let is_xref = matches!(&o, Object::Stream(s) if s.dict.name("Type") == Some(b"XRef"));
            let in_objstm = matches!(
                self.xref.entries.get(&r.num),
                Some(XrefEntry::InStream { .. })
            );
            if Some(r) != self.encrypt_ref && !is_xref && !in_objstm {
                c.decrypt_object(r, &mut o)?;
            }
        }
        Ok(o)
    }

    /// Reads `r` and requires a dictionary (a stream's dictionary counts).
    pub fn get_dict(&self, r: ObjRef) -> Result<Dict> {
        match self.get(r)? {
            Object::Dict(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            _ => Err(PdfError::structure(format!(
                "object {r} is not a dictionary"
            ))),
        }
    }

    /// Follows references until a direct object.
    pub fn resolve(&self, o: &Object) -> Result<Object> {
        let mut cur = o.clone();
        for _ in 0..MAX_RESOLVE {
            match cur {
                Object::Ref(r) => cur = self.get(r)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::structure("reference chain too long"))
    }

    /// Resolves `dict[key]`.
    pub fn resolve_key(&self, dict: &Dict, key: &str) -> Result<Object> {
        match dict.get(key) {
            Some(o) => self.resolve(o),
            None => Ok(Object::Null),
        }
    }

    /// The stream's data with its filters applied.
    pub fn decode_stream(&self, s: &Stream) -> Result<Vec<u8>> {
        filter::decode(&s.dict, &s.data)
    }

    fn get_raw(&self, r: ObjRef) -> Result<Object> {
        match self.xref.entries.get(&r.num).copied() {
            None | Some(XrefEntry::Free) => self.get_recovered(r),
            Some(XrefEntry::InFile { offset, gen }) => {
                if gen != r.gen {
                    return Ok(Object::Null);
                }
                match self.parse_at(offset) {
                    Ok(io) if io.id.num == r.num => Ok(io.object),
                    _ => self.get_recovered(r),
                }
            }
            Some(XrefEntry::InStream { stream, index }) => {
                self.get_from_objstm(r.num, stream, index)
            }
        }
    }

    fn parse_at(&self, offset: usize) -> Result<crate::parser::IndirectObject> {
        let lengths = |lr: ObjRef| -> Option<i64> {
            match self.xref.entries.get(&lr.num)? {
                XrefEntry::InFile { offset, .. } => {
                    crate::parser::int_object_at(&self.data, *offset)
                }
                _ => None,
            }
        };
        parse_indirect(&self.data, offset, &lengths)
    }

    /// Last resort for an object the xref gets wrong: the scanned index.
    fn get_recovered(&self, r: ObjRef) -> Result<Object> {
        let table = {
            let mut guard = self
                .recovered
                .lock()
                .map_err(|_| PdfError::structure("internal lock poisoned"))?;
            if guard.is_none() {
                *guard = Some(Arc::new(xref::recover(&self.data).unwrap_or(XrefTable {
                    entries: Default::default(),
                    trailer: Dict::new(),
                    sections: Vec::new(),
                    startxref: 0,
                    recovered: true,
                })));
            }
            guard.clone()
        };
        let Some(table) = table else {
            return Ok(Object::Null);
        };
        match table.entries.get(&r.num) {
            Some(XrefEntry::InFile { offset, .. }) => match self.parse_at(*offset) {
                Ok(io) if io.id == r => Ok(io.object),
                _ => Ok(Object::Null),
            },
            _ => Ok(Object::Null),
        }
    }

    fn get_from_objstm(&self, num: u32, stream: u32, index: u32) -> Result<Object> {
        let stm = self.objstm(stream)?;
        let pos = crate::parser::objstm_position(&stm.offsets, stm.first, num, index);
        let Some(pos) = pos else {
            return Ok(Object::Null);
        };
        if pos >= stm.data.len() {
            return Err(PdfError::structure(format!(
                "object {num} lies outside its object stream {stream}"
            )));
        }
        Lexer::new(&stm.data, pos).object()
    }

    fn objstm(&self, stream: u32) -> Result<Arc<ObjStm>> {
        if let Ok(cache) = self.objstm_cache.lock() {
            if let Some(s) = cache.get(&stream) {
                return Ok(s.clone());
            }
        }
        let Some(XrefEntry::InFile { gen, .. }) = self.xref.entries.get(&stream).copied() else {
            return Err(PdfError::structure(format!(
                "object stream {stream} not found"
            )));
        };
        let Object::Stream(s) = self.get(ObjRef::new(stream, gen))? else {
            return Err(PdfError::structure(format!(
                "object {stream} is not an object stream"
            )));
        };
        let data = filter::decode(&s.dict, &s.data)?;
        let n = s.dict.int("N").unwrap_or(0).clamp(0, 1_000_000) as usize;
        let first = s.dict.int("First").unwrap_or(0).max(0) as usize;
        let mut lx = Lexer::new(&data[..first.min(data.len())], 0);
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            let (Some(num), Some(off)) = (lx.uint(), lx.uint()) else {
                break;
            };
            offsets.push((u32::try_from(num).unwrap_or(u32::MAX), off as usize));
        }
        let parsed = Arc::new(ObjStm {
            data,
            first,
            offsets,
        });
        if let Ok(mut cache) = self.objstm_cache.lock() {
            cache.insert(stream, parsed.clone());
        }
        Ok(parsed)
    }

    /// All pages in order, with inherited attributes.
    pub fn pages(&self) -> Result<Vec<Page>> {
        let cat = self.catalog()?;
        let root = cat
            .get("Pages")
            .and_then(Object::as_ref)
            .ok_or_else(|| PdfError::structure("catalog has no /Pages"))?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.walk_pages(root, &Inherited::default(), &mut out, &mut seen, 0)?;
        Ok(out)
    }

    /// Page `n` (1-based), with a clear error when it does not exist.
    pub fn page(&self, n: usize) -> Result<Page> {
        let pages = self.pages()?;
        let count = pages.len();
        if n == 0 || n > count {
            return Err(PdfError::new(
                ErrorKind::InvalidInput,
                format!("page {n} is out of range: the document has {count} page(s)"),
            ));
        }
        pages
            .into_iter()
            .nth(n - 1)
            .ok_or_else(|| PdfError::structure("page list changed"))
    }

    fn walk_pages(
        &self,
        node: ObjRef,
        inh: &Inherited,
        out: &mut Vec<Page>,
        seen: &mut std::collections::HashSet<ObjRef>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_RESOLVE || !seen.insert(node) {
            return Err(PdfError::structure("page tree loops or is too deep"));
        }
        let dict = self.get_dict(node)?;
        let mut here = inh.clone();
        if let Some(o) = dict.get("MediaBox") {
            here.media_box = self.rect(o).or(here.media_box);
        }
        if let Some(o) = dict.get("CropBox") {
            here.crop_box = self.rect(o).or(here.crop_box);
        }
        if let Some(o) = dict.get("Rotate") {
            here.rotate = self.resolve(o)?.as_int().or(here.rotate);
        }
        if let Some(o) = dict.get("Resources") {
            if let Object::Dict(d) = self.resolve(o)? {
                here.resources = Some(d);
            }
        }
        let is_pages = dict.name("Type") == Some(b"Pages")
            || (dict.contains("Kids") && dict.name("Type") != Some(b"Page"));
        if is_pages {
            let kids = self.resolve_key(&dict, "Kids")?;
            for k in kids.as_array().unwrap_or(&[]) {
                if let Some(r) = k.as_ref() {
                    self.walk_pages(r, &here, out, seen, depth + 1)?;
                }
            }
        } else {
            let media_box = here.media_box.unwrap_or([0.0, 0.0, 612.0, 792.0]);
            let media_box = normalise_rect(media_box);
            let crop_box = here
                .crop_box
                .map(normalise_rect)
                .map(|c| intersect(c, media_box))
                .unwrap_or(media_box);
            out.push(Page {
                id: node,
                dict,
                media_box,
                crop_box,
                rotate: here.rotate.unwrap_or(0).rem_euclid(360) / 90 * 90,
                resources: here.resources.unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// Reads a rectangle `[llx lly urx ury]`, resolving references.
    pub fn rect(&self, o: &Object) -> Option<[f64; 4]> {
        let a = self.resolve(o).ok()?;
        let a = a.as_array()?;
        if a.len() != 4 {
            return None;
        }
        let mut r = [0.0; 4];
        for (i, v) in a.iter().enumerate() {
            r[i] = self.resolve(v).ok()?.as_f64()?;
        }
        Some(r)
    }

    /// Offsets just past each `%%EOF` marker (the ends of the incremental revisions).
    pub fn revision_ends(&self) -> Vec<usize> {
        let d = &self.data;
        let mut ends = Vec::new();
        let mut i = 0;
        while let Some(p) = crate::parser::find(&d[i..], b"%%EOF") {
            let mut end = i + p + 5;
            if d.get(end) == Some(&b'\r') {
                end += 1;
            }
            if d.get(end) == Some(&b'\n') {
                end += 1;
            }
            ends.push(end);
            i = i + p + 5;
        }
        ends
    }
}

#[derive(Clone, Default)]
struct Inherited {
    media_box: Option<[f64; 4]>,
    crop_box: Option<[f64; 4]>,
    rotate: Option<i64>,
    resources: Option<Dict>,
}

fn normalise_rect(r: [f64; 4]) -> [f64; 4] {
    [
        r[0].min(r[2]),
        r[1].min(r[3]),
        r[0].max(r[2]),
        r[1].max(r[3]),
    ]
}

fn intersect(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    let r = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    if r[0] >= r[2] || r[1] >= r[3] {
        b
    } else {
        r
    }
}
