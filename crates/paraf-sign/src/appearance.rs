//! Visible signature appearances: the form XObject (ISO 32000-2 §8.10) that a signature
//! widget shows as its normal appearance (`/AP << /N … >>`, §12.5.5).
//!
//! A stamp has up to three parts, laid out left to right in the widget's rectangle:
//!
//! ```text
//! ┌──────────────────────────────────────────────────┐
//! │ ┌────────┐ ┌─────────┐  Ni Luh Putu Ayu Śrī      │
//! │ │ QR     │ │ image   │  2025-01-15 10:23 +07:00  │
//! │ │ code   │ │         │  Reason: Persetujuan      │
//! │ └────────┘ └─────────┘  Denpasar                 │
//! └──────────────────────────────────────────────────┘
//! ```
//!
//! - the QR code of a verification URL, a square at full height;
//! - the signer's image (handwritten signature, seal or logo), scaled to fit preserving its
//!   aspect ratio: beside the text it takes at most 45 % of the remaining width; alone it fills
//!   the box, centred;
//! - the text lines, in one font size: the largest (at most 24 pt) at which the lines as given
//!   fit the space left; when that would be under 7 pt, long lines are wrapped at spaces
//!   instead, at the largest size that then fits; never under 4 pt — text that does not fit
//!   even then is broken inside words and, past the bottom, clipped.
//!
//! Text is set in the embedded DejaVu Sans (Latin, Greek, Cyrillic, Arabic and more; no CJK),
//! drawn one glyph per character without shaping (see the `font` submodule).
//!
//! **API Boundary**: [`build_appearance`] only adds objects to an [`IncrementalUpdate`]; the
//! caller puts the returned XObject into a widget's `/AP`. Nothing here reads the clock: dates
//! arrive already formatted in [`AppearanceSpec::lines`].

mod font;
mod image;
mod qr;

use std::fmt::{self, Write as _};
use std::io::Write as _;

use flate2::{write::ZlibEncoder, Compression};
use paraf_pdf::{Dict, IncrementalUpdate, ObjRef, Object, Stream};

use self::font::{Font, GlyphSet, Glyphs};

/// What a visible signature shows.
#[derive(Clone, Debug, Default)]
pub struct AppearanceSpec {
    /// The widget's width, in points.
    pub width: f64,
    /// The widget's height, in points.
    pub height: f64,
    /// The signer's image: a handwritten signature, a seal, a logo.
    pub image: Option<ImageSource>,
    /// A URL to show as a QR code (BSrE's `linkQR`), typically the verification page.
    pub qr_url: Option<String>,
    /// Text lines, top to bottom: signer name, date, reason, location, free text. Any Unicode;
    /// a `\n` inside a line starts a new one.
    pub lines: Vec<String>,
    /// Draw a thin frame around the stamp.
    pub border: bool,
    /// The page's `/Rotate` (0, 90, 180, 270): the form's `/Matrix` turns the stamp against it
    /// so that it stands upright on the displayed page. `width`/`height` are as displayed.
    pub rotate: i64,
}

/// An image's bytes and the format the client said they are in.
///
/// The declared format is a hint: the bytes' own signature decides, so a JPEG uploaded as
/// "PNG" still works.
#[derive(Clone)]
pub enum ImageSource {
    Png(Vec<u8>),
    Jpeg(Vec<u8>),
    /// Detect PNG or JPEG from the leading bytes.
    Auto(Vec<u8>),
}

impl fmt::Debug for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, b) = match self {
            ImageSource::Png(b) => ("Png", b),
            ImageSource::Jpeg(b) => ("Jpeg", b),
            ImageSource::Auto(b) => ("Auto", b),
        };
        write!(f, "{kind}({} bytes)", b.len())
    }
}

