//! Page images and page geometry for the signer page.
//!
//! A document version is a content-addressed blob, so an image is cached by
//! `(blob, page)`: once rendered, every recipient and every reload of that version reuses it,
//! and a new signature (a new blob) is rendered afresh. Rendering is hayro (pure Rust, no
//! external process) on a blocking thread; the cache is bounded by its total bytes.

use std::sync::{Arc, Mutex};

use paraf_domain::{BlobId, EnvelopeDocument};

use crate::envelopes::stored;
use crate::error::CoreError;
use crate::Core;

/// Pixels per point of the page images (1.5 × 72 = 108 dpi: an A4 page is 893 px wide,
/// sharp on a phone and light on the wire).
pub const PAGE_SCALE: f32 = 1.5;
/// Largest total size of the cached images.
pub const PAGE_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Largest side of a page image, in pixels (a huge page is rendered smaller, never refused).
pub const MAX_SIDE_PX: f32 = 4000.0;

/// A page as displayed (after `/Rotate`, its visible area).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageBox {
    /// Width and height in points, as displayed.
    pub width: f64,
    pub height: f64,
}

/// Where a field sits on its displayed page, in percent of the page, origin top-left (what the
/// page overlays with `left`/`top`/`width`/`height`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentBox {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// Page images by document version and page number.
type Images = lru::LruCache<(BlobId, u32), Arc<Vec<u8>>>;

/// The rendered page images, bounded by bytes (least recently used first out).
pub struct PageCache {
    inner: Mutex<(Images, usize)>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            inner: Mutex::new((lru::LruCache::unbounded(), 0)),
        }
    }
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache").finish_non_exhaustive()
    }
}

impl PageCache {
    fn get(&self, key: &(BlobId, u32)) -> Option<Arc<Vec<u8>>> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.0.get(key).cloned()
    }

    fn put(&self, key: (BlobId, u32), png: Arc<Vec<u8>>) {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (cache, bytes) = &mut *g;
        *bytes += png.len();
        if let Some(old) = cache.put(key, png) {
            *bytes -= old.len();
        }
        while *bytes > PAGE_CACHE_BYTES {
            match cache.pop_lru() {
                Some((_, v)) => *bytes -= v.len(),
                None => break,
            }
        }
    }

    /// How many images are cached (for tests and metrics).
    pub fn len(&self) -> usize {
        let g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.0.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Renders page `page` (1-based) of `pdf` to PNG. An uploaded file hayro should not be given
/// (a decompression bomb, a huge image: [`paraf_verify::render_refusal`]) is refused, and a
/// panic inside the renderer is an error, not a crash.
pub fn render_png(pdf: Vec<u8>, page: u32) -> Result<Vec<u8>, String> {
    let doc = paraf_pdf::Document::load(pdf, None).map_err(|e| e.to_string())?;
    if let Some(why) = paraf_verify::render_refusal(&doc) {
        return Err(format!("not rendered: {why}"));
    }
    let pdf = doc.into_data();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render_checked(pdf, page)))
        .map_err(|_| "the renderer failed on this file".to_string())?
}

fn render_checked(pdf: Vec<u8>, page: u32) -> Result<Vec<u8>, String> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::vello_cpu::color::palette::css::WHITE;

    let pdf = hayro::hayro_syntax::Pdf::new(pdf).map_err(|e| format!("{e:?}"))?;
    let pages = pdf.pages();
    let index = usize::try_from(page)
        .ok()
        .and_then(|p| p.checked_sub(1))
        .ok_or("page 0")?;
    let p = pages.get(index).ok_or_else(|| format!("no page {page}"))?;
    let (w, h) = p.render_dimensions();
    let scale = PAGE_SCALE.min(MAX_SIDE_PX / w.max(h).max(1.0));
    let pixmap = hayro::render(
        p,
        &hayro::RenderCache::new(),
        &InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        &hayro::PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: WHITE,
        },
    );
    pixmap.into_png().map_err(|e| e.to_string())
}

/// A field's `/Rect` (user space) on `page` as percentages of the displayed page.
pub fn percent_box(page: &paraf_pdf::Page, rect: [f64; 4]) -> PercentBox {
    let (dw, dh) = paraf_sign::placement::display_size(page);
    let (ax, ay) = paraf_sign::placement::user_to_display(page, rect[0], rect[1]);
    let (bx, by) = paraf_sign::placement::user_to_display(page, rect[2], rect[3]);
    let (x0, x1) = (ax.min(bx), ax.max(bx));
    let (y0, y1) = (ay.min(by), ay.max(by));
    let pct = |v: f64, of: f64| if of > 0.0 { v / of * 100.0 } else { 0.0 };
    PercentBox {
        left: pct(x0, dw),
        top: pct(dh - y1, dh),
        width: pct(x1 - x0, dw),
        height: pct(y1 - y0, dh),
    }
}

/// A page of a document as the signer page lays it out.
#[derive(Debug, Clone)]
pub struct PageLayout {
    /// 1-based.
    pub number: u32,
    pub size: PageBox,
    /// The given fields on this page, where they sit.
    pub fields: Vec<(paraf_domain::Field, PercentBox)>,
}

