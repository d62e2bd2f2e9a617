//! Fonts as far as text extraction needs them (ISO 32000-2 §9.5–9.10): how shown string bytes
//! split into character codes, what Unicode text each code stands for, and how wide it is.
//!
//! Font programs are not read (one exception: the built-in encoding in the clear-text part of an
//! embedded Type 1 font). What we use:
//!
//! * **Simple fonts** (Type 1, TrueType, Type 3; §9.6): one byte per code; `/Encoding` (a base
//!   encoding and `/Differences`, glyph names mapped through the Adobe Glyph List); `/Widths` and
//!   `/FirstChar`, `/MissingWidth`; for the standard 14 fonts without `/Widths`, their built-in
//!   metrics; `/FontMatrix` of Type 3 fonts.
//! * **Composite fonts** (Type 0; §9.7): the `/Encoding` CMap (`Identity-H`/`-V`, an embedded
//!   CMap stream with `cidchar`/`cidrange`; other predefined CMaps are treated as Identity), the
//!   descendant CIDFont's `/W` and `/DW`, and `/DW2` for vertical writing.
//! * **`/ToUnicode`** CMaps (§9.10.3) for both: `bfchar`, `bfrange` (with the array form) and
//!   code space ranges. They win over everything else.
//!
//! Loading never fails: a damaged font dictionary gives a font with default metrics whose
//! unmapped codes decode to U+FFFD.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::content::parse_content;
use crate::document::Document;
use crate::object::{Dict, Object};
use crate::text::{encodings, std14};

/// Fallback ascent and descent, in units of the font size.
const DEFAULT_ASCENT: f64 = 0.8;
const DEFAULT_DESCENT: f64 = -0.2;

/// Entries expanded from one `bfrange`/`cidrange` array form at most (protects memory).
const MAX_RANGE_ARRAY: usize = 65_536;

/// What kind of font dictionary this was (`/Subtype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FontKind {
    Type1,
    TrueType,
    Type3,
    Type0,
    /// Anything else, read as a simple font.
    Other,
}

/// A font reduced to what maps shown bytes to text and positions.
#[derive(Clone, Debug)]
pub struct Font {
    pub kind: FontKind,
    /// `/BaseFont` without a subset prefix (`ABCDEF+`).
    pub base_font: String,
    /// Simple fonts: Unicode by code, from the encoding (ToUnicode is consulted first).
    simple_unicode: Vec<Option<Box<str>>>,
    /// Simple fonts: horizontal advance by code, in text space units per unit of font size.
    simple_widths: Vec<f64>,
    /// Composite fonts: the code-to-CID CMap (`None` is Identity, two bytes per code).
    encoding_cmap: Option<CMap>,
    /// Composite fonts whose predefined CMap maps codes to UCS-2 (`UniGB-UCS2-H` …).
    ucs2_codes: bool,
    cid_widths: CidWidths,
    to_unicode: Option<CMap>,
    vertical: bool,
    /// Vertical advance `w1` of composite fonts (from `/DW2`), units of font size (usually -1).
    vertical_advance: f64,
    ascent: f64,
    descent: f64,
}

/// `/W` of a CIDFont as sorted, non-empty ranges `(first, last, width)`, plus `/DW`.
#[derive(Clone, Debug, Default)]
struct CidWidths {
    ranges: Vec<(u32, u32, f64)>,
    default: f64,
}

impl CidWidths {
    fn get(&self, cid: u32) -> f64 {
        let i = self.ranges.partition_point(|r| r.0 <= cid);
        match i.checked_sub(1).and_then(|i| self.ranges.get(i)) {
            Some(&(_, last, w)) if cid <= last => w,
            _ => self.default,
        }
    }
}

impl Font {
    /// A font for a `Tf` whose font cannot be found: Helvetica, StandardEncoding.
    pub fn fallback() -> Self {
        let std = Std14::Helvetica;
        let enc = &encodings::STANDARD;
        let names: Vec<Option<&str>> = enc.iter().map(|n| (!n.is_empty()).then_some(*n)).collect();
        Font {
            kind: FontKind::Type1,
            base_font: "Helvetica".into(),
            simple_unicode: names
                .iter()
                .map(|n| n.and_then(glyph_to_unicode).map(String::into_boxed_str))
                .collect(),
            simple_widths: (0..256u32)
                .map(|c| {
                    std.width(c, names.get(c as usize).copied().flatten())
                        .unwrap_or(0.0)
                })
                .collect(),
            encoding_cmap: None,
            ucs2_codes: false,
            cid_widths: CidWidths::default(),
            to_unicode: None,
            vertical: false,
            vertical_advance: -1.0,
            ascent: std.ascent(),
            descent: std.descent(),
        }
    }

    /// Reads a font dictionary (or a reference to one). Never fails; see the module docs.
    pub fn load(doc: &Document, font: &Object) -> Self {
        let dict = match doc.resolve(font) {
            Ok(Object::Dict(d)) => d,
            Ok(Object::Stream(s)) => s.dict,
            _ => return Self::fallback(),
        };
        let kind = match dict.name("Subtype") {
            Some(b"Type1") | Some(b"MMType1") => FontKind::Type1,
            Some(b"TrueType") => FontKind::TrueType,
            Some(b"Type3") => FontKind::Type3,
            Some(b"Type0") => FontKind::Type0,
            _ => FontKind::Other,
        };
        let base_font = dict
            .name("BaseFont")
            .map(|n| String::from_utf8_lossy(strip_subset(n)).into_owned())
            .unwrap_or_default();
        let to_unicode = match doc.resolve_key(&dict, "ToUnicode") {
            Ok(Object::Stream(s)) => doc.decode_stream(&s).ok().map(|d| CMap::parse(&d)),
            _ => None,
        };
        let mut f = Font {
            kind,
            base_font,
            simple_unicode: Vec::new(),
            simple_widths: Vec::new(),
            encoding_cmap: None,
            ucs2_codes: false,
            cid_widths: CidWidths::default(),
            to_unicode,
            vertical: false,
            vertical_advance: -1.0,
            ascent: DEFAULT_ASCENT,
            descent: DEFAULT_DESCENT,
        };
        if kind == FontKind::Type0 {
            f.load_composite(doc, &dict);
        } else {
            f.load_simple(doc, &dict);
        }
        f
    }

