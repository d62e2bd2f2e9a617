//! The document as it was at the end of an earlier revision: a [`View`] built from the
//! cross-reference sections that precede a byte offset, reading objects straight from the
//! file bytes (no copy of the file), and [`Revisions`], the list of revision ends.
//!
//! **Invariant**: a view never reads an object whose bytes start at or after its cutoff: what
//! a signed revision "contains" is only what lies inside it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use paraf_pdf::parser::{parse_indirect, Lexer};
use paraf_pdf::xref::XrefEntry;
use paraf_pdf::{filter, Dict, Document, ObjRef, Object};

/// Most objects we walk when computing reachability (bounds work on hostile files).
const MAX_WALK: usize = 2_000_000;

/// One incremental revision: where its cross-reference sections are and where it ends.
#[derive(Clone, Debug)]
pub struct Revision {
    /// Offset just past this revision's `%%EOF` (and its end-of-line).
    pub end: usize,
    /// Offsets of the cross-reference sections that belong to it.
    pub sections: Vec<usize>,
}

/// The revisions of a file, oldest first.
#[derive(Clone, Debug)]
pub struct Revisions {
    pub list: Vec<Revision>,
}

impl Revisions {
    /// Groups the file's cross-reference sections by the `%%EOF` that follows each.
    pub fn of(doc: &Document) -> Self {
        let data = doc.data();
        let mut by_end: BTreeMap<usize, Revision> = BTreeMap::new();
        for s in &doc.xref().sections {
            let end = eof_after(data, s.offset).unwrap_or(data.len());
            let rev = by_end.entry(end).or_insert_with(|| Revision {
                end,
                sections: Vec::new(),
            });
            rev.sections.push(s.offset);
        }
        Revisions {
            list: by_end.into_values().collect(),
        }
    }

    /// 1-based number of the revision that ends exactly at `end`.
    pub fn number_ending_at(&self, end: usize) -> Option<usize> {
        self.list.iter().position(|r| r.end == end).map(|i| i + 1)
    }
}

/// Offset just past the first `%%EOF` (plus CR/LF) at or after `from`.
pub fn eof_after(data: &[u8], from: usize) -> Option<usize> {
    let hay = data.get(from..)?;
    let p = memfind(hay, b"%%EOF")?;
    let mut end = from + p + 5;
    if data.get(end) == Some(&b'\r') {
        end += 1;
    }
    if data.get(end) == Some(&b'\n') {
        end += 1;
    }
    Some(end)
}

/// Whether `data[..end]` ends with `%%EOF` and at most an end-of-line.
pub fn ends_at_eof(data: &[u8], end: usize) -> bool {
    let Some(mut d) = data.get(..end) else {
        return false;
    };
    for _ in 0..2 {
        if let Some((&last, rest)) = d.split_last() {
            if last == b'\n' || last == b'\r' {
                d = rest;
            }
        }
    }
    d.ends_with(b"%%EOF")
}

/// Fast substring search: first byte with `memchr`-like scanning via `position`.
pub fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = 0;
    while i < hay.len() {
        let p = hay.get(i..)?.iter().position(|&c| c == first)?;
        let at = i + p;
        if hay.get(at + 1..at + 1 + rest.len()) == Some(rest) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

struct ObjStm {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<(u32, usize)>,
}

/// The document as of the cross-reference sections that start before `cutoff`.
pub struct View<'d> {
    doc: &'d Document,
    pub cutoff: usize,
    pub entries: BTreeMap<u32, XrefEntry>,
    pub trailer: Dict,
    cache: RefCell<HashMap<u32, Rc<Object>>>,
    objstm: RefCell<HashMap<u32, Option<Rc<ObjStm>>>>,
    reachable: RefCell<Option<Rc<HashSet<u32>>>>,
    content: RefCell<Option<Rc<HashSet<u32>>>>,
}

impl<'d> View<'d> {
    /// The view of revision ending at `cutoff` (sections whose offset is below it).
    pub fn new(doc: &'d Document, cutoff: usize) -> Self {
        let (entries, trailer) = paraf_pdf::xref::merge_sections(
            doc.xref().sections.iter().filter(|s| s.offset < cutoff),
        );
        View {
            doc,
            cutoff,
            entries,
            trailer,
            cache: RefCell::new(HashMap::new()),
            objstm: RefCell::new(HashMap::new()),
            reachable: RefCell::new(None),
            content: RefCell::new(None),
        }
    }

    pub fn root_ref(&self) -> Option<ObjRef> {
        self.trailer.get("Root").and_then(Object::as_ref)
    }

