//! Where text is on a page (ISO 32000-2 §9.3–9.4): glyph boxes from the text state machine, and
//! search for text tags (`$`, `#`, `<@signature@>`) that mark where a signature goes.
//!
//! **API Boundary**: every rectangle here is in the page's **default user space**: the space the
//! content stream draws in before any `cm`, the same space as `/MediaBox`. `/Rotate` and
//! `/CropBox` are *not* applied: a tag on a `/Rotate 90` page is reported where the unrotated
//! page has it, and coordinates are not shifted to the crop box origin. Callers that think in
//! what a viewer shows (top-left origin, rotated, cropped) convert; a signature annotation's
//! `/Rect` is in exactly this space, so placing a widget over a tag needs no conversion.
//!
//! How it works: [`extract_glyphs`] runs the page's content (and the form XObjects it draws,
//! recursively) through the text operators, keeping the CTM and text matrices (§9.4.2), and
//! produces one [`Glyph`] per character code shown, with its box. [`find_text`] then strings the
//! glyphs together in content order into lines: a glyph continues the previous one when it starts
//! near where the previous one ended, on the same baseline and in the same direction; a gap of
//! more than 0.2 em counts as a space. So a tag split across `TJ` elements or `Tj` operators is
//! still found, as long as its pieces are drawn one after the other.
//!
//! A glyph's box starts at the pen position and is as wide as the glyph, `w0 × Tfs × Th`;
//! character and word spacing (`Tc`, `Tw`) move the pen on but are not part of the box, as in
//! poppler. Vertically it runs from the font's descent to its ascent: the FontDescriptor's
//! `/Ascent` and `/Descent`, the standard 14 fonts' own metrics, else 0.8 and −0.2 em. The
//! corners go through the text rendering matrix, so rotated or skewed text gives the bounds of
//! the transformed box. Our boxes agree with `pdftotext -bbox` to within a thousandth of a point
//! on the cases in `tests/text_tags.rs`.
//!
//! Hostile input is bounded: at most 16 nested forms (a form drawing itself is not followed),
//! 2 million operators and 200 000 glyphs per page; beyond that the page is read no further.
//!
//! Not considered: text in annotations' appearance streams, Type 3 glyph procedures, clipping
//! (text clipped away is still found), `/ActualText` marked content, and text whose glyphs are
//! drawn out of order. Text rendered invisible (`3 Tr`, the OCR layer of a scan) is found.

pub(crate) mod encodings;
pub(crate) mod std14;

use std::collections::HashMap;
use std::rc::Rc;

use crate::content::{parse_content, Operation};
use crate::document::{Document, Page};
use crate::error::{ErrorKind, PdfError, Result};
use crate::font::Font;
use crate::object::{Dict, ObjRef, Object};