    fn load_simple(&mut self, doc: &Document, dict: &Dict) {
        let descriptor = dict_of(doc, dict, "FontDescriptor");
        let flags = descriptor
            .as_ref()
            .and_then(|d| num(doc, d, "Flags"))
            .unwrap_or(0.0) as i64;
        let std = Std14::from_name(&self.base_font);
        // Type 3 glyph space maps to text space through /FontMatrix; others are 1/1000.
        let font_matrix = if self.kind == FontKind::Type3 {
            matrix(doc, dict, "FontMatrix").unwrap_or([0.001, 0.0, 0.0, 0.001, 0.0, 0.0])
        } else {
            [0.001, 0.0, 0.0, 0.001, 0.0, 0.0]
        };

        // The encoding: base encoding, then /Differences.
        let enc_obj = doc.resolve_key(dict, "Encoding").unwrap_or(Object::Null);
        let (base_name, differences) = match &enc_obj {
            Object::Name(n) => (Some(n.clone()), None),
            Object::Dict(d) => (
                d.name("BaseEncoding").map(<[u8]>::to_vec),
                doc.resolve_key(d, "Differences").ok(),
            ),
            _ => (None, None),
        };
        let symbolic_builtin = match std {
            Some(Std14::Symbol) => Some(&encodings::SYMBOL),
            Some(Std14::ZapfDingbats) => Some(&encodings::ZAPF_DINGBATS),
            _ => None,
        };
        let mut names: Vec<Option<String>> = vec![None; 256];
        let base = base_name.as_deref().and_then(base_encoding);
        let builtin = if base.is_none() && self.kind == FontKind::Type1 {
            embedded_type1_encoding(doc, descriptor.as_ref())
        } else {
            None
        };
        if let Some(b) = builtin {
            names = b;
        } else {
            let table = base.or(symbolic_builtin).unwrap_or(match self.kind {
                FontKind::TrueType => &encodings::WIN_ANSI,
                _ => &encodings::STANDARD,
            });
            for (slot, n) in names.iter_mut().zip(table.iter()) {
                if !n.is_empty() {
                    *slot = Some((*n).to_string());
                }
            }
        }
        if let Some(Object::Array(diffs)) = &differences {
            let mut code: i64 = 0;
            for item in diffs {
                match doc.resolve(item).unwrap_or(Object::Null) {
                    Object::Int(c) => code = c,
                    Object::Real(c) => code = c as i64,
                    Object::Name(n) => {
                        if let Some(slot) =
                            usize::try_from(code).ok().and_then(|c| names.get_mut(c))
                        {
                            *slot = Some(String::from_utf8_lossy(&n).into_owned());
                        }
                        code = code.saturating_add(1);
                    }
                    _ => {}
                }
            }
        }
        self.simple_unicode = names
            .iter()
            .map(|n| {
                n.as_deref()
                    .and_then(glyph_to_unicode)
                    .map(String::into_boxed_str)
            })
            .collect();

        // Widths.
        let first = num(doc, dict, "FirstChar").unwrap_or(0.0) as i64;
        let widths = match doc.resolve_key(dict, "Widths") {
            Ok(Object::Array(a)) => Some(a),
            _ => None,
        };
        let missing = descriptor
            .as_ref()
            .and_then(|d| num(doc, d, "MissingWidth"))
            .unwrap_or(0.0);
        // Without /Widths, a standard font's metrics, or the nearest standard font's.
        let substitute = std.or(if widths.is_none() {
            Some(Std14::substitute(flags, &self.base_font))
        } else {
            None
        });
        let symbolic_std = symbolic_builtin.is_some() && base.is_none() && differences.is_none();
        self.simple_widths = (0..256i64)
            .map(|code| {
                let glyph_units = match &widths {
                    Some(w) => code
                        .checked_sub(first)
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| w.get(i))
                        .and_then(|o| doc.resolve(o).ok())
                        .and_then(|o| o.as_f64())
                        .unwrap_or(missing),
                    None => {
                        let name = names.get(code as usize).and_then(|n| n.as_deref());
                        let by_code = symbolic_std.then_some(code as u32);
                        substitute
                            .and_then(|s| match by_code {
                                Some(c) => s.width_by_code(c),
                                None => s.width(code as u32, name),
                            })
                            .map(|w| w * 1000.0)
                            .unwrap_or(if missing > 0.0 { missing } else { 500.0 })
                    }
                };
                glyph_units * font_matrix[0]
            })
            .collect();