/// Why an appearance could not be built. Messages are one line, fit to show to the signer.
#[derive(Debug, thiserror::Error)]
pub enum AppearanceError {
    #[error("the image is not a readable PNG or JPEG: {0}")]
    UnreadableImage(String),
    #[error("the QR code URL is too long to fit in a QR code (at most 2953 bytes)")]
    QrTooLong,
    #[error("the QR code could not be made: {0}")]
    Qr(String),
    #[error(
        "the appearance must be between 1 and 14400 points wide and high, not {width} × {height}"
    )]
    InvalidSize { width: f64, height: f64 },
    #[error("the embedded font cannot be used: {0}")]
    Font(String),
    #[error("compressing the appearance failed: {0}")]
    Compression(String),
}

/// The largest font size chosen for the text, in points.
const MAX_FONT_SIZE: f64 = 24.0;
/// The smallest font size; text that does not fit at this size is clipped.
pub const MIN_FONT_SIZE: f64 = 4.0;
/// Below this size, long lines are wrapped at spaces rather than shrunk further.
const READABLE_FONT_SIZE: f64 = 7.0;
/// Baseline-to-baseline distance, as a multiple of the font size.
const LEADING: f64 = 1.2;
/// Stroke width of the border, in points.
const BORDER_WIDTH: f64 = 0.75;
/// The largest share of the width (after the QR code) that an image beside text takes.
const IMAGE_SHARE: f64 = 0.45;

/// `[0 0 w h]`: the bounding box of a form XObject of `w`×`h`.
pub(crate) fn bbox(w: f64, h: f64) -> Vec<Object> {
    vec![
        Object::Int(0),
        Object::Int(0),
        Object::Real(w),
        Object::Real(h),
    ]
}

/// Adds the form XObject (and its image and font resources) to the update; returns the
/// XObject's ref. The XObject has `/BBox [0 0 width height]` and the identity `/Matrix`.
pub fn build_appearance(
    update: &mut IncrementalUpdate<'_>,
    spec: &AppearanceSpec,
) -> Result<ObjRef, AppearanceError> {
    let (w, h) = (spec.width, spec.height);
    if !(1.0..=14_400.0).contains(&w) || !(1.0..=14_400.0).contains(&h) {
        return Err(AppearanceError::InvalidSize {
            width: w,
            height: h,
        });
    }
    let qr = spec.qr_url.as_deref().map(qr::encode).transpose()?;
    let image = spec.image.as_ref().map(image::prepare).transpose()?;
    let lines: Vec<&str> = spec.lines.iter().flat_map(|l| l.split('\n')).collect();
    let has_text = lines.iter().any(|l| !l.trim().is_empty());

    let mut content = String::from("q\n");
    let mut pad = (w.min(h) * 0.05).clamp(1.0, 4.0);
    if spec.border {
        let b = BORDER_WIDTH;
        let _ = writeln!(
            content,
            "q {} w 0 G {} {} {} {} re S Q",
            N(b),
            N(b / 2.0),
            N(b / 2.0),
            N(w - b),
            N(h - b)
        );
        pad += b;
    }
    // The space not yet used, shrinking from the left.
    let mut free = Rect {
        x: pad,
        y: pad,
        w: w - 2.0 * pad,
        h: h - 2.0 * pad,
    };

    if let Some(qr) = &qr {
        let side = free.h.min(free.w);
        if side > 0.0 {
            qr.draw(free.x, free.y + (free.h - side) / 2.0, side, &mut content);
            free.take_left(side + pad);
        }
    }

    let mut image_placed = None;
    if let Some(img) = image {
        let slot = if has_text {
            let slot_w = (free.w * IMAGE_SHARE).min(free.h * img.aspect());
            Rect { w: slot_w, ..free }
        } else {
            free
        };
        if slot.w > 0.0 && slot.h > 0.0 {
            let (dw, dh) = fit(img.aspect(), slot.w, slot.h);
            let dx = slot.x + (slot.w - dw) / 2.0;
            let dy = slot.y + (slot.h - dh) / 2.0;
            let _ = writeln!(
                content,
                "q {} 0 0 {} {} {} cm /Im1 Do Q",
                N(dw),
                N(dh),
                N(dx),
                N(dy)
            );
            free.take_left(slot.w + pad);
            image_placed = Some(img);
        }
    }

    let mut glyph_set = None;
    if has_text && free.w > 0.0 && free.h > 0.0 {
        let font = font::font()?;
        let block = layout_text(font, &lines, free);
        let mut set = GlyphSet::new();
        // Clip to the text's column (full height, so no descender is cut by the padding).
        let _ = writeln!(
            content,
            "q {} 0 {} {} re W n BT /F1 {} Tf 0 g",
            N(free.x),
            N(w - free.x),
            N(h),
            N(block.size)
        );
        let line_height = block.size * LEADING;
        let block_h = block.height(font);
        let top = free.y + free.h - ((free.h - block_h) / 2.0).max(0.0);
        let mut baseline = top - font.ascender / font.units_per_em * block.size;
        for line in &block.lines {
            if !line.glyphs.is_empty() {
                let _ = writeln!(
                    content,
                    "1 0 0 1 {} {} Tm {} Tj",
                    N(free.x),
                    N(baseline),
                    set.encode(line)
                );
            }
            baseline -= line_height;
        }
        content.push_str("ET Q\n");
        glyph_set = Some((set, font));
    }
    content.push_str("Q\n");

    let mut resources = Dict::new();
    if let Some((set, font)) = glyph_set {
        let font_ref = set.embed(update, font)?;
        resources.set("Font", Dict::new().with("F1", font_ref));
    }
    if let Some(img) = image_placed {
        let image_ref = img.embed(update);
        resources.set("XObject", Dict::new().with("Im1", image_ref));
    }
    let form = Stream {
        dict: Dict::new()
            .with("Type", Object::name("XObject"))
            .with("Subtype", Object::name("Form"))
            .with("FormType", 1)
            .with("BBox", bbox(w, h))
            .with(
                "Matrix",
                rotation_matrix(spec.rotate).map(Object::Int).to_vec(),
            )
            .with("Resources", resources)
            .with("Filter", Object::name("FlateDecode")),
        data: deflate(content.as_bytes())?,
    };
    let form_ref = update.alloc();
    update.put(form_ref, form);
    Ok(form_ref)
}

