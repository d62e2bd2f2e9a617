//! Render comparison: what a signed revision *shows* against what the final file shows.
//!
//! The structural analysis ([`crate::diff`]) judges the objects changed after a signature; a
//! "shadow" attack keeps to allowed kinds of change (a form fill, an annotation, a later
//! signature's appearance) but alters what the reader sees. Here each page of the signed
//! revision and of the final file is rendered (hayro: pure Rust, the same renderer both
//! times, so identical content gives identical pixels) and compared pixel by pixel:
//!
//! - inside the appearance of a signature field added or changed later: anything may change (a
//!   later signer's stamp; one centred on its tag covers the tag) — covering content that the
//!   signed revision showed is reported as a warning; a document timestamp's widget may show
//!   nothing;
//! - inside another annotation added or changed later (a filled form field, a comment): ink may
//!   only be *added* on what was blank paper; covering or altering what the signer saw is a
//!   visible change;
//! - anywhere else: any difference is a visible change.
//!
//! Each visible change names the page and the region (points, from the displayed page's
//! top-left corner). Pages beyond [`MAX_PAGES`] are not compared (the report says so).

use std::collections::HashSet;
use std::rc::Rc;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use paraf_pdf::{Dict, ObjRef, Object};

use crate::report::VisibleChange;
use crate::revision::View;

/// Pages compared per signature (and rendered per revision).
pub const MAX_PAGES: usize = 50;
/// Files larger than this are not rendered (the structural analysis alone judges them).
const MAX_FILE: usize = 64 << 20;
/// Changed annotations considered per page (more: the rest allow nothing).
const MAX_REGIONS: usize = 500;
/// Pixels per point at most (36 dpi: 12-point text is 6 pixels high, enough to see it change;
/// a page compares in milliseconds); large pages are rendered smaller.
const SCALE: f64 = 0.5;
/// The longest side of a rendered page, pixels.
const MAX_SIDE: f64 = 1000.0;
/// A channel difference below this is anti-aliasing noise, not a change.
const DIFF: u8 = 48;
/// Luminance above which a pixel of the signed revision counts as blank paper.
const PAPER: u32 = 235;
/// Luminance below which a pixel of the signed revision counts as content a stamp may cover.
const INK: u32 = 160;
/// Changed pixels on a page below this many are ignored.
const MIN_PIXELS: usize = 2;
/// Margin around annotation rectangles, pixels (anti-aliased edges).
const MARGIN: f64 = 1.5;

/// Decoded bytes one Flate stream may reach before the file is not rendered.
const MAX_STREAM: usize = 64 << 20;
/// Objects a file may have to be rendered (the pre-flight reads each).
const MAX_OBJECTS: usize = 200_000;
/// Pixels an image may have to be rendered.
const MAX_IMAGE_PIXELS: i64 = 50_000_000;

/// Why `doc` is not rendered, if it is not: hayro decodes streams and images without a size
/// limit, so a stream that inflates beyond [`MAX_STREAM`] (a decompression bomb) or an image
/// larger than [`MAX_IMAGE_PIXELS`] keeps the renderer away; the structural analysis alone
/// judges such a file.
pub(crate) fn refusal(doc: &paraf_pdf::Document) -> Option<String> {
    let entries = &doc.xref().entries;
    if entries.len() > MAX_OBJECTS {
        return Some(format!("it has more than {MAX_OBJECTS} objects"));
    }
    for (num, entry) in entries {
        let paraf_pdf::xref::XrefEntry::InFile { gen, .. } = entry else {
            continue;
        };
        let Ok(Object::Stream(st)) = doc.get(ObjRef::new(*num, *gen)) else {
            continue;
        };
        let d = &st.dict;
        if d.name("Subtype") == Some(b"Image") {
            let n = |k: &str| d.get(k).and_then(Object::as_int).unwrap_or(0);
            if n("Width").saturating_mul(n("Height")) > MAX_IMAGE_PIXELS {
                return Some(format!(
                    "object {num} is an image of more than {MAX_IMAGE_PIXELS} pixels"
                ));
            }
        }
        let filters: Vec<&[u8]> = match d.get("Filter") {
            Some(Object::Name(n)) => vec![n.as_slice()],
            Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
            _ => Vec::new(),
        };
        // A Flate stream first in the chain is checked; one behind another filter is too rare
        // to matter (and the other filters expand little).
        if matches!(filters.first(), Some(&(b"FlateDecode" | b"Fl")))
            && paraf_pdf::filter::inflates_beyond(&st.data, MAX_STREAM)
        {
            return Some(format!(
                "object {num} inflates beyond {} MB",
                MAX_STREAM >> 20
            ));
        }
    }
    None
}