        // Vertical extent.
        let (mut asc, mut desc) = match std {
            Some(s) => (s.ascent(), s.descent()),
            None => (DEFAULT_ASCENT, DEFAULT_DESCENT),
        };
        let scale_y = font_matrix[3];
        if self.kind == FontKind::Type3 {
            if let Some(bb) = rect(doc, dict, "FontBBox") {
                let (lo, hi) = sorted(bb[1] * scale_y, bb[3] * scale_y);
                if hi > lo && hi > 0.0 && hi - lo < 4.0 {
                    asc = hi;
                    desc = lo.min(0.0);
                }
            }
        }
        if let Some(d) = &descriptor {
            if std.is_none()
                || d.contains("FontFile")
                || d.contains("FontFile2")
                || d.contains("FontFile3")
            {
                apply_descriptor_metrics(doc, d, scale_y, &mut asc, &mut desc);
            }
        }
        self.ascent = asc;
        self.descent = desc;
    }

    fn load_composite(&mut self, doc: &Document, dict: &Dict) {
        let descendant = match doc.resolve_key(dict, "DescendantFonts") {
            Ok(Object::Array(a)) => a.first().and_then(|o| doc.resolve(o).ok()),
            Ok(o @ Object::Dict(_)) => Some(o),
            _ => None,
        };
        let cid_font = descendant
            .and_then(|o| o.as_dict().cloned())
            .unwrap_or_default();

        match doc.resolve_key(dict, "Encoding") {
            Ok(Object::Name(n)) => {
                self.vertical = n.ends_with(b"-V");
                self.ucs2_codes = n.starts_with(b"Uni")
                    && (n.windows(4).any(|w| w == b"UCS2") || n.windows(5).any(|w| w == b"UTF16"));
            }
            Ok(Object::Stream(s)) => {
                let cmap = load_cmap_stream(doc, &s, 0);
                self.vertical = cmap.wmode == 1 || s.dict.int("WMode") == Some(1);
                self.encoding_cmap = Some(cmap);
            }
            _ => {}
        }

        // /W and /DW (glyph units).
        let mut ranges = Vec::new();
        if let Ok(Object::Array(w)) = doc.resolve_key(&cid_font, "W") {
            let val = |o: &Object| -> Option<Object> {
                match o {
                    Object::Ref(_) => doc.resolve(o).ok(),
                    _ => Some(o.clone()),
                }
            };
            let mut i = 0;
            while let Some(first) = w.get(i).and_then(val).and_then(|o| o.as_int()) {
                let Some(next) = w.get(i + 1).and_then(val) else {
                    break;
                };
                let Ok(first) = u32::try_from(first) else {
                    break;
                };
                if let Object::Array(list) = next {
                    for (j, wv) in list.iter().enumerate() {
                        let (Some(wv), Ok(j)) =
                            (val(wv).and_then(|o| o.as_f64()), u32::try_from(j))
                        else {
                            continue;
                        };
                        let c = first.saturating_add(j);
                        ranges.push((c, c, wv / 1000.0));
                    }
                    i += 2;
                } else {
                    let last = next.as_int().and_then(|l| u32::try_from(l).ok());
                    let wv = w.get(i + 2).and_then(val).and_then(|o| o.as_f64());
                    if let (Some(last), Some(wv)) = (last, wv) {
                        if last >= first {
                            ranges.push((first, last, wv / 1000.0));
                        }
                    }
                    i += 3;
                }
            }
        }
        let ranges = non_overlapping(ranges);
        let dw = num(doc, &cid_font, "DW").unwrap_or(1000.0) / 1000.0;
        self.cid_widths = CidWidths {
            ranges,
            default: dw,
        };
        if let Ok(Object::Array(dw2)) = doc.resolve_key(&cid_font, "DW2") {
            if let Some(w1) = dw2.get(1).and_then(Object::as_f64) {
                self.vertical_advance = w1 / 1000.0;
            }
        }

        let mut asc = DEFAULT_ASCENT;
        let mut desc = DEFAULT_DESCENT;
        if let Some(d) = dict_of(doc, &cid_font, "FontDescriptor") {
            apply_descriptor_metrics(doc, &d, 0.001, &mut asc, &mut desc);
        }
        self.ascent = asc;
        self.descent = desc;
    }

    /// The next character code in `bytes`: its value and how many bytes it took (at least 1
    /// when `bytes` is not empty).
    pub fn next_code(&self, bytes: &[u8]) -> (u32, usize) {
        if self.kind != FontKind::Type0 {
            return (bytes.first().copied().map_or(0, u32::from), 1);
        }
        match &self.encoding_cmap {
            Some(cmap) if !cmap.codespace.is_empty() => cmap.next_code(bytes),
            _ => {
                // Identity (and predefined CMaps, treated as Identity): two bytes per code.
                let n = bytes.len().min(2);
                (be_value(bytes.get(..n).unwrap_or(&[])), n.max(1))
            }
        }
    }

    /// The text that code `code` stands for; U+FFFD when unknown.
    pub fn unicode(&self, code: u32) -> Cow<'_, str> {
        if let Some(s) = self.to_unicode.as_ref().and_then(|t| t.unicode(code)) {
            return s;
        }
        if self.kind == FontKind::Type0 {
            if self.ucs2_codes {
                if let Some(c) = char::from_u32(code) {
                    return Cow::Owned(c.to_string());
                }
            }
            return Cow::Borrowed("\u{FFFD}");
        }
        match self.simple_unicode.get(code as usize) {
            Some(Some(s)) => Cow::Borrowed(s),
            _ => Cow::Borrowed("\u{FFFD}"),
        }
    }

    /// The CID of a code (composite fonts; the code itself for simple fonts).
    pub fn cid(&self, code: u32) -> u32 {
        match &self.encoding_cmap {
            Some(cmap) => cmap.cid(code).unwrap_or(code),
            None => code,
        }
    }

    /// Horizontal advance `w0` of a code, in text space units per unit of font size.
    pub fn width(&self, code: u32) -> f64 {
        if self.kind == FontKind::Type0 {
            self.cid_widths.get(self.cid(code))
        } else {
            self.simple_widths
                .get(code as usize)
                .copied()
                .unwrap_or(0.0)
        }
    }

    /// Vertical advance `w1` (negative: downwards) in vertical writing mode, per unit of size.
    pub fn vertical_advance(&self) -> f64 {
        self.vertical_advance
    }

    /// Whether the font writes vertically (an `-V` CMap or `/WMode 1`).
    pub fn is_vertical(&self) -> bool {
        self.vertical
    }

    /// Height above the baseline, in units of the font size.
    pub fn ascent(&self) -> f64 {
        self.ascent
    }

    /// Depth below the baseline (negative), in units of the font size.
    pub fn descent(&self) -> f64 {
        self.descent
    }
}

