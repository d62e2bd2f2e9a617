//! The embedded font (DejaVu Sans) and how the glyphs a stamp uses become a PDF Type 0 font.
//!
//! The font is written as ISO 32000-2 §9.7 composite font: a Type 0 font with
//! `/Encoding /Identity-H` over a `CIDFontType2` descendant whose `/CIDToGIDMap` is `/Identity`,
//! so every two-byte code in a content stream is a glyph id of the embedded **subset**
//! (`subsetter` renumbers glyphs 1, 2, 3… in order of first use; 0 is `.notdef`). A `/ToUnicode`
//! CMap (§9.10.3) maps those codes back to text, which is what text extraction reads.
//!
//! There is no shaping: one character is one glyph, placed at its advance width, left to right.
//! Characters the font lacks (CJK among them) are drawn as `.notdef` (an empty box) and extract
//! as U+FFFD.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use paraf_pdf::{Dict, IncrementalUpdate, ObjRef, Object, PdfString, Stream};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::{deflate, AppearanceError};

/// DejaVu Sans 2.37; its licence is `assets/DejaVuSans-LICENSE.txt`.
static FONT_DATA: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const FONT_NAME: &str = "DejaVuSans";

/// The parsed font and the metrics the layout needs, in font units.
pub(super) struct Font {
    face: Face<'static>,
    pub(super) units_per_em: f64,
    pub(super) ascender: f64,
    pub(super) descender: f64,
    cap_height: f64,
    bbox: [f64; 4],
    space: u16,
}

/// The font, parsed once per process.
pub(super) fn font() -> Result<&'static Font, AppearanceError> {
    static FONT: OnceLock<Result<Font, String>> = OnceLock::new();
    FONT.get_or_init(Font::parse)
        .as_ref()
        .map_err(|e| AppearanceError::Font(e.clone()))
}

impl Font {
    fn parse() -> Result<Font, String> {
        let face = Face::parse(FONT_DATA, 0).map_err(|e| format!("{FONT_NAME}: {e}"))?;
        let b = face.global_bounding_box();
        let space = face.glyph_index(' ').map_or(0, |g| g.0);
        Ok(Font {
            units_per_em: f64::from(face.units_per_em()),
            ascender: f64::from(face.ascender()),
            descender: f64::from(face.descender()),
            cap_height: f64::from(face.capital_height().unwrap_or(face.ascender())),
            bbox: [
                f64::from(b.x_min),
                f64::from(b.y_min),
                f64::from(b.x_max),
                f64::from(b.y_max),
            ],
            space,
            face,
        })
    }

    /// The glyph for `c` in the full font (0, `.notdef`, when the font lacks it).
    /// Tabs and other white space become the space glyph.
    pub(super) fn glyph(&self, c: char) -> u16 {
        if c.is_whitespace() {
            return self.space;
        }
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    /// The advance width of glyph `gid` of the full font, in font units.
    pub(super) fn advance(&self, gid: u16) -> f64 {
        f64::from(self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0))
    }

    /// Glyph units → PDF text space units (thousandths of the font size).
    fn to_pdf(&self, v: f64) -> f64 {
        v * 1000.0 / self.units_per_em
    }
}

/// A run of text as glyphs of the full font, each with the character it came from.
#[derive(Clone, Debug, Default)]
pub(super) struct Glyphs {
    pub(super) glyphs: Vec<(u16, char)>,
    /// The sum of the advances, in font units.
    pub(super) width: f64,
}

impl Glyphs {
    pub(super) fn new(font: &Font, text: &str) -> Self {
        let mut g = Glyphs::default();
        for c in text.chars().filter(|c| !c.is_control() || *c == '\t') {
            g.push(font, c);
        }
        g
    }

    fn push(&mut self, font: &Font, c: char) {
        let c = if c.is_whitespace() { ' ' } else { c };
        let gid = font.glyph(c);
        self.width += font.advance(gid);
        self.glyphs.push((gid, c));
    }

    pub(super) fn extend(&mut self, other: &Glyphs) {
        self.glyphs.extend_from_slice(&other.glyphs);
        self.width += other.width;
    }
}

/// The glyphs a stamp uses, renumbered for the subset, with the text each one stands for.
pub(super) struct GlyphSet {
    remapper: GlyphRemapper,
    /// New glyph id → the character it was first used for.
    unicode: HashMap<u16, char>,
}

impl GlyphSet {
    pub(super) fn new() -> Self {
        Self {
            remapper: GlyphRemapper::new(),
            unicode: HashMap::new(),
        }
    }

