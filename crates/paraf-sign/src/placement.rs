//! Where a visible signature goes: page + rectangle in points, percentages of the page, or a
//! text tag found in the page text.
//!
//! **Coordinates** (documented for API users in `docs/signing.md`): rectangles in points are given
//! on the page *as displayed* (after `/Rotate`), with the origin at the bottom-left corner of the
//! page's visible area (its CropBox, or MediaBox when there is none), x to the right, y up.
//! Percentages (Signing Today's `positionX/Y`, `width`, `height`) are of the visible area's width
//! and height, with the origin at the **top-left** corner, as in the web editors that produce them.
//! A tag places the stamp centred on the tag's bounding box.

use paraf_pdf::{Document, ObjRef, Page};

use crate::error::{Result, SignError};

#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// Points from the bottom-left of the visible page; `page` is 1-based.
    Rect {
        page: usize,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    /// Percent (0–100) of the visible page; origin top-left.
    Percent {
        page: usize,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    /// Centred on an occurrence (0 = first) of `text` in the page text, `width`×`height` points.
    Tag {
        text: String,
        occurrence: usize,
        width: f64,
        height: f64,
    },
}

/// A resolved position.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    pub page_ref: ObjRef,
    pub page_no: usize,
    /// `[llx lly urx ury]` in the page's default user space (what `/Rect` holds).
    pub rect: [f64; 4],
    /// Size as displayed.
    pub width: f64,
    pub height: f64,
    /// The page's `/Rotate`, which the appearance must undo to stand upright.
    pub rotate: i64,
}

pub fn resolve(doc: &Document, pages: &[Page], placement: &Placement) -> Result<Spot> {
    match placement {
        Placement::Rect {
            page,
            x,
            y,
            width,
            height,
        } => {
            let p = page_at(pages, *page)?;
            check_size(*width, *height)?;
            let (dw, dh) = display_size(p);
            if *x < -0.01 || *y < -0.01 || x + width > dw + 0.01 || y + height > dh + 0.01 {
                return Err(SignError::invalid(format!(
                    "the rectangle {x},{y},{width},{height} does not fit on page {page} ({dw:.0} x {dh:.0} points)"
                )));
            }
            Ok(spot(p, *page, *x, *y, *width, *height))
        }
        Placement::Percent {
            page,
            x,
            y,
            width,
            height,
        } => percent_spot(page_at(pages, *page)?, *page, *x, *y, *width, *height),
        Placement::Tag {
            text,
            occurrence,
            width,
            height,
        } => {
            check_size(*width, *height)?;
            if text.is_empty() {
                return Err(SignError::invalid("the tag to look for is empty"));
            }
            let matches = paraf_pdf::text::find_text(doc, text)?;
            let Some(m) = matches.get(*occurrence) else {
                return Err(SignError::invalid(if matches.is_empty() {
                    format!("the tag {text:?} was not found in the document text")
                } else {
                    format!(
                        "the tag {text:?} occurs {} time(s); occurrence {} does not exist",
                        matches.len(),
                        occurrence + 1
                    )
                }));
            };
            let p = page_at(pages, m.page)?;
            let cx = (m.rect[0] + m.rect[2]) / 2.0;
            let cy = (m.rect[1] + m.rect[3]) / 2.0;
            let (uw, uh) = if p.rotate % 180 == 0 {
                (*width, *height)
            } else {
                (*height, *width)
            };
            Ok(Spot {
                page_ref: p.id,
                page_no: m.page,
                rect: [cx - uw / 2.0, cy - uh / 2.0, cx + uw / 2.0, cy + uh / 2.0],
                width: *width,
                height: *height,
                rotate: p.rotate,
            })
        }
    }
}

/// Percentages of the visible page (origin top-left) to a spot.
fn percent_spot(p: &Page, page: usize, x: f64, y: f64, width: f64, height: f64) -> Result<Spot> {
    for (name, v) in [
        ("positionX", x),
        ("positionY", y),
        ("width", width),
        ("height", height),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(SignError::invalid(format!(
                "{name} must be a percentage between 0 and 100, not {v}"
            )));
        }
    }
    let (dw, dh) = display_size(p);
    let (w, h) = (width / 100.0 * dw, height / 100.0 * dh);
    check_size(w, h)?;
    let dy = dh - y / 100.0 * dh - h;
    Ok(spot(p, page, x / 100.0 * dw, dy.max(0.0), w, h))
}