/// `/W` entries as sorted, disjoint ranges. Where entries overlap, the later one wins (as in
/// pdf.js and Acrobat). Linear for the usual sorted, disjoint input; `n log n` otherwise.
fn non_overlapping(entries: Vec<(u32, u32, f64)>) -> Vec<(u32, u32, f64)> {
    if entries.windows(2).all(|w| matches!(w, [a, b] if a.1 < b.0)) {
        return entries;
    }
    let mut bounds: Vec<u64> = entries
        .iter()
        .flat_map(|e| [u64::from(e.0), u64::from(e.1) + 1])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut starts: Vec<usize> = (0..entries.len()).collect();
    starts.sort_by_key(|&i| entries.get(i).map_or(0, |e| e.0));
    let mut next_start = starts.iter().peekable();
    // Entries covering the current interval, latest (highest index) on top.
    let mut active = std::collections::BinaryHeap::new();
    let mut out: Vec<(u32, u32, f64)> = Vec::new();
    for w in bounds.windows(2) {
        let [lo, hi] = [
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
        ];
        while let Some(&&i) = next_start.peek() {
            if entries.get(i).is_some_and(|e| u64::from(e.0) <= lo) {
                active.push(i);
                next_start.next();
            } else {
                break;
            }
        }
        while active
            .peek()
            .is_some_and(|&i| entries.get(i).is_none_or(|e| u64::from(e.1) < lo))
        {
            active.pop();
        }
        let Some(&top) = active.peek() else { continue };
        let (Some(e), Ok(lo), Ok(last)) =
            (entries.get(top), u32::try_from(lo), u32::try_from(hi - 1))
        else {
            continue;
        };
        match out.last_mut() {
            Some(prev) if prev.1.checked_add(1) == Some(lo) && prev.2 == e.2 => prev.1 = last,
            _ => out.push((lo, last, e.2)),
        }
    }
    out
}

/// Ascent/descent from a font descriptor, if sane (the way poppler judges them).
fn apply_descriptor_metrics(doc: &Document, d: &Dict, scale: f64, asc: &mut f64, desc: &mut f64) {
    if let Some(a) = num(doc, d, "Ascent").map(|a| a * scale) {
        if a > 0.0 && a < 3.0 {
            *asc = a;
        }
    }
    if let Some(mut v) = num(doc, d, "Descent").map(|v| v * scale) {
        if v > 0.0 {
            v = -v; // some writers give it positive
        }
        if v < 0.0 && v > -3.0 {
            *desc = v;
        }
    }
}

fn sorted(a: f64, b: f64) -> (f64, f64) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn dict_of(doc: &Document, d: &Dict, key: &str) -> Option<Dict> {
    doc.resolve_key(d, key)
        .ok()
        .and_then(|o| o.as_dict().cloned())
}

fn num(doc: &Document, d: &Dict, key: &str) -> Option<f64> {
    doc.resolve_key(d, key)
        .ok()
        .and_then(|o| o.as_f64())
        .filter(|v| v.is_finite())
}

fn numbers<const N: usize>(doc: &Document, d: &Dict, key: &str) -> Option<[f64; N]> {
    let a = doc.resolve_key(d, key).ok()?;
    let a = a.as_array()?;
    let mut out = [0.0; N];
    if a.len() != N {
        return None;
    }
    for (slot, v) in out.iter_mut().zip(a) {
        *slot = doc.resolve(v).ok()?.as_f64().filter(|v| v.is_finite())?;
    }
    Some(out)
}

fn matrix(doc: &Document, d: &Dict, key: &str) -> Option<[f64; 6]> {
    numbers::<6>(doc, d, key)
}

fn rect(doc: &Document, d: &Dict, key: &str) -> Option<[f64; 4]> {
    numbers::<4>(doc, d, key)
}

/// `ABCDEF+Name` → `Name`.
fn strip_subset(n: &[u8]) -> &[u8] {
    match n.get(6) {
        Some(b'+') if n.iter().take(6).all(u8::is_ascii_uppercase) => n.get(7..).unwrap_or(&[]),
        _ => n,
    }
}

fn base_encoding(name: &[u8]) -> Option<&'static encodings::EncodingTable> {
    match name {
        b"StandardEncoding" => Some(&encodings::STANDARD),
        b"WinAnsiEncoding" => Some(&encodings::WIN_ANSI),
        b"MacRomanEncoding" => Some(&encodings::MAC_ROMAN),
        b"PDFDocEncoding" => Some(&encodings::PDF_DOC),
        // MacExpertEncoding (small capitals, old-style figures) is not supported.
        _ => None,
    }
}