    /// The codes of `glyphs` in the subset, as the hex string operand of `Tj`.
    pub(super) fn encode(&mut self, glyphs: &Glyphs) -> String {
        let mut hex = String::with_capacity(2 + glyphs.glyphs.len() * 4);
        hex.push('<');
        for &(gid, c) in &glyphs.glyphs {
            let new = self.remapper.remap(gid);
            let c = if gid == 0 { '\u{FFFD}' } else { c };
            self.unicode.entry(new).or_insert(c);
            let _ = write!(hex, "{new:04X}");
        }
        hex.push('>');
        hex
    }

    /// Writes the subset font and its dictionaries to `update`; returns the Type 0 font's ref.
    pub(super) fn embed(
        self,
        update: &mut IncrementalUpdate<'_>,
        font: &Font,
    ) -> Result<ObjRef, AppearanceError> {
        let subset = subsetter::subset(FONT_DATA, 0, &self.remapper)
            .map_err(|e| AppearanceError::Font(format!("subsetting {FONT_NAME} failed: {e}")))?;
        let old_gids: Vec<u16> = self.remapper.remapped_gids().collect();
        let base_font = format!("{}+{FONT_NAME}", subset_tag(&old_gids));

        let file_ref = update.alloc();
        let descriptor_ref = update.alloc();
        let cid_ref = update.alloc();
        let to_unicode_ref = update.alloc();
        let type0_ref = update.alloc();

        let file = Stream {
            dict: Dict::new()
                .with("Length1", subset.len())
                .with("Filter", Object::name("FlateDecode")),
            data: deflate(&subset)?,
        };
        update.put(file_ref, file);

        let [x0, y0, x1, y1] = font.bbox;
        let descriptor = Dict::new()
            .with("Type", Object::name("FontDescriptor"))
            .with("FontName", Object::name(&base_font))
            .with("Flags", 4)
            .with(
                "FontBBox",
                vec![
                    real(font.to_pdf(x0)),
                    real(font.to_pdf(y0)),
                    real(font.to_pdf(x1)),
                    real(font.to_pdf(y1)),
                ],
            )
            .with("ItalicAngle", 0)
            .with("Ascent", real(font.to_pdf(font.ascender)))
            .with("Descent", real(font.to_pdf(font.descender)))
            .with("CapHeight", real(font.to_pdf(font.cap_height)))
            .with("StemV", 80)
            .with("FontFile2", file_ref);
        update.put(descriptor_ref, descriptor);

        // One run starting at CID 0: the subset's glyphs are numbered 0..n without gaps.
        let widths: Vec<Object> = old_gids
            .iter()
            .map(|&g| real(font.to_pdf(font.advance(g))))
            .collect();
        let cid_font = Dict::new()
            .with("Type", Object::name("Font"))
            .with("Subtype", Object::name("CIDFontType2"))
            .with("BaseFont", Object::name(&base_font))
            .with(
                "CIDSystemInfo",
                Dict::new()
                    .with("Registry", PdfString::literal(b"Adobe".to_vec()))
                    .with("Ordering", PdfString::literal(b"Identity".to_vec()))
                    .with("Supplement", 0),
            )
            .with("FontDescriptor", descriptor_ref)
            .with("DW", 0)
            .with("W", vec![Object::Int(0), Object::Array(widths)])
            .with("CIDToGIDMap", Object::name("Identity"));
        update.put(cid_ref, cid_font);

        let cmap = to_unicode_cmap(&self.unicode);
        update.put(
            to_unicode_ref,
            Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data: deflate(cmap.as_bytes())?,
            },
        );

        let type0 = Dict::new()
            .with("Type", Object::name("Font"))
            .with("Subtype", Object::name("Type0"))
            .with("BaseFont", Object::name(&base_font))
            .with("Encoding", Object::name("Identity-H"))
            .with("DescendantFonts", vec![Object::Ref(cid_ref)])
            .with("ToUnicode", to_unicode_ref);
        update.put(type0_ref, type0);
        Ok(type0_ref)
    }
}

fn real(v: f64) -> Object {
    Object::Real(v)
}

/// The six-capital-letter subset tag (§9.6.4), derived from the glyph set so that the same
/// stamp always produces the same bytes.
fn subset_tag(gids: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in gids {
        for b in g.to_be_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 8)) % 26) as u8))
        .collect()
}

/// A ToUnicode CMap (§9.10.3) for two-byte codes.
fn to_unicode_cmap(map: &HashMap<u16, char>) -> String {
    let mut entries: Vec<(u16, char)> = map.iter().map(|(&k, &v)| (k, v)).collect();
    entries.sort_unstable();
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in entries.chunks(100) {
        let _ = writeln!(s, "{} beginbfchar", chunk.len());
        for &(code, c) in chunk {
            let mut units = [0u16; 2];
            let utf16: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(s, "<{code:04X}> <{utf16}>");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font").field("name", &FONT_NAME).finish()
    }
}