/// One rendered page: RGB pixels over white and the user-space → pixel transform.
pub(crate) struct PageImage {
    width: usize,
    height: usize,
    rgb: Vec<[u8; 3]>,
    /// `[a b c d e f]`: x' = a·x + c·y + e, y' = b·x + d·y + f.
    to_pixels: [f64; 6],
    scale: f64,
}

/// Every page (at most [`MAX_PAGES`]) of `data` rendered, and the page count; `None` when
/// hayro cannot open or draw it (then nothing is compared). A panic inside the renderer on a
/// hostile file is caught and counts as "cannot draw".
pub(crate) fn render(data: Vec<u8>, password: &[u8]) -> Option<(Vec<PageImage>, usize)> {
    if data.len() > MAX_FILE {
        return None;
    }
    let password = std::str::from_utf8(password).ok()?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render_pages(data, password)
    }))
    .ok()
    .flatten()
}

fn render_pages(data: Vec<u8>, password: &str) -> Option<(Vec<PageImage>, usize)> {
    let pdf = Pdf::new_with_password(data, password).ok()?;
    let pages = pdf.pages();
    let count = pages.len();
    let settings = InterpreterSettings::default();
    let cache = hayro::RenderCache::new();
    let mut out = Vec::new();
    for p in pages.iter().take(MAX_PAGES) {
        let (w, h) = p.render_dimensions();
        let scale = SCALE.min(MAX_SIDE / f64::from(w.max(h)).max(1.0));
        let pixmap = hayro::render(
            p,
            &cache,
            &settings,
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings {
                x_scale: scale as f32,
                y_scale: scale as f32,
                bg_color: WHITE,
            },
        );
        let (width, height) = (usize::from(pixmap.width()), usize::from(pixmap.height()));
        // Opaque over a white background: premultiplied equals straight colour.
        let rgb = pixmap.data().iter().map(|px| [px.r, px.g, px.b]).collect();
        let [a, b, c, d, e, f] = p.initial_transform(true).as_coeffs();
        out.push(PageImage {
            width,
            height,
            rgb,
            to_pixels: [
                a * scale,
                b * scale,
                c * scale,
                d * scale,
                e * scale,
                f * scale,
            ],
            scale,
        });
    }
    Some((out, count))
}

/// What may change inside an annotation added or changed after the signed revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowance {
    /// A later signature's appearance: anything.
    Any,
    /// A filled field or another annotation: ink on blank paper only.
    InkOnPaper,
    /// A document timestamp's widget: nothing (it has nothing to show).
    Nothing,
}

/// An annotation added or changed after the signed revision, on one page of the final file.
pub(crate) struct Region {
    /// Its `/Rect`, user space.
    rect: [f64; 4],
    allowance: Allowance,
    /// It has no appearance stream of its own: viewers draw it (a field's value, say) and
    /// hayro does not, so its whole area counts as painted over.
    drawn_by_viewer: bool,
}

impl Region {
    /// Whether it covers any area at all (document timestamps' widgets are usually `[0 0 0 0]`).
    pub(crate) fn visible(&self) -> bool {
        self.rect[2] > self.rect[0] && self.rect[3] > self.rect[1]
    }
}

fn rect_of(d: &Dict, view: &View<'_>) -> Option<[f64; 4]> {
    let r = view.resolve_key(d, "Rect");
    let a = r.as_array()?;
    let n = |i: usize| a.get(i).and_then(Object::as_f64);
    let (x0, y0, x1, y1) = (n(0)?, n(1)?, n(2)?, n(3)?);
    Some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)])
}