/// The built-in encoding of an embedded Type 1 font program (`/FontFile`), read from its
/// clear-text part: `/Encoding StandardEncoding def` or `dup <code> /<name> put` entries.
fn embedded_type1_encoding(
    doc: &Document,
    descriptor: Option<&Dict>,
) -> Option<Vec<Option<String>>> {
    let s = doc.resolve_key(descriptor?, "FontFile").ok()?;
    let s = s.as_stream()?;
    let data = doc.decode_stream(s).ok()?;
    let clear_len = s
        .dict
        .int("Length1")
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(data.len())
        .min(data.len());
    let clear = data.get(..clear_len)?;
    let clear = match crate::parser::find(clear, b"eexec") {
        Some(p) => clear.get(..p)?,
        None => clear,
    };
    let at = crate::parser::find(clear, b"/Encoding")?;
    let rest = clear.get(at + b"/Encoding".len()..)?;
    let ops = parse_content(rest);
    // `/Encoding StandardEncoding def`: the first keyword names the standard encoding.
    if ops
        .first()
        .is_some_and(|o| o.operator == b"StandardEncoding")
    {
        return None;
    }
    let mut names: Vec<Option<String>> = vec![None; 256];
    let mut any = false;
    for op in ops
        .iter()
        .take_while(|o| o.operator != b"readonly" && o.operator != b"def")
    {
        if op.operator == b"put" {
            if let [Object::Int(c), Object::Name(n)] = op.operands.as_slice() {
                if let Some(slot) = usize::try_from(*c).ok().and_then(|c| names.get_mut(c)) {
                    if n.as_slice() != b".notdef" {
                        *slot = Some(String::from_utf8_lossy(n).into_owned());
                        any = true;
                    }
                }
            }
        }
    }
    any.then_some(names)
}

/// Maps a glyph name to Unicode text: the Adobe Glyph List (Latin, Greek, punctuation, symbols),
/// `uniXXXX…` and `uXXXX[XX]` names, ligatures written `f_f_i`, and suffixed names (`a.sc`).
pub fn glyph_to_unicode(name: &str) -> Option<String> {
    glyph_to_unicode_depth(name, 0)
}

fn glyph_to_unicode_depth(name: &str, depth: u8) -> Option<String> {
    if name.is_empty() || depth > 2 {
        return None;
    }
    if let Ok(i) = encodings::GLYPH_LIST.binary_search_by(|(n, _)| (*n).cmp(name)) {
        return encodings::GLYPH_LIST.get(i).map(|(_, u)| (*u).to_string());
    }
    if let Some((base, _)) = name.split_once('.') {
        return glyph_to_unicode_depth(base, depth + 1);
    }
    if name.contains('_') {
        let parts: Option<String> = name
            .split('_')
            .map(|p| glyph_to_unicode_depth(p, depth + 1))
            .collect();
        return parts;
    }
    if let Some(hex) = name.strip_prefix("uni") {
        if !hex.is_empty() && hex.len() % 4 == 0 && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            let units: Vec<u16> = hex
                .as_bytes()
                .chunks(4)
                .filter_map(|c| {
                    std::str::from_utf8(c)
                        .ok()
                        .and_then(|s| u16::from_str_radix(s, 16).ok())
                })
                .collect();
            return Some(String::from_utf16_lossy(&units));
        }
    }
    if let Some(hex) = name.strip_prefix('u') {
        if (4..=6).contains(&hex.len()) && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return u32::from_str_radix(hex, 16)
                .ok()
                .and_then(char::from_u32)
                .map(String::from);
        }
    }
    None
}

/// The standard 14 fonts (§9.6.2.2), and the families we substitute for common aliases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std14 {
    Helvetica,
    HelveticaBold,
    HelveticaOblique,
    HelveticaBoldOblique,
    TimesRoman,
    TimesBold,
    TimesItalic,
    TimesBoldItalic,
    Courier,
    Symbol,
    ZapfDingbats,
}

impl Std14 {
    /// Recognises the standard names and their usual aliases (`Arial,Bold`, `TimesNewRomanPSMT`…).
    fn from_name(name: &str) -> Option<Self> {
        let n: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let bold = n.contains("bold") || n.contains("black") || n.contains("heavy");
        let italic = n.contains("italic") || n.contains("oblique");
        if n.starts_with("helvetica") || n.starts_with("arial") {
            Some(match (bold, italic) {
                (false, false) => Std14::Helvetica,
                (true, false) => Std14::HelveticaBold,
                (false, true) => Std14::HelveticaOblique,
                (true, true) => Std14::HelveticaBoldOblique,
            })
        } else if n.starts_with("times") {
            Some(Self::times(bold, italic))
        } else if n.starts_with("courier") {
            Some(Std14::Courier)
        } else if n.starts_with("symbol") {
            Some(Std14::Symbol)
        } else if n.starts_with("zapfdingbats") {
            Some(Std14::ZapfDingbats)
        } else {
            None
        }
    }

    fn times(bold: bool, italic: bool) -> Self {
        match (bold, italic) {
            (false, false) => Std14::TimesRoman,
            (true, false) => Std14::TimesBold,
            (false, true) => Std14::TimesItalic,
            (true, true) => Std14::TimesBoldItalic,
        }
    }

    /// A standard font close to an unknown one, from its descriptor flags (§9.8.2).
    fn substitute(flags: i64, name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        let bold = n.contains("bold") || flags & (1 << 18) != 0;
        let italic = n.contains("italic") || n.contains("oblique") || flags & (1 << 6) != 0;
        if flags & 1 != 0 {
            Std14::Courier
        } else if flags & 2 != 0 {
            Self::times(bold, italic)
        } else {
            match (bold, italic) {
                (false, false) => Std14::Helvetica,
                (true, false) => Std14::HelveticaBold,
                (false, true) => Std14::HelveticaOblique,
                (true, true) => Std14::HelveticaBoldOblique,
            }
        }
    }

    /// Width of a glyph name, in units of the font size.
    fn width(self, code: u32, name: Option<&str>) -> Option<f64> {
        let table: &[u16] = match self {
            Std14::Courier => return Some(0.6),
            Std14::Symbol | Std14::ZapfDingbats => return self.width_by_code(code),
            Std14::Helvetica => &std14::HELVETICA_WIDTHS,
            Std14::HelveticaBold => &std14::HELVETICA_BOLD_WIDTHS,
            Std14::HelveticaOblique => &std14::HELVETICA_OBLIQUE_WIDTHS,
            Std14::HelveticaBoldOblique => &std14::HELVETICA_BOLD_OBLIQUE_WIDTHS,
            Std14::TimesRoman => &std14::TIMES_ROMAN_WIDTHS,
            Std14::TimesBold => &std14::TIMES_BOLD_WIDTHS,
            Std14::TimesItalic => &std14::TIMES_ITALIC_WIDTHS,
            Std14::TimesBoldItalic => &std14::TIMES_BOLD_ITALIC_WIDTHS,
        };
        let i = std14::LATIN_NAMES.binary_search(&name?).ok()?;
        table.get(i).map(|w| f64::from(*w) / 1000.0)
    }