/// The form matrix that undoes a page rotation: the page turns clockwise by `rotate` degrees
/// when displayed, so the stamp is turned counter-clockwise by as much (§12.5.5: the widget's
/// `/Rect` then receives the transformed `/BBox`).
fn rotation_matrix(rotate: i64) -> [i64; 6] {
    match rotate.rem_euclid(360) {
        90 => [0, 1, -1, 0, 0, 0],
        180 => [-1, 0, 0, -1, 0, 0],
        270 => [0, -1, 1, 0, 0, 0],
        _ => [1, 0, 0, 1, 0, 0],
    }
}

/// A rectangle in the XObject's space, by its lower-left corner.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn take_left(&mut self, by: f64) {
        self.x += by;
        self.w -= by;
    }
}

/// The largest size with aspect ratio `aspect` (width / height) inside `w` × `h`.
fn fit(aspect: f64, w: f64, h: f64) -> (f64, f64) {
    if w / h > aspect {
        (h * aspect, h)
    } else {
        (w, w / aspect)
    }
}

/// Text lines set in one size.
struct TextBlock {
    size: f64,
    lines: Vec<Glyphs>,
}

impl TextBlock {
    /// From the first line's ascender to the last line's descender, in points.
    fn height(&self, font: &Font) -> f64 {
        block_height(font, self.lines.len(), self.size)
    }
}

fn block_height(font: &Font, lines: usize, size: f64) -> f64 {
    let extent = (font.ascender - font.descender) / font.units_per_em * size;
    lines.saturating_sub(1) as f64 * size * LEADING + extent
}