/// What a widget or annotation may change: a signature field's by its value — anything for
/// the widget of a later signature found intact (`later`: their dictionaries' object
/// numbers), nothing for a document timestamp's, ink on paper for any other (an unsigned or
/// broken "signature" earns no more than a comment).
fn allowance(d: &Dict, view: &View<'_>, later: &HashSet<u32>) -> Allowance {
    if d.name("Subtype") != Some(b"Widget") {
        return Allowance::InkOnPaper;
    }
    let mut cur = d.clone();
    for _ in 0..16 {
        if let Some(ft) = cur.name("FT") {
            if ft != b"Sig" {
                return Allowance::InkOnPaper;
            }
            let v_obj = cur.get("V").cloned().unwrap_or(Object::Null);
            let v = view.dict(&v_obj);
            let timestamp = v.is_some_and(|v| {
                v.name("Type") == Some(b"DocTimeStamp")
                    || v.name("SubFilter") == Some(b"ETSI.RFC3161")
            });
            if timestamp {
                return Allowance::Nothing;
            }
            return match v_obj.as_ref() {
                Some(r) if later.contains(&r.num) => Allowance::Any,
                _ => Allowance::InkOnPaper,
            };
        }
        match view.dict(&view.resolve_key(&cur, "Parent")) {
            Some(p) => cur = p,
            None => break,
        }
    }
    Allowance::InkOnPaper
}

/// The appearance streams an annotation shows (`/AP /N`, one level of states).
fn appearance(d: &Dict, view: &View<'_>) -> Vec<Rc<Object>> {
    let ap = view.resolve_key(d, "AP");
    let Some(ap) = ap.as_dict() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let n = ap.get("N").cloned().unwrap_or(Object::Null);
    let mut push = |o: &Object| match o {
        Object::Ref(r) => out.push(view.get(*r)),
        other => out.push(Rc::new(other.clone())),
    };
    push(&n);
    if let Some(states) = view.resolve(&n).as_dict() {
        for (_, v) in states.iter() {
            push(v);
        }
    }
    out
}

/// Per page of `fin` (the final file), the annotations that are new or changed since `signed`
/// (the annotation dictionary or the appearance it shows differ); `later`: the signature
/// dictionaries (object numbers) of the intact signatures made after the signed revision.
pub(crate) fn changed_annotations(
    signed: &View<'_>,
    fin: &View<'_>,
    later: &HashSet<u32>,
) -> Vec<Vec<Region>> {
    let signed_pages = signed.page_refs();
    fin.page_refs()
        .iter()
        .enumerate()
        .map(|(i, page_ref)| {
            let Some(page) = fin.dict(&Object::Ref(*page_ref)) else {
                return Vec::new();
            };
            // The signed revision's annotations of the same page, by position in the tree.
            let before: Vec<Object> = signed_pages
                .get(i)
                .and_then(|r| signed.dict(&Object::Ref(*r)))
                .map(|p| signed.resolve_key(&p, "Annots"))
                .and_then(|a| a.as_array().map(<[Object]>::to_vec))
                .unwrap_or_default();
            let annots = fin.resolve_key(&page, "Annots");
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            for a in annots.as_array().unwrap_or(&[]) {
                if out.len() >= MAX_REGIONS {
                    break;
                }
                if let Some(r) = a.as_ref() {
                    if !seen.insert(r.num) {
                        continue;
                    }
                }
                let Some(d) = fin.dict(a) else { continue };
                let unchanged = match a {
                    Object::Ref(r) => {
                        let r: ObjRef = *r;
                        before.iter().any(|b| b.as_ref() == Some(r))
                            && *signed.get(r) == *fin.get(r)
                            && signed
                                .dict(a)
                                .is_some_and(|old| appearance(&old, signed) == appearance(&d, fin))
                    }
                    direct => before.contains(direct),
                };
                if unchanged {
                    continue;
                }
                if let Some(rect) = rect_of(&d, fin) {
                    out.push(Region {
                        rect,
                        allowance: allowance(&d, fin, later),
                        drawn_by_viewer: appearance(&d, fin)
                            .iter()
                            .all(|o| o.as_stream().is_none()),
                    });
                }
            }
            out
        })
        .collect()
}

/// A region's pixel box on `page`: `[x0, y0, x1, y1)` clamped to the page.
fn pixel_box(page: &PageImage, rect: [f64; 4]) -> [usize; 4] {
    let [a, b, c, d, e, f] = page.to_pixels;
    let corners = [
        (rect[0], rect[1]),
        (rect[0], rect[3]),
        (rect[2], rect[1]),
        (rect[2], rect[3]),
    ];
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in corners {
        let (px, py) = (a * x + c * y + e, b * x + d * y + f);
        x0 = x0.min(px);
        y0 = y0.min(py);
        x1 = x1.max(px);
        y1 = y1.max(py);
    }
    let clamp = |v: f64, max: usize| -> usize {
        if v.is_nan() || v <= 0.0 {
            0
        } else {
            (v as usize).min(max)
        }
    };
    [
        clamp(x0 - MARGIN, page.width),
        clamp(y0 - MARGIN, page.height),
        clamp(x1 + MARGIN + 1.0, page.width),
        clamp(y1 + MARGIN + 1.0, page.height),
    ]
}