    /// Whether `num` is listed (and not free) in this view.
    pub fn has(&self, num: u32) -> bool {
        matches!(
            self.entries.get(&num),
            Some(XrefEntry::InFile { .. } | XrefEntry::InStream { .. })
        )
    }

    /// The reference under which `num` is listed.
    pub fn ref_of(&self, num: u32) -> Option<ObjRef> {
        match self.entries.get(&num)? {
            XrefEntry::InFile { gen, .. } => Some(ObjRef::new(num, *gen)),
            XrefEntry::InStream { .. } => Some(ObjRef::new(num, 0)),
            XrefEntry::Free => None,
        }
    }

    /// Object `num` as this revision has it (decrypted, still filtered); `Null` if absent.
    pub fn get_num(&self, num: u32) -> Rc<Object> {
        if let Some(o) = self.cache.borrow().get(&num) {
            return o.clone();
        }
        let o = Rc::new(self.load(num, false).unwrap_or(Object::Null));
        self.cache.borrow_mut().insert(num, o.clone());
        o
    }

    /// Reads `r`; a generation mismatch gives `Null`.
    pub fn get(&self, r: ObjRef) -> Rc<Object> {
        match self.ref_of(r.num) {
            Some(listed) if listed.gen == r.gen => self.get_num(r.num),
            _ => Rc::new(Object::Null),
        }
    }

    /// Follows references (bounded) to a direct object.
    pub fn resolve(&self, o: &Object) -> Object {
        let mut cur = o.clone();
        for _ in 0..32 {
            match cur {
                Object::Ref(r) => cur = (*self.get(r)).clone(),
                other => return other,
            }
        }
        Object::Null
    }

    /// `dict[key]` resolved.
    pub fn resolve_key(&self, d: &Dict, key: &str) -> Object {
        d.get(key).map_or(Object::Null, |o| self.resolve(o))
    }

    /// A dictionary (a stream's dictionary counts) or an empty one.
    pub fn dict(&self, o: &Object) -> Option<Dict> {
        match self.resolve(o) {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(s.dict),
            _ => None,
        }
    }

    pub fn catalog(&self) -> Option<Dict> {
        self.dict(&Object::Ref(self.root_ref()?))
    }

    fn load(&self, num: u32, dict_only: bool) -> Option<Object> {
        match *self.entries.get(&num)? {
            XrefEntry::Free => None,
            XrefEntry::InFile { offset, gen } => {
                if offset >= self.cutoff {
                    return None;
                }
                let data = self.doc.data();
                let mut o = if dict_only {
                    let mut lx = Lexer::new(data, offset);
                    let n = lx.uint()?;
                    lx.uint()?;
                    if n != u64::from(num) || !lx.eat_keyword(b"obj") {
                        return None;
                    }
                    lx.object().ok()?
                } else {
                    let lengths = |lr: ObjRef| -> Option<i64> {
                        match self.entries.get(&lr.num)? {
                            XrefEntry::InFile { offset, .. } => {
                                paraf_pdf::parser::int_object_at(data, *offset)
                            }
                            _ => None,
                        }
                    };
                    let io = parse_indirect(data, offset, &lengths).ok()?;
                    if io.id.num != num {
                        return None;
                    }
                    io.object
                };
                let r = ObjRef::new(num, gen);
                if let Some(c) = self.doc.security() {
                    let is_xref =
                        matches!(&o, Object::Stream(s) if s.dict.name("Type") == Some(b"XRef"));
                    if Some(r) != self.doc.encrypt_ref() && !is_xref && !dict_only {
                        c.decrypt_object(r, &mut o).ok()?;
                    }
                }
                Some(o)
            }
            XrefEntry::InStream { stream, index } => {
                let stm = self.objstm(stream)?;
                let pos = paraf_pdf::parser::objstm_position(&stm.offsets, stm.first, num, index)?;
                if pos >= stm.data.len() {
                    return None;
                }
                Lexer::new(&stm.data, pos).object().ok()
            }
        }
    }

    fn objstm(&self, stream: u32) -> Option<Rc<ObjStm>> {
        if let Some(s) = self.objstm.borrow().get(&stream) {
            return s.clone();
        }
        let parsed = (|| {
            let obj = self.get_num(stream);
            let s = obj.as_stream()?;
            let data = filter::decode(&s.dict, &s.data).ok()?;
            let n = s.dict.int("N").unwrap_or(0).clamp(0, 1_000_000) as usize;
            let first = usize::try_from(s.dict.int("First").unwrap_or(0).max(0)).ok()?;
            let head = data.get(..first.min(data.len()))?;
            let mut lx = Lexer::new(head, 0);
            let mut offsets = Vec::with_capacity(n.min(10_000));
            for _ in 0..n {
                let (Some(num), Some(off)) = (lx.uint(), lx.uint()) else {
                    break;
                };
                offsets.push((
                    u32::try_from(num).unwrap_or(u32::MAX),
                    usize::try_from(off).unwrap_or(usize::MAX),
                ));
            }
            Some(Rc::new(ObjStm {
                data,
                first,
                offsets,
            }))
        })();
        self.objstm.borrow_mut().insert(stream, parsed.clone());
        parsed
    }