    /// Width by code in the built-in encoding of Symbol and ZapfDingbats.
    fn width_by_code(self, code: u32) -> Option<f64> {
        let table: &[u16; 256] = match self {
            Std14::Symbol => &std14::SYMBOL_WIDTHS,
            Std14::ZapfDingbats => &std14::ZAPF_DINGBATS_WIDTHS,
            Std14::Courier => return Some(0.6),
            _ => return None,
        };
        table
            .get(code as usize)
            .filter(|w| **w > 0)
            .map(|w| f64::from(*w) / 1000.0)
    }

    /// Ascender of the Adobe Core 14 metrics, in units of font size.
    fn ascent(self) -> f64 {
        match self {
            Std14::Helvetica
            | Std14::HelveticaBold
            | Std14::HelveticaOblique
            | Std14::HelveticaBoldOblique => 0.718,
            Std14::TimesRoman | Std14::TimesBold | Std14::TimesItalic | Std14::TimesBoldItalic => {
                0.683
            }
            Std14::Courier => 0.629,
            Std14::Symbol => 1.010,
            Std14::ZapfDingbats => 0.820,
        }
    }

    fn descent(self) -> f64 {
        match self {
            Std14::Helvetica
            | Std14::HelveticaBold
            | Std14::HelveticaOblique
            | Std14::HelveticaBoldOblique => -0.207,
            Std14::TimesRoman | Std14::TimesBold | Std14::TimesItalic | Std14::TimesBoldItalic => {
                -0.217
            }
            Std14::Courier => -0.157,
            Std14::Symbol => -0.293,
            Std14::ZapfDingbats => -0.143,
        }
    }
}

/// Big-endian value of up to four bytes.
fn be_value(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0u32, |v, &c| v << 8 | u32::from(c))
}

/// A code space range (§9.7.6.2): codes of `len` bytes whose every byte lies within the bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct CodespaceRange {
    pub len: usize,
    pub low: [u8; 4],
    pub high: [u8; 4],
}

impl CodespaceRange {
    fn matches(&self, bytes: &[u8]) -> bool {
        bytes.len() >= self.len
            && bytes
                .iter()
                .zip(self.low.iter().zip(self.high.iter()))
                .take(self.len)
                .all(|(b, (lo, hi))| lo <= b && b <= hi)
    }
}

/// `bfrange lo hi <dst>`: code `lo + i` maps to `dst` with its last UTF-16 unit plus `i`.
#[derive(Clone, Debug)]
struct UnicodeRange {
    low: u32,
    high: u32,
    base: Vec<u16>,
}

/// A CMap as read from a stream (§9.7.5) or a ToUnicode CMap (§9.10.3): code space ranges,
/// code-to-Unicode (`bfchar`, `bfrange`) and code-to-CID (`cidchar`, `cidrange`) mappings.
///
/// Ranges are kept as ranges, so a hostile `<00000000> <FFFFFFFF>` range costs nothing.
#[derive(Clone, Debug, Default)]
pub struct CMap {
    pub codespace: Vec<CodespaceRange>,
    /// Writing mode: 0 horizontal, 1 vertical.
    pub wmode: u8,
    /// `/Name usecmap`: the parent CMap, by name (predefined; we treat them as Identity).
    pub use_cmap: Option<Vec<u8>>,
    chars: HashMap<u32, String>,
    ranges: Vec<UnicodeRange>,
    cid_chars: HashMap<u32, u32>,
    cid_ranges: Vec<(u32, u32, u32)>,
    /// A parent CMap from a `/UseCMap` stream, consulted after this one.
    parent: Option<Box<CMap>>,
}