fn luminance([r, g, b]: [u8; 3]) -> u32 {
    (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000
}

/// What comparing one signed revision with the final file found.
#[derive(Default)]
pub(crate) struct Comparison {
    /// Visible changes no allowed change explains.
    pub changes: Vec<VisibleChange>,
    /// Pages where a later signature's appearance covers content the signed revision showed.
    pub covered_pages: Vec<usize>,
}

/// Compares the signed revision's pages with the final file's (`regions` per final page).
pub(crate) fn compare(
    signed: &(Vec<PageImage>, usize),
    fin: &(Vec<PageImage>, usize),
    regions: &[Vec<Region>],
) -> Comparison {
    let mut out = Comparison::default();
    if signed.1 != fin.1 {
        out.changes.push(VisibleChange {
            page: signed.1.min(fin.1) + 1,
            rect: None,
            pixels: 0,
            what: format!(
                "the signed revision has {} pages, the final file {}",
                signed.1, fin.1
            ),
        });
    }
    for (i, (s, f)) in signed.0.iter().zip(fin.0.iter()).enumerate() {
        if s.width != f.width || s.height != f.height {
            out.changes.push(VisibleChange {
                page: i + 1,
                rect: None,
                pixels: 0,
                what: "the page's size changed".into(),
            });
            continue;
        }
        // What may change where: 2 anything (a later signature), 1 ink on paper, 0 nothing.
        let mut mask = vec![0u8; f.width * f.height];
        for r in regions.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            let code = match r.allowance {
                Allowance::Any => 2,
                Allowance::InkOnPaper => 1,
                Allowance::Nothing => continue,
            };
            let [x0, y0, x1, y1] = pixel_box(f, r.rect);
            for y in y0..y1 {
                if let Some(row) = mask.get_mut(y * f.width + x0..y * f.width + x1) {
                    for v in row {
                        *v = (*v).max(code);
                    }
                }
            }
        }
        // An annotation the viewer draws itself, over what the signer saw: a visible change
        // hayro cannot show.
        for r in regions.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            if !r.drawn_by_viewer || r.allowance == Allowance::Any || !r.visible() {
                continue;
            }
            let [x0, y0, x1, y1] = pixel_box(f, r.rect);
            let under = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| y * s.width + x))
                .filter(|idx| s.rgb.get(*idx).is_some_and(|p| luminance(*p) < INK))
                .count();
            if under >= MIN_PIXELS {
                let pt = |v: usize| (v as f64 / f.scale * 10.0).round() / 10.0;
                out.changes.push(VisibleChange {
                    page: i + 1,
                    rect: Some([pt(x0), pt(y0), pt(x1), pt(y1)]),
                    pixels: under,
                    what: "an annotation without its own appearance (the viewer draws it) lies over what the signed revision showed".into(),
                });
            }
        }
        let (mut n, mut covered) = (0usize, 0usize);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
        for (idx, (ps, pf)) in s.rgb.iter().zip(f.rgb.iter()).enumerate() {
            let d = ps
                .iter()
                .zip(pf.iter())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            if d < DIFF {
                continue;
            }
            let (x, y) = (idx % s.width.max(1), idx / s.width.max(1));
            let was = luminance(*ps);
            let allowed = mask.get(idx).copied().unwrap_or(0);
            if allowed == 2 {
                if was < INK {
                    covered += 1;
                }
                continue;
            }
            if was >= PAPER && allowed == 1 {
                continue;
            }
            n += 1;
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if covered >= MIN_PIXELS {
            out.covered_pages.push(i + 1);
        }
        if n >= MIN_PIXELS {
            let pt = |v: usize| (v as f64 / f.scale * 10.0).round() / 10.0;
            out.changes.push(VisibleChange {
                page: i + 1,
                rect: Some([pt(x0), pt(y0), pt(x1 + 1), pt(y1 + 1)]),
                pixels: n,
                what: "what the page shows changed outside later signature appearances and blank areas of filled fields".into(),
            });
        }
    }
    out
}