    /// Object numbers reachable from the trailer (`/Root`, `/Info`, `/Encrypt`).
    pub fn reachable(&self) -> Rc<HashSet<u32>> {
        if let Some(r) = self.reachable.borrow().as_ref() {
            return r.clone();
        }
        let mut stack: Vec<u32> = Vec::new();
        for k in ["Root", "Info", "Encrypt"] {
            if let Some(r) = self.trailer.get(k).and_then(Object::as_ref) {
                stack.push(r.num);
            }
        }
        let rc = Rc::new(self.reachable_from(stack));
        *self.reachable.borrow_mut() = Some(rc.clone());
        rc
    }

    /// What the document shows: the catalog and every object reachable from it except
    /// through `/DSS` and `/Metadata` (and never the trailer's `/Info`). The rules for those
    /// containers may not account for a change to any of these objects. Walked once per view.
    pub fn content_objects(&self) -> Rc<HashSet<u32>> {
        if let Some(c) = self.content.borrow().as_ref() {
            return c.clone();
        }
        let Some(root) = self.root_ref() else {
            return Rc::new(HashSet::new());
        };
        let mut stack = Vec::new();
        let mut refs = Vec::new();
        if let Some(cat) = self.catalog() {
            for (k, v) in cat.iter() {
                if k == b"DSS" || k == b"Metadata" {
                    continue;
                }
                refs.clear();
                collect_refs(v, &mut refs, 0);
                stack.extend(refs.iter().map(|r| r.num));
            }
        }
        let mut out = self.reachable_from(stack);
        out.insert(root.num);
        let rc = Rc::new(out);
        *self.content.borrow_mut() = Some(rc.clone());
        rc
    }

    fn reachable_from(&self, mut stack: Vec<u32>) -> HashSet<u32> {
        let mut seen: HashSet<u32> = HashSet::new();
        let mut refs = Vec::new();
        while let Some(n) = stack.pop() {
            if seen.len() >= MAX_WALK || !self.has(n) || !seen.insert(n) {
                continue;
            }
            // Dictionaries only: the refs of a stream are in its dictionary.
            let o = self.cache.borrow().get(&n).map(|o| (**o).clone());
            let o = match o {
                Some(o) => Some(o),
                None => self.load(n, true),
            };
            if let Some(o) = o {
                refs.clear();
                collect_refs(&o, &mut refs, 0);
                stack.extend(refs.iter().map(|r| r.num));
            }
        }
        seen
    }

    /// The page objects in order (refs), walking `/Kids` with loop protection.
    pub fn page_refs(&self) -> Vec<ObjRef> {
        let mut out = Vec::new();
        let Some(cat) = self.catalog() else {
            return out;
        };
        let Some(root) = cat.get("Pages").and_then(Object::as_ref) else {
            return out;
        };
        let mut seen = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((r, depth)) = stack.pop() {
            if depth > 64 || !seen.insert(r) || seen.len() > 1_000_000 {
                continue;
            }
            let Some(d) = self.dict(&Object::Ref(r)) else {
                continue;
            };
            let is_pages = d.name("Type") == Some(b"Pages")
                || (d.contains("Kids") && d.name("Type") != Some(b"Page"));
            if is_pages {
                let kids = self.resolve_key(&d, "Kids");
                for k in kids.as_array().unwrap_or(&[]).iter().rev() {
                    if let Some(kr) = k.as_ref() {
                        stack.push((kr, depth + 1));
                    }
                }
            } else {
                out.push(r);
            }
        }
        out
    }
}

/// Every indirect reference inside `o` (nesting bounded).
pub fn collect_refs(o: &Object, out: &mut Vec<ObjRef>, depth: usize) {
    if depth > 64 {
        return;
    }
    match o {
        Object::Ref(r) => out.push(*r),
        Object::Array(a) => a.iter().for_each(|x| collect_refs(x, out, depth + 1)),
        Object::Dict(d) => d.iter().for_each(|(_, v)| collect_refs(v, out, depth + 1)),
        Object::Stream(s) => s
            .dict
            .iter()
            .for_each(|(_, v)| collect_refs(v, out, depth + 1)),
        _ => {}
    }
}