impl CMap {
    /// Parses CMap source text. Tolerant: unreadable entries are skipped.
    pub fn parse(data: &[u8]) -> CMap {
        let mut cm = CMap::default();
        for op in parse_content(data) {
            let args = &op.operands;
            match op.operator.as_slice() {
                b"endcodespacerange" => {
                    for pair in args.chunks_exact(2) {
                        if let [Object::String(lo), Object::String(hi)] = pair {
                            let len = lo.bytes.len();
                            if (1..=4).contains(&len) && hi.bytes.len() == len {
                                let mut low = [0u8; 4];
                                let mut high = [0u8; 4];
                                low.iter_mut().zip(&lo.bytes).for_each(|(d, s)| *d = *s);
                                high.iter_mut().zip(&hi.bytes).for_each(|(d, s)| *d = *s);
                                cm.codespace.push(CodespaceRange { len, low, high });
                            }
                        }
                    }
                }
                b"endbfchar" => {
                    for pair in args.chunks_exact(2) {
                        if let [Object::String(src), dst] = pair {
                            if let Some(text) = bf_destination(dst) {
                                cm.chars.insert(be_value(&src.bytes), text);
                            }
                        }
                    }
                }
                b"endbfrange" => {
                    for triple in args.chunks_exact(3) {
                        let [Object::String(lo), Object::String(hi), dst] = triple else {
                            continue;
                        };
                        let (lo, hi) = (be_value(&lo.bytes), be_value(&hi.bytes));
                        if hi < lo {
                            continue;
                        }
                        match dst {
                            Object::String(s) => {
                                let base: Vec<u16> = s
                                    .bytes
                                    .chunks(2)
                                    .map(|c| match c {
                                        [a, b] => u16::from_be_bytes([*a, *b]),
                                        [a] => u16::from(*a),
                                        _ => 0,
                                    })
                                    .collect();
                                if !base.is_empty() {
                                    cm.ranges.push(UnicodeRange {
                                        low: lo,
                                        high: hi,
                                        base,
                                    });
                                }
                            }
                            Object::Array(items) => {
                                for (i, item) in items.iter().enumerate().take(MAX_RANGE_ARRAY) {
                                    let Ok(i) = u32::try_from(i) else { break };
                                    let code = lo.saturating_add(i);
                                    if code > hi {
                                        break;
                                    }
                                    if let Some(text) = bf_destination(item) {
                                        cm.chars.insert(code, text);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                b"endcidchar" => {
                    for pair in args.chunks_exact(2) {
                        if let [Object::String(src), cid] = pair {
                            if let Some(cid) = cid.as_int().and_then(|c| u32::try_from(c).ok()) {
                                cm.cid_chars.insert(be_value(&src.bytes), cid);
                            }
                        }
                    }
                }
                b"endcidrange" => {
                    for triple in args.chunks_exact(3) {
                        if let [Object::String(lo), Object::String(hi), cid] = triple {
                            let (lo, hi) = (be_value(&lo.bytes), be_value(&hi.bytes));
                            if let Some(cid) = cid.as_int().and_then(|c| u32::try_from(c).ok()) {
                                if hi >= lo {
                                    cm.cid_ranges.push((lo, hi, cid));
                                }
                            }
                        }
                    }
                }
                b"def" => {
                    if let [Object::Name(k), v] = args.as_slice() {
                        if k == b"WMode" {
                            cm.wmode = u8::from(v.as_int() == Some(1));
                        }
                    }
                }
                b"usecmap" => {
                    if let Some(Object::Name(n)) = args.last() {
                        cm.use_cmap = Some(n.clone());
                    }
                }
                _ => {}
            }
        }
        cm
    }

    /// Splits off the next code per the code space ranges (§9.7.6.2): the shortest range that
    /// matches; when none does, as many bytes as the shortest range (at least one).
    pub fn next_code(&self, bytes: &[u8]) -> (u32, usize) {
        let ranges = self.effective_codespace();
        let mut best: Option<usize> = None;
        let mut shortest = usize::MAX;
        for r in ranges {
            shortest = shortest.min(r.len);
            if r.matches(bytes) && best.is_none_or(|b| r.len < b) {
                best = Some(r.len);
            }
        }
        let n = best
            .unwrap_or(if shortest == usize::MAX { 2 } else { shortest })
            .min(bytes.len())
            .max(1);
        (be_value(bytes.get(..n).unwrap_or(bytes)), n)
    }

    fn effective_codespace(&self) -> &[CodespaceRange] {
        let mut cur = self;
        for _ in 0..8 {
            if !cur.codespace.is_empty() {
                return &cur.codespace;
            }
            match &cur.parent {
                Some(p) => cur = p,
                None => break,
            }
        }
        &[]
    }

    /// The Unicode text of a code, if this CMap (or its parent) maps it.
    pub fn unicode(&self, code: u32) -> Option<Cow<'_, str>> {
        if let Some(s) = self.chars.get(&code) {
            return Some(Cow::Borrowed(s));
        }
        // Later ranges win, as later definitions do in a PostScript CMap.
        for r in self.ranges.iter().rev() {
            if r.low <= code && code <= r.high {
                let mut units = r.base.clone();
                let off = code - r.low;
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add((off & 0xFFFF) as u16);
                }
                return Some(Cow::Owned(String::from_utf16_lossy(&units)));
            }
        }
        self.parent.as_ref().and_then(|p| p.unicode(code))
    }

    /// The CID of a code, if mapped. With `usecmap` of a predefined (Identity) CMap, the code.
    pub fn cid(&self, code: u32) -> Option<u32> {
        if let Some(c) = self.cid_chars.get(&code) {
            return Some(*c);
        }
        for &(lo, hi, cid) in self.cid_ranges.iter().rev() {
            if lo <= code && code <= hi {
                return Some(cid.saturating_add(code - lo));
            }
        }
        match &self.parent {
            Some(p) => p.cid(code),
            None => self.use_cmap.as_ref().map(|_| code),
        }
    }
}

/// A `bfchar`/`bfrange` destination: UTF-16BE bytes, or a glyph name.
fn bf_destination(o: &Object) -> Option<String> {
    match o {
        Object::String(s) => {
            let units: Vec<u16> = s
                .bytes
                .chunks(2)
                .map(|c| match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    [a] => u16::from(*a),
                    _ => 0,
                })
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        Object::Name(n) => glyph_to_unicode(&String::from_utf8_lossy(n)),
        _ => None,
    }
}

/// Reads an embedded CMap stream, following `/UseCMap` streams a few levels deep.
fn load_cmap_stream(doc: &Document, s: &crate::object::Stream, depth: usize) -> CMap {
    let mut cm = doc
        .decode_stream(s)
        .map(|d| CMap::parse(&d))
        .unwrap_or_default();
    if depth < 4 {
        if let Ok(Object::Stream(parent)) = doc.resolve_key(&s.dict, "UseCMap") {
            cm.parent = Some(Box::new(load_cmap_stream(doc, &parent, depth + 1)));
        } else if let Some(n) = s.dict.name("UseCMap") {
            cm.use_cmap = Some(n.to_vec());
        }
    }
    cm
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO_UNICODE: &[u8] = b"/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
2 beginbfchar
<0003> <0020>
<0024> <D835DC00>
endbfchar
2 beginbfrange
<0010> <0012> <0041>
<0020> <0022> [<0061> <00660069> <0063>]
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end";

    #[test]
    fn to_unicode_cmap_chars_ranges_and_arrays() {
        let cm = CMap::parse(TO_UNICODE);
        assert_eq!(cm.codespace.len(), 1);
        assert_eq!(cm.unicode(3).as_deref(), Some(" "));
        assert_eq!(cm.unicode(0x24).as_deref(), Some("\u{1D400}"));
        assert_eq!(cm.unicode(0x10).as_deref(), Some("A"));
        assert_eq!(cm.unicode(0x12).as_deref(), Some("C"));
        assert_eq!(cm.unicode(0x13), None);
        assert_eq!(cm.unicode(0x21).as_deref(), Some("fi"));
        assert_eq!(cm.unicode(0x22).as_deref(), Some("c"));
        assert_eq!(cm.next_code(&[0, 3, 0, 4]), (3, 2));
    }

    #[test]
    fn mixed_width_code_spaces() {
        let cm = CMap::parse(
            b"2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange
              1 begincidrange <8140> <817E> 633 endcidrange
              1 begincidchar <41> 34 endcidchar /WMode 1 def",
        );
        assert_eq!(cm.next_code(b"A\x81\x41"), (0x41, 1));
        assert_eq!(cm.next_code(b"\x81\x41A"), (0x8141, 2));
        assert_eq!(cm.cid(0x8141), Some(634));
        assert_eq!(cm.cid(0x41), Some(34));
        assert_eq!(cm.wmode, 1);
        // A byte outside every range: one byte, never a panic.
        assert_eq!(cm.next_code(b"\xff"), (0xff, 1));
        assert_eq!(cm.next_code(b"\x81"), (0x81, 1));
    }

    #[test]
    fn random_cmaps_never_panic() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let words: [&[u8]; 14] = [
            b"begincodespacerange",
            b"endcodespacerange",
            b"beginbfrange",
            b"endbfrange",
            b"endbfchar",
            b"endcidrange",
            b"endcidchar",
            b"<00>",
            b"<FFFF>",
            b"<01020304>",
            b"[<0041> <>]",
            b"12",
            b"/WMode 1 def",
            b"/Identity-H usecmap",
        ];
        for _ in 0..2000 {
            let mut src = Vec::new();
            for _ in 0..next() % 40 {
                src.extend_from_slice(words[(next() as usize) % words.len()]);
                src.push(b' ');
            }
            let cm = CMap::parse(&src);
            let bytes: Vec<u8> = (0..next() % 6).map(|_| next() as u8).collect();
            let (code, n) = cm.next_code(&bytes);
            assert!(n >= 1 && (bytes.is_empty() || n <= bytes.len()));
            let _ = (cm.unicode(code), cm.cid(code));
        }
    }

    #[test]
    fn hostile_ranges_are_not_expanded() {
        let cm = CMap::parse(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange");
        assert_eq!(cm.unicode(1).as_deref(), Some("B"));
    }

    #[test]
    fn overlapping_w_entries_later_wins() {
        let r = non_overlapping(vec![
            (288, 382, 0.55),
            (320, 320, 1.015),
            (288, 288, 0.278),
            (400, 401, 0.3),
        ]);
        assert_eq!(
            r,
            vec![
                (288, 288, 0.278),
                (289, 319, 0.55),
                (320, 320, 1.015),
                (321, 382, 0.55),
                (400, 401, 0.3)
            ]
        );
        let w = CidWidths {
            ranges: r,
            default: 1.0,
        };
        assert_eq!(w.get(300), 0.55);
        assert_eq!(w.get(390), 1.0);
        assert_eq!(w.get(0), 1.0);
        assert_eq!(w.get(u32::MAX), 1.0);
    }

    #[test]
    fn glyph_names() {
        assert_eq!(glyph_to_unicode("dollar").as_deref(), Some("$"));
        assert_eq!(glyph_to_unicode("numbersign").as_deref(), Some("#"));
        assert_eq!(glyph_to_unicode("at").as_deref(), Some("@"));
        assert_eq!(glyph_to_unicode("less").as_deref(), Some("<"));
        assert_eq!(glyph_to_unicode("greater").as_deref(), Some(">"));
        assert_eq!(glyph_to_unicode("Scaron").as_deref(), Some("Š"));
        assert_eq!(glyph_to_unicode("uni0041").as_deref(), Some("A"));
        assert_eq!(glyph_to_unicode("uni00410042").as_deref(), Some("AB"));
        assert_eq!(glyph_to_unicode("u1F600").as_deref(), Some("\u{1F600}"));
        assert_eq!(glyph_to_unicode("a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_to_unicode("f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_to_unicode("fi").as_deref(), Some("fi"));
        assert_eq!(glyph_to_unicode("g123"), None);
    }

    #[test]
    fn standard_font_metrics() {
        assert_eq!(Std14::from_name("Helvetica"), Some(Std14::Helvetica));
        assert_eq!(
            Std14::from_name("Arial,BoldItalic"),
            Some(Std14::HelveticaBoldOblique)
        );
        assert_eq!(
            Std14::from_name("TimesNewRomanPS-BoldMT"),
            Some(Std14::TimesBold)
        );
        assert_eq!(Std14::Helvetica.width(36, Some("dollar")), Some(0.556));
        assert_eq!(Std14::Helvetica.width(64, Some("at")), Some(1.015));
        assert_eq!(Std14::TimesRoman.width(32, Some("space")), Some(0.25));
        assert_eq!(Std14::Courier.width(0, None), Some(0.6));
        assert_eq!(strip_subset(b"ABCDEF+Arial"), b"Arial");
        assert_eq!(strip_subset(b"Abcdef+Arial"), b"Abcdef+Arial");
    }
}