/// A 2-D affine matrix `[a b c d e f]` (§8.3.4), applied to row vectors.
type Matrix = [f64; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// Deepest nesting of form XObjects we follow.
const MAX_FORM_DEPTH: usize = 16;
/// Operators executed per page at most, forms included (bounds time on hostile input; a dense
/// real page runs a few tens of thousands).
const MAX_OPERATIONS: usize = 2_000_000;
/// Glyphs collected per page at most (bounds memory; a dense real page has a few thousand).
const MAX_GLYPHS: usize = 200_000;
/// Deepest `q` nesting we keep; deeper saves are counted, not stored.
const MAX_SAVE_DEPTH: usize = 256;
/// A gap wider than this (in units of font size) between glyphs of a line is a word break.
const SPACE_GAP: f64 = 0.2;

/// One shown character code, positioned.
#[derive(Clone, Debug, PartialEq)]
pub struct Glyph {
    /// The text the code stands for (may be several characters, e.g. a ligature; U+FFFD when
    /// the font gives no way to know).
    pub unicode: String,
    /// The glyph's box in default user space, as transformed corners: start-bottom, end-bottom,
    /// end-top, start-top (bottom is the descent, top the ascent, start the pen position).
    pub quad: [[f64; 2]; 4],
    /// Axis-aligned bounds of `quad`: `[llx, lly, urx, ury]`, default user space.
    pub rect: [f64; 4],
    /// Font size in user space units (the text size as drawn, after all scaling).
    pub font_size: f64,
    /// Pen position on the baseline before the glyph, in default user space.
    pub origin: [f64; 2],
    /// Pen position after the glyph, character and word spacing included (which `quad` and
    /// `rect` do not include: they cover the glyph's own width, as poppler's boxes do).
    pub end: [f64; 2],
    /// Unit vector of the writing direction in user space.
    pub direction: [f64; 2],
}

/// An occurrence of searched text.
#[derive(Clone, Debug, PartialEq)]
pub struct TextMatch {
    /// Page number, 1-based.
    pub page: usize,
    /// `[llx, lly, urx, ury]` in the page's **default user space** (unrotated, uncropped: the
    /// space of `/MediaBox`): the union of the matched glyphs' boxes, ascent to descent.
    pub rect: [f64; 4],
    /// The matched text.
    pub text: String,
}

/// Finds every occurrence of `needle` on every page.
///
/// Matches come page by page, and on a page in reading order as the page is displayed (top to
/// bottom, then left to right, `/Rotate` taken into account). The same text drawn twice at
/// (nearly) the same place, as "fake bold" does, is reported once.
pub fn find_text(doc: &Document, needle: &str) -> Result<Vec<TextMatch>> {
    check_needle(needle)?;
    let mut ex = Extractor::new(doc);
    let mut out = Vec::new();
    for (i, page) in doc.pages()?.iter().enumerate() {
        let glyphs = ex.page_glyphs(page)?;
        out.extend(matches_on_page(&glyphs, page, i + 1, needle));
    }
    Ok(out)
}

/// Finds every occurrence of `needle` on one page (`page_no` is its 1-based number, copied into
/// the results). See [`find_text`].
pub fn find_text_on_page(
    doc: &Document,
    page: &Page,
    page_no: usize,
    needle: &str,
) -> Result<Vec<TextMatch>> {
    check_needle(needle)?;
    let glyphs = Extractor::new(doc).page_glyphs(page)?;
    Ok(matches_on_page(&glyphs, page, page_no, needle))
}

/// Every glyph the page's content shows, in content order, with boxes in default user space.
pub fn extract_glyphs(doc: &Document, page: &Page) -> Result<Vec<Glyph>> {
    Extractor::new(doc).page_glyphs(page)
}

fn check_needle(needle: &str) -> Result<()> {
    if needle.is_empty() {
        return Err(PdfError::new(
            ErrorKind::InvalidInput,
            "the text to find is empty",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Matrices

fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn apply(m: &Matrix, x: f64, y: f64) -> [f64; 2] {
    [x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]]
}

fn translate(tx: f64, ty: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

fn matrix_operands(op: &Operation) -> Option<Matrix> {
    let mut m = [0.0; 6];
    for (i, slot) in m.iter_mut().enumerate() {
        *slot = op.number(i)?;
    }
    Some(m)
}

fn normalize(v: [f64; 2]) -> Option<[f64; 2]> {
    let len = v[0].hypot(v[1]);
    (len > 1e-9 && len.is_finite()).then(|| [v[0] / len, v[1] / len])
}

// ---------------------------------------------------------------------------------------------
// The interpreter

/// The part of the graphics state that text positioning depends on (§8.4, §9.3).
#[derive(Clone)]
struct GState {
    ctm: Matrix,
    char_spacing: f64,
    word_spacing: f64,
    /// `Tz / 100`.
    horizontal_scaling: f64,
    leading: f64,
    font: Option<Rc<Font>>,
    font_size: f64,
    rise: f64,
}

impl GState {
    fn new(ctm: Matrix) -> Self {
        GState {
            ctm,
            char_spacing: 0.0,
            word_spacing: 0.0,
            horizontal_scaling: 1.0,
            leading: 0.0,
            font: None,
            font_size: 0.0,
            rise: 0.0,
        }
    }
}

/// A form XObject ready to run.
struct Form {
    ops: Vec<Operation>,
    matrix: Matrix,
    resources: Option<Dict>,
}

/// Caches shared by the pages of one search: fonts and forms are often used on every page.
struct Extractor<'d> {
    doc: &'d Document,
    fonts: HashMap<ObjRef, Rc<Font>>,
    /// `None` for XObjects that are not forms (images) or cannot be read.
    forms: HashMap<ObjRef, Option<Rc<Form>>>,
    fallback_font: Rc<Font>,
}

/// Per-page state of a run.
struct Run {
    glyphs: Vec<Glyph>,
    budget: usize,
    /// Forms being run, outermost first (loop protection).
    form_stack: Vec<ObjRef>,
}

/// Resources of the content being run, looked up lazily.
struct Res<'r> {
    dict: &'r Dict,
    fonts: Option<Dict>,
    xobjects: Option<Dict>,
}

impl<'d> Extractor<'d> {
    fn new(doc: &'d Document) -> Self {
        Extractor {
            doc,
            fonts: HashMap::new(),
            forms: HashMap::new(),
            fallback_font: Rc::new(Font::fallback()),
        }
    }

    fn page_glyphs(&mut self, page: &Page) -> Result<Vec<Glyph>> {
        let content = self.page_content(page).map_err(|e| {
            PdfError::new(
                e.kind,
                format!(
                    "cannot read the content of page object {}: {}",
                    page.id, e.message
                ),
            )
        })?;
        let ops = parse_content(&content);
        let mut run = Run {
            glyphs: Vec::new(),
            budget: MAX_OPERATIONS,
            form_stack: Vec::new(),
        };
        self.run(&mut run, &ops, &page.resources, GState::new(IDENTITY), 0);
        Ok(run.glyphs)
    }

    /// The page's content streams, decoded and joined (§7.8.2: a split falls between tokens).
    fn page_content(&self, page: &Page) -> Result<Vec<u8>> {
        let doc = self.doc;
        let mut out = Vec::new();
        let mut add = |o: &Object| -> Result<()> {
            if let Object::Stream(s) = doc.resolve(o)? {
                out.extend_from_slice(&doc.decode_stream(&s)?);
                out.push(b'\n');
            }
            Ok(())
        };
        match doc.resolve_key(&page.dict, "Contents")? {
            Object::Array(parts) => {
                for p in &parts {
                    add(p)?;
                }
            }
            o => add(&o)?,
        }
        Ok(out)
    }

    fn font(&mut self, res: &mut Res<'_>, name: &[u8]) -> Rc<Font> {
        let doc = self.doc;
        let fonts = res
            .fonts
            .get_or_insert_with(|| resource_category(doc, res.dict, "Font"));
        let Some(obj) = fonts
            .0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
        else {
            return self.fallback_font.clone();
        };
        match obj {
            Object::Ref(r) => self
                .fonts
                .entry(r)
                .or_insert_with(|| Rc::new(Font::load(doc, &obj)))
                .clone(),
            o => Rc::new(Font::load(doc, &o)),
        }
    }

    fn form(&mut self, r: ObjRef) -> Option<Rc<Form>> {
        if let Some(f) = self.forms.get(&r) {
            return f.clone();
        }
        let doc = self.doc;
        let form = match doc.get(r) {
            Ok(Object::Stream(s)) if s.dict.name("Subtype") == Some(b"Form") => {
                doc.decode_stream(&s).ok().map(|data| {
                    let matrix = doc
                        .resolve_key(&s.dict, "Matrix")
                        .ok()
                        .and_then(|m| {
                            let a = m.as_array()?;
                            let mut out = [0.0; 6];
                            if a.len() != 6 {
                                return None;
                            }
                            for (slot, v) in out.iter_mut().zip(a) {
                                *slot = doc.resolve(v).ok()?.as_f64()?;
                            }
                            Some(out)
                        })
                        .unwrap_or(IDENTITY);
                    let resources = match doc.resolve_key(&s.dict, "Resources") {
                        Ok(Object::Dict(d)) => Some(d),
                        _ => None,
                    };
                    Rc::new(Form {
                        ops: parse_content(&data),
                        matrix,
                        resources,
                    })
                })
            }
            _ => None,
        };
        self.forms.insert(r, form.clone());
        form
    }

    fn run(
        &mut self,
        run: &mut Run,
        ops: &[Operation],
        resources: &Dict,
        mut gs: GState,
        depth: usize,
    ) {
        let mut res = Res {
            dict: resources,
            fonts: None,
            xobjects: None,
        };
        let mut saved: Vec<GState> = Vec::new();
        let mut unsaved_q = 0usize;
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        for op in ops {
            if run.budget == 0 || run.glyphs.len() >= MAX_GLYPHS {
                return;
            }
            run.budget -= 1;
            let n = |i: usize| op.number(i);
            match op.operator.as_slice() {
                b"q" => {
                    if saved.len() < MAX_SAVE_DEPTH {
                        saved.push(gs.clone());
                    } else {
                        unsaved_q += 1;
                    }
                }
                b"Q" => {
                    if unsaved_q > 0 {
                        unsaved_q -= 1;
                    } else if let Some(g) = saved.pop() {
                        gs = g;
                    }
                }
                b"cm" => {
                    if let Some(m) = matrix_operands(op) {
                        gs.ctm = mul(&m, &gs.ctm);
                    }
                }
                b"BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                b"Tc" => gs.char_spacing = n(0).unwrap_or(gs.char_spacing),
                b"Tw" => gs.word_spacing = n(0).unwrap_or(gs.word_spacing),
                b"Tz" => gs.horizontal_scaling = n(0).map_or(gs.horizontal_scaling, |v| v / 100.0),
                b"TL" => gs.leading = n(0).unwrap_or(gs.leading),
                b"Ts" => gs.rise = n(0).unwrap_or(gs.rise),
                b"Tf" => {
                    if let Some(Object::Name(name)) = op.operands.first() {
                        gs.font = Some(self.font(&mut res, name));
                    }
                    gs.font_size = n(1).unwrap_or(gs.font_size);
                }
                b"Td" | b"TD" => {
                    if let (Some(tx), Some(ty)) = (n(0), n(1)) {
                        if op.operator == b"TD" {
                            gs.leading = -ty;
                        }
                        tlm = mul(&translate(tx, ty), &tlm);
                        tm = tlm;
                    }
                }
                b"Tm" => {
                    if let Some(m) = matrix_operands(op) {
                        tlm = m;
                        tm = m;
                    }
                }
                b"T*" => {
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                }
                b"Tj" => {
                    if let Some(Object::String(s)) = op.operands.first() {
                        self.show(run, &gs, &mut tm, &s.bytes);
                    }
                }
                b"'" | b"\"" => {
                    if op.operator == b"\"" {
                        gs.word_spacing = n(0).unwrap_or(gs.word_spacing);
                        gs.char_spacing = n(1).unwrap_or(gs.char_spacing);
                    }
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                    if let Some(Object::String(s)) = op.operands.last() {
                        self.show(run, &gs, &mut tm, &s.bytes);
                    }
                }
                b"TJ" => {
                    if let Some(Object::Array(items)) = op.operands.first() {
                        for item in items {
                            match item {
                                Object::String(s) => self.show(run, &gs, &mut tm, &s.bytes),
                                Object::Int(_) | Object::Real(_) => {
                                    let adj = -item.as_f64().unwrap_or(0.0) / 1000.0 * gs.font_size;
                                    let vertical =
                                        gs.font.as_ref().is_some_and(|f| f.is_vertical());
                                    let t = if vertical {
                                        translate(0.0, adj)
                                    } else {
                                        translate(adj * gs.horizontal_scaling, 0.0)
                                    };
                                    tm = mul(&t, &tm);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Object::Name(name)) = op.operands.first() {
                        self.draw_xobject(run, &mut res, name, &gs, depth);
                    }
                }
                _ => {}
            }
        }
    }

    fn draw_xobject(
        &mut self,
        run: &mut Run,
        res: &mut Res<'_>,
        name: &[u8],
        gs: &GState,
        depth: usize,
    ) {
        if depth >= MAX_FORM_DEPTH {
            return;
        }
        let doc = self.doc;
        let xobjects = res
            .xobjects
            .get_or_insert_with(|| resource_category(doc, res.dict, "XObject"));
        let Some(r) = xobjects
            .0
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_ref())
        else {
            return;
        };
        if run.form_stack.contains(&r) {
            return;
        }
        let Some(form) = self.form(r) else { return };
        let mut inner = GState::new(mul(&form.matrix, &gs.ctm));
        // The form starts with the graphics state in force at `Do` (§8.10.1); text state too.
        inner.char_spacing = gs.char_spacing;
        inner.word_spacing = gs.word_spacing;
        inner.horizontal_scaling = gs.horizontal_scaling;
        inner.leading = gs.leading;
        inner.font = gs.font.clone();
        inner.font_size = gs.font_size;
        inner.rise = gs.rise;
        run.form_stack.push(r);
        let resources = form.resources.as_ref().unwrap_or(res.dict);
        self.run(run, &form.ops, resources, inner, depth + 1);
        run.form_stack.pop();
    }

    /// Shows a string (§9.4.4): one glyph per character code, advancing the text matrix.
    fn show(&mut self, run: &mut Run, gs: &GState, tm: &mut Matrix, bytes: &[u8]) {
        let font = gs
            .font
            .clone()
            .unwrap_or_else(|| self.fallback_font.clone());
        let fs = gs.font_size;
        let th = gs.horizontal_scaling;
        let mut i = 0;
        while let Some(rest) = bytes.get(i..).filter(|r| !r.is_empty()) {
            if run.glyphs.len() >= MAX_GLYPHS {
                return;
            }
            let (code, len) = font.next_code(rest);
            i += len.max(1);
            let word_spacing = if len == 1 && code == 32 {
                gs.word_spacing
            } else {
                0.0
            };
            let trm = mul(tm, &gs.ctm);
            let w0 = font.width(code);
            // The box in text space (before Tm), and the displacement.
            // The box in text space (before Tm), and the displacement (§9.4.4). The box is the
            // glyph's own width: character and word spacing are the gap after it (as poppler).
            let spacing = gs.char_spacing + word_spacing;
            let (x0, x1, y0, y1, advance) = if font.is_vertical() {
                let w1 = font.vertical_advance() * fs;
                let half = w0 * fs / 2.0;
                (-half, half, w1.min(0.0), w1.max(0.0), [0.0, w1 + spacing])
            } else {
                let w = w0 * fs * th;
                let (d, a) = (gs.rise + font.descent() * fs, gs.rise + font.ascent() * fs);
                (0.0, w, d, a, [(w0 * fs + spacing) * th, 0.0])
            };
            let quad = [
                apply(&trm, x0, y0),
                apply(&trm, x1, y0),
                apply(&trm, x1, y1),
                apply(&trm, x0, y1),
            ];
            let origin = apply(&trm, 0.0, if font.is_vertical() { 0.0 } else { gs.rise });
            // Gaps are measured from the pen position after spacing: letter-spaced text (`Tc`)
            // is still one word, while `TJ` adjustments and moves make gaps.
            let end = apply(
                &trm,
                advance[0],
                advance[1] + if font.is_vertical() { 0.0 } else { gs.rise },
            );
            *tm = mul(&translate(advance[0], advance[1]), tm);

            let axis = if font.is_vertical() {
                [-trm[2] * fs.signum(), -trm[3] * fs.signum()]
            } else {
                [
                    trm[0] * fs.signum() * th.signum(),
                    trm[1] * fs.signum() * th.signum(),
                ]
            };
            let direction = normalize([end[0] - origin[0], end[1] - origin[1]])
                .or_else(|| normalize(axis))
                .unwrap_or([1.0, 0.0]);
            let rect = bounds(&quad);
            let font_size = (fs * trm[2].hypot(trm[3])).abs();
            if !(rect.iter().all(|v| v.is_finite()) && font_size.is_finite()) {
                continue;
            }
            run.glyphs.push(Glyph {
                unicode: font.unicode(code).into_owned(),
                quad,
                rect,
                font_size,
                origin,
                end,
                direction,
            });
        }
    }
}

/// `resources[category]` (`/Font`, `/XObject`) as a dictionary, empty when missing.
fn resource_category(doc: &Document, resources: &Dict, category: &str) -> Dict {
    match doc.resolve_key(resources, category) {
        Ok(Object::Dict(d)) => d,
        _ => Dict::new(),
    }
}

fn bounds(points: &[[f64; 2]]) -> [f64; 4] {
    let mut r = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in points {
        r[0] = r[0].min(p[0]);
        r[1] = r[1].min(p[1]);
        r[2] = r[2].max(p[0]);
        r[3] = r[3].max(p[1]);
    }
    r
}

fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

// ---------------------------------------------------------------------------------------------
// Lines and matching

/// How glyph `g` relates to the glyph `prev` drawn just before it.
#[derive(Debug, PartialEq)]
enum Join {
    /// Same line, adjacent.
    Adjacent,
    /// Same line, with a gap wide enough to be a word break.
    Space,
    /// Not on the same line (or drawn backwards).
    NewLine,
}

fn join(prev: &Glyph, g: &Glyph) -> Join {
    let dir = prev.direction;
    if dir[0] * g.direction[0] + dir[1] * g.direction[1] < 0.9 {
        return Join::NewLine;
    }
    let size = prev.font_size.max(g.font_size).max(1e-3);
    let d = [g.origin[0] - prev.end[0], g.origin[1] - prev.end[1]];
    let along = d[0] * dir[0] + d[1] * dir[1];
    let across = dir[0] * d[1] - dir[1] * d[0];
    if across.abs() > 0.5 * size || along < -0.5 * size {
        Join::NewLine
    } else if along > SPACE_GAP * size {
        Join::Space
    } else {
        Join::Adjacent
    }
}

/// Matches of `needle` in the glyphs, as (rect, matched glyph indices), in content order.
fn match_glyphs(glyphs: &[Glyph], needle: &str) -> Vec<[f64; 4]> {
    let needle: Vec<char> = needle.chars().collect();
    let mut out = Vec::new();
    let mut chars: Vec<char> = Vec::new();
    let mut owner: Vec<Option<usize>> = Vec::new();
    let mut prev: Option<&Glyph> = None;
    for (i, g) in glyphs.iter().enumerate() {
        if let Some(p) = prev {
            match join(p, g) {
                Join::NewLine => {
                    search_line(&chars, &owner, &needle, glyphs, &mut out);
                    chars.clear();
                    owner.clear();
                }
                Join::Space => {
                    let spaced = chars.last().is_some_and(|c| c.is_whitespace())
                        || g.unicode.starts_with(char::is_whitespace);
                    if !spaced {
                        chars.push(' ');
                        owner.push(None);
                    }
                }
                Join::Adjacent => {}
            }
        }
        for c in g.unicode.chars() {
            chars.push(c);
            owner.push(Some(i));
        }
        prev = Some(g);
    }
    search_line(&chars, &owner, &needle, glyphs, &mut out);
    out
}

/// Non-overlapping occurrences of `needle` in one line, leftmost first.
fn search_line(
    chars: &[char],
    owner: &[Option<usize>],
    needle: &[char],
    glyphs: &[Glyph],
    out: &mut Vec<[f64; 4]>,
) {
    let m = needle.len();
    if m == 0 || chars.len() < m {
        return;
    }
    let mut s = 0;
    while s + m <= chars.len() {
        if chars.get(s..s + m) == Some(needle) {
            let rect = owner
                .get(s..s + m)
                .unwrap_or(&[])
                .iter()
                .flatten()
                .filter_map(|&gi| glyphs.get(gi))
                .map(|g| g.rect)
                .reduce(union);
            if let Some(r) = rect {
                out.push(r);
            }
            s += m;
        } else {
            s += 1;
        }
    }
}

fn matches_on_page(glyphs: &[Glyph], page: &Page, page_no: usize, needle: &str) -> Vec<TextMatch> {
    let mut rects: Vec<[f64; 4]> = Vec::new();
    for r in match_glyphs(glyphs, needle) {
        // "Fake bold" draws the same text twice, slightly offset: report it once.
        let tol = 0.5f64.max(0.15 * (r[3] - r[1]).abs());
        let duplicate = rects
            .iter()
            .any(|q| q.iter().zip(r.iter()).all(|(a, b)| (a - b).abs() <= tol));
        if !duplicate {
            rects.push(r);
        }
    }
    reading_order(&mut rects, page.rotate);
    rects
        .into_iter()
        .map(|rect| TextMatch {
            page: page_no,
            rect,
            text: needle.to_string(),
        })
        .collect()
}

/// Sorts rectangles top to bottom, then left to right, as the page is displayed.
fn reading_order(rects: &mut Vec<[f64; 4]>, rotate: i64) {
    // Displayed coordinates: x to the right, y downwards (§8.3.2.3 and /Rotate, clockwise).
    let shown = |r: &[f64; 4]| -> (f64, f64, f64) {
        let (left, top) = match rotate {
            90 => (r[1], r[0]),
            180 => (-r[2], r[1]),
            270 => (-r[3], -r[2]),
            _ => (r[0], -r[3]),
        };
        let height = match rotate {
            90 | 270 => r[2] - r[0],
            _ => r[3] - r[1],
        };
        (left, top, height.abs())
    };
    let mut keyed: Vec<(usize, f64, f64, f64)> = rects
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (l, t, h) = shown(r);
            (i, l, t, h)
        })
        .collect();
    keyed.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    // Group into lines: a rectangle whose top is within half a line of the line's first top.
    let mut line_of = vec![0usize; rects.len()];
    let mut line = 0usize;
    let mut line_top = f64::NEG_INFINITY;
    let mut line_height = 0.0f64;
    for (n, k) in keyed.iter().enumerate() {
        if n == 0 || k.2 - line_top > 0.5 * line_height.max(1e-3) {
            line += usize::from(n > 0);
            line_top = k.2;
            line_height = k.3;
        }
        if let Some(slot) = line_of.get_mut(k.0) {
            *slot = line;
        }
    }
    keyed.sort_by(|a, b| {
        let la = line_of.get(a.0).copied().unwrap_or(0);
        let lb = line_of.get(b.0).copied().unwrap_or(0);
        la.cmp(&lb).then(a.1.total_cmp(&b.1)).then(a.0.cmp(&b.0))
    });
    let sorted: Vec<[f64; 4]> = keyed
        .iter()
        .filter_map(|k| rects.get(k.0).copied())
        .collect();
    *rects = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(c: &str, x: f64, w: f64, y: f64) -> Glyph {
        Glyph {
            unicode: c.into(),
            quad: [
                [x, y - 2.0],
                [x + w, y - 2.0],
                [x + w, y + 8.0],
                [x, y + 8.0],
            ],
            rect: [x, y - 2.0, x + w, y + 8.0],
            font_size: 10.0,
            origin: [x, y],
            end: [x + w, y],
            direction: [1.0, 0.0],
        }
    }

    fn line(text: &str, x: f64, y: f64) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, c)| glyph(&c.to_string(), x + 5.0 * i as f64, 5.0, y))
            .collect()
    }

    #[test]
    fn matches_span_glyph_runs_and_skip_line_changes() {
        let mut g = line("ab<@sig", 100.0, 700.0);
        // The rest of the tag continues after a small kerning gap (0.1 em).
        g.extend(line("nature@>", 136.0, 700.0));
        let m = match_glyphs(&g, "<@signature@>");
        assert_eq!(m, vec![[110.0, 698.0, 176.0, 708.0]]);
        // Same text, but the second half on the next line: no match.
        let mut g = line("<@sig", 100.0, 700.0);
        g.extend(line("nature@>", 125.0, 680.0));
        assert!(match_glyphs(&g, "<@signature@>").is_empty());
        assert!(match_glyphs(&g, "absent").is_empty());
    }

    #[test]
    fn gaps_become_spaces() {
        let mut g = line("Total", 100.0, 700.0);
        g.extend(line("$", 130.0, 700.0));
        assert!(match_glyphs(&g, "Total$").is_empty());
        assert_eq!(match_glyphs(&g, "Total $").len(), 1);
        assert_eq!(match_glyphs(&g, "$"), vec![[130.0, 698.0, 135.0, 708.0]]);
    }

    #[test]
    fn reading_order_is_top_down_then_left_right() {
        let mut r = vec![
            [300.0, 100.0, 310.0, 110.0],
            [100.0, 500.0, 110.0, 510.0],
            [50.0, 101.0, 60.0, 111.0],
        ];
        reading_order(&mut r, 0);
        assert_eq!(r[0][1], 500.0);
        assert_eq!(r[1][0], 50.0);
        assert_eq!(r[2][0], 300.0);
        // Rotated 90° clockwise: small x is at the top.
        reading_order(&mut r, 90);
        assert_eq!(r[0][0], 50.0);
        assert_eq!(r[1][0], 100.0);
    }

    #[test]
    fn matrices_compose_like_the_spec() {
        let m = mul(&translate(10.0, 0.0), &[2.0, 0.0, 0.0, 2.0, 5.0, 5.0]);
        assert_eq!(apply(&m, 0.0, 0.0), [25.0, 5.0]);
    }
}