fn check_size(w: f64, h: f64) -> Result<()> {
    if !(w.is_finite() && h.is_finite()) || w <= 0.0 || h <= 0.0 {
        return Err(SignError::invalid(format!(
            "the signature size must be positive, not {w} x {h}"
        )));
    }
    Ok(())
}

fn page_at(pages: &[Page], n: usize) -> Result<&Page> {
    if n == 0 || n > pages.len() {
        return Err(SignError::invalid(format!(
            "page {n} is out of range: the document has {} page(s)",
            pages.len()
        )));
    }
    pages
        .get(n - 1)
        .ok_or_else(|| SignError::invalid("page out of range"))
}

/// Width and height of the visible area as displayed.
pub fn display_size(p: &Page) -> (f64, f64) {
    let c = p.crop_box;
    let (w, h) = (c[2] - c[0], c[3] - c[1]);
    if p.rotate % 180 == 0 {
        (w, h)
    } else {
        (h, w)
    }
}

/// Maps a point on the displayed page (origin bottom-left of the visible area) to user space.
pub fn display_to_user(p: &Page, dx: f64, dy: f64) -> (f64, f64) {
    let [x0, y0, x1, y1] = p.crop_box;
    match p.rotate {
        90 => (x1 - dy, y0 + dx),
        180 => (x1 - dx, y1 - dy),
        270 => (x0 + dy, y1 - dx),
        _ => (x0 + dx, y0 + dy),
    }
}

/// Maps a point of user space to the displayed page (origin bottom-left of the visible area):
/// the inverse of [`display_to_user`].
pub fn user_to_display(p: &Page, ux: f64, uy: f64) -> (f64, f64) {
    let [x0, y0, x1, y1] = p.crop_box;
    match p.rotate {
        90 => (uy - y0, x1 - ux),
        180 => (x1 - ux, y1 - uy),
        270 => (y1 - uy, ux - x0),
        _ => (ux - x0, uy - y0),
    }
}

fn spot(p: &Page, page_no: usize, x: f64, y: f64, w: f64, h: f64) -> Spot {
    let (ax, ay) = display_to_user(p, x, y);
    let (bx, by) = display_to_user(p, x + w, y + h);
    Spot {
        page_ref: p.id,
        page_no,
        rect: [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)],
        width: w,
        height: h,
        rotate: p.rotate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paraf_pdf::Dict;

    fn page(rotate: i64) -> Page {
        Page {
            id: ObjRef::new(3, 0),
            dict: Dict::new(),
            media_box: [0.0, 0.0, 600.0, 800.0],
            crop_box: [50.0, 60.0, 550.0, 760.0],
            rotate,
            resources: Dict::new(),
        }
    }

    #[test]
    fn display_origin_maps_to_the_right_user_corner() {
        assert_eq!(display_to_user(&page(0), 0.0, 0.0), (50.0, 60.0));
        assert_eq!(display_to_user(&page(90), 0.0, 0.0), (550.0, 60.0));
        assert_eq!(display_to_user(&page(180), 0.0, 0.0), (550.0, 760.0));
        assert_eq!(display_to_user(&page(270), 0.0, 0.0), (50.0, 760.0));
        // On a page turned 90°, moving right on screen moves up in user space.
        assert_eq!(display_to_user(&page(90), 10.0, 0.0), (550.0, 70.0));
    }

    #[test]
    fn user_to_display_inverts_display_to_user() {
        for r in [0, 90, 180, 270] {
            let p = page(r);
            for (dx, dy) in [(0.0, 0.0), (10.0, 20.0), (123.5, 456.25)] {
                let (ux, uy) = display_to_user(&p, dx, dy);
                assert_eq!(user_to_display(&p, ux, uy), (dx, dy), "rotate {r}");
            }
        }
    }

    #[test]
    fn percent_origin_is_top_left() {
        let p = page(0);
        let s = percent_spot(&p, 1, 10.0, 10.0, 20.0, 10.0).unwrap();
        // visible 500 x 700: x = 50 + 50, top at 760 - 70
        assert_eq!(s.rect, [100.0, 620.0, 200.0, 690.0]);
        assert!(percent_spot(&p, 1, 10.0, 120.0, 20.0, 10.0).is_err());
    }
}