/// Chooses the font size (in steps of ¼ pt) and line breaks: the lines as given at the
/// largest size that fits `area`, if that is at least [`READABLE_FONT_SIZE`]; else the largest
/// size at which the lines, wrapped at spaces, fit; else [`MIN_FONT_SIZE`], words broken.
fn layout_text(font: &Font, lines: &[&str], area: Rect) -> TextBlock {
    let space = Glyphs::new(font, " ");
    let paragraphs: Vec<Vec<Glyphs>> = lines
        .iter()
        .map(|l| {
            l.split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .map(|w| Glyphs::new(font, w))
                .collect()
        })
        .collect();
    let quarter = |size: f64| (size * 4.0).floor() / 4.0;
    let extent = (font.ascender - font.descender) / font.units_per_em;

    // The lines as given, if that keeps them readable: a name or a date broken in two reads
    // worse than slightly smaller text.
    let unwrapped = wrap(&paragraphs, &space, f64::INFINITY, font, false).unwrap_or_default();
    let widest = unwrapped.iter().map(|l| l.width).fold(0.0, f64::max);
    let height_fit = area.h / ((unwrapped.len().max(1) - 1) as f64 * LEADING + extent);
    let width_fit = if widest > 0.0 {
        area.w / widest * font.units_per_em
    } else {
        f64::INFINITY
    };
    let size = quarter(MAX_FONT_SIZE.min(height_fit).min(width_fit));
    if size >= READABLE_FONT_SIZE {
        return TextBlock {
            size,
            lines: unwrapped,
        };
    }

    // Otherwise the largest size at which the lines, wrapped at spaces, fit.
    let mut size = quarter(MAX_FONT_SIZE.min(area.h / extent));
    while size > MIN_FONT_SIZE {
        let max_units = area.w / size * font.units_per_em;
        if let Some(wrapped) = wrap(&paragraphs, &space, max_units, font, false) {
            if block_height(font, wrapped.len(), size) <= area.h {
                return TextBlock {
                    size,
                    lines: wrapped,
                };
            }
        }
        size -= 0.25;
    }
    let max_units = area.w / MIN_FONT_SIZE * font.units_per_em;
    TextBlock {
        size: MIN_FONT_SIZE,
        lines: wrap(&paragraphs, &space, max_units, font, true).unwrap_or_default(),
    }
}

/// Greedy line breaking at spaces. A word wider than a line makes it fail, unless
/// `break_words`, when the word is cut between characters.
fn wrap(
    paragraphs: &[Vec<Glyphs>],
    space: &Glyphs,
    max_units: f64,
    font: &Font,
    break_words: bool,
) -> Option<Vec<Glyphs>> {
    let mut out = Vec::new();
    for words in paragraphs {
        let mut line = Glyphs::default();
        for word in words {
            if !line.glyphs.is_empty() && line.width + space.width + word.width <= max_units {
                line.extend(space);
                line.extend(word);
                continue;
            }
            if !line.glyphs.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            if word.width <= max_units {
                line = word.clone();
            } else if break_words {
                for &(gid, c) in &word.glyphs {
                    let adv = font.advance(gid);
                    if !line.glyphs.is_empty() && line.width + adv > max_units {
                        out.push(std::mem::take(&mut line));
                    }
                    line.glyphs.push((gid, c));
                    line.width += adv;
                }
            } else {
                return None;
            }
        }
        out.push(line);
    }
    Some(out)
}

/// zlib-compresses a stream's data for `/FlateDecode`.
fn deflate(data: &[u8]) -> Result<Vec<u8>, AppearanceError> {
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::default(),
    );
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| AppearanceError::Compression(e.to_string()))
}

/// A number in content-stream syntax: at most four decimals, no exponent, no trailing zeros.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_finite() {
            return f.write_str("0");
        }
        let s = format!("{:.4}", self.0);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(if s == "-0" || s.is_empty() { "0" } else { s })
    }
}