impl Core {
    /// Every page of the current version of `doc` with `fields` (those of `doc` on each page)
    /// placed in percent of the page.
    pub async fn page_layout(
        &self,
        doc: &EnvelopeDocument,
        fields: &[paraf_domain::Field],
    ) -> Result<Vec<PageLayout>, CoreError> {
        let pdf = self.stored_file(&doc.current).await?;
        let mine: Vec<paraf_domain::Field> = fields
            .iter()
            .filter(|f| f.document == doc.id)
            .cloned()
            .collect();
        tokio::task::spawn_blocking(move || {
            let d = paraf_pdf::Document::load(pdf, None).map_err(stored)?;
            let pages = d.pages().map_err(stored)?;
            Ok(pages
                .iter()
                .zip(1u32..)
                .map(|(p, number)| {
                    let (width, height) = paraf_sign::placement::display_size(p);
                    PageLayout {
                        number,
                        size: PageBox { width, height },
                        fields: mine
                            .iter()
                            .filter(|f| f.page == number)
                            .map(|f| (f.clone(), percent_box(p, f.rect)))
                            .collect(),
                    }
                })
                .collect())
        })
        .await
        .map_err(CoreError::internal)?
    }

    /// Page `page` (1-based) of the current version of `doc` as a PNG, from the cache or
    /// rendered now.
    pub async fn page_image(
        &self,
        doc: &EnvelopeDocument,
        page: u32,
    ) -> Result<Arc<Vec<u8>>, CoreError> {
        if page == 0 || page > doc.pages {
            return Err(CoreError::Domain(paraf_domain::DomainError::not_found(
                paraf_domain::Entity::Blob,
            )));
        }
        let key = (doc.current.clone(), page);
        if let Some(png) = self.pages.get(&key) {
            return Ok(png);
        }
        let pdf = self.stored_file(&doc.current).await?;
        let png = tokio::task::spawn_blocking(move || render_png(pdf, page))
            .await
            .map_err(CoreError::internal)?
            .map_err(|e| CoreError::internal(format!("rendering page {page}: {e}")))?;
        let png = Arc::new(png);
        self.pages.put(key, png.clone());
        Ok(png)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decompression_bomb_is_not_rendered() {
        let base = paraf_sign::pages::empty_document("bom");
        let doc = paraf_pdf::Document::load(base, None).unwrap();
        let with_pages =
            paraf_sign::pages::add_pages(&doc, &[paraf_sign::pages::NewPage::a4()], None).unwrap();
        assert!(render_png(with_pages.clone(), 1).is_ok());
        let doc = paraf_pdf::Document::load(with_pages, None).unwrap();
        let mut up = paraf_pdf::IncrementalUpdate::new(&doc);
        let r = up.alloc();
        up.put(
            r,
            paraf_pdf::Stream {
                dict: paraf_pdf::Dict::new().with("Filter", paraf_pdf::Object::name("FlateDecode")),
                data: paraf_pdf::filter::flate_encode(&vec![0u8; 80 << 20]),
            },
        );
        let bomb = up.finish_file().unwrap();
        let err = render_png(bomb, 1).unwrap_err();
        assert!(err.contains("inflates beyond 64 MB"), "{err}");
    }

    fn page(rotate: i64) -> paraf_pdf::Page {
        paraf_pdf::Page {
            id: paraf_pdf::ObjRef::new(3, 0),
            dict: paraf_pdf::Dict::new(),
            media_box: [0.0, 0.0, 600.0, 800.0],
            crop_box: [0.0, 0.0, 600.0, 800.0],
            rotate,
            resources: paraf_pdf::Dict::new(),
        }
    }

    #[test]
    fn percent_box_unrotated_and_rotated() {
        // A 60×80 box at the bottom-left corner of an upright page.
        let b = percent_box(&page(0), [0.0, 0.0, 60.0, 80.0]);
        assert_eq!(
            b,
            PercentBox {
                left: 0.0,
                top: 90.0,
                width: 10.0,
                height: 10.0
            }
        );
        // Turned a quarter clockwise, the page is 800 wide and 600 high; user-space origin
        // (bottom-left of the unrotated page) shows at the top-left.
        let b = percent_box(&page(90), [0.0, 0.0, 60.0, 80.0]);
        assert!((b.left - 0.0).abs() < 1e-9, "{b:?}");
        assert!((b.top - 0.0).abs() < 1e-9, "{b:?}");
        assert!((b.width - 10.0).abs() < 1e-9, "{b:?}");
        assert!((b.height - 10.0).abs() < 1e-9, "{b:?}");
    }

    #[test]
    fn cache_is_bounded_by_bytes() {
        let c = PageCache::default();
        let big = Arc::new(vec![0u8; PAGE_CACHE_BYTES / 2 + 1]);
        c.put((BlobId::of(b"a"), 1), big.clone());
        c.put((BlobId::of(b"b"), 1), big);
        assert_eq!(c.len(), 1);
        assert!(c.get(&(BlobId::of(b"b"), 1)).is_some());
        assert!(c.get(&(BlobId::of(b"a"), 1)).is_none());
    }
}
