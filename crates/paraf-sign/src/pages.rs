//! New pages appended in an incremental update (the envelope summary page, the proof
//! certificate): blocks of text set with the appearance engine's embedded font, and thin
//! frames. Pages are added at the end of the root page tree node, with every attribute given
//! explicitly (nothing inherited from the document's tree).

use std::fmt::Write as _;

use paraf_pdf::{Dict, Document, IncrementalUpdate, ObjRef, Object, Stream};

use crate::appearance::{build_appearance, AppearanceSpec};
use crate::error::{Result, SignError, SignErrorKind};
use crate::fields::append_refs;

/// A4 portrait, in points.
pub const A4: (f64, f64) = (595.0, 842.0);

/// Text lines in a box: one font size for the block, the largest (≤ 24 pt) at which the lines
/// fit — so a box `n × 1.2 × s + 2` points high sets `n` lines at about `s` points.
#[derive(Clone, Debug, PartialEq)]
pub struct TextBlock {
    /// `[llx, lly, urx, ury]` on the new page.
    pub rect: [f64; 4],
    pub lines: Vec<String>,
}

/// A page to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPage {
    pub width: f64,
    pub height: f64,
    pub texts: Vec<TextBlock>,
    /// Rectangles drawn as thin grey frames (where a signature will go).
    pub frames: Vec<[f64; 4]>,
}

impl NewPage {
    /// An empty A4 page.
    pub fn a4() -> Self {
        NewPage {
            width: A4.0,
            height: A4.1,
            texts: Vec::new(),
            frames: Vec::new(),
        }
    }
}

fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Adds `pages` after the document's last page; returns their refs in order.
pub(crate) fn append_pages(
    up: &mut IncrementalUpdate<'_>,
    pages: &[NewPage],
) -> Result<Vec<ObjRef>> {
    if pages.is_empty() {
        return Ok(Vec::new());
    }
    let doc = up.document();
    let cat = doc.catalog()?;
    let root_ref = cat
        .get("Pages")
        .and_then(Object::as_ref)
        .ok_or_else(|| SignError::invalid("the document has no page tree"))?;
    let mut root = doc.get_dict(root_ref)?;
    let mut refs = Vec::new();
    for p in pages {
        let mut content = String::new();
        let mut xobjects = Dict::new();
        for (i, t) in p.texts.iter().enumerate() {
            let [x0, y0, x1, y1] = t.rect;
            let spec = AppearanceSpec {
                width: x1 - x0,
                height: y1 - y0,
                lines: t.lines.clone(),
                ..Default::default()
            };
            let form = build_appearance(up, &spec)
                .map_err(|e| SignError::new(SignErrorKind::Appearance, e.to_string()))?;
            let name = format!("T{}", i + 1);
            let _ = writeln!(content, "q 1 0 0 1 {} {} cm /{name} Do Q", num(x0), num(y0));
            xobjects.set(&name, form);
        }
        for [x0, y0, x1, y1] in &p.frames {
            let _ = writeln!(
                content,
                "q 0.6 G 0.75 w {} {} {} {} re S Q",
                num(*x0),
                num(*y0),
                num(x1 - x0),
                num(y1 - y0)
            );
        }
        let contents = up.alloc();
        up.put(
            contents,
            Stream {
                dict: Dict::new(),
                data: content.into_bytes(),
            },
        );
        let page_ref = up.alloc();
        let page = Dict::new()
            .with("Type", Object::name("Page"))
            .with("Parent", Object::Ref(root_ref))
            .with(
                "MediaBox",
                vec![
                    Object::Int(0),
                    Object::Int(0),
                    Object::Real(p.width),
                    Object::Real(p.height),
                ],
            )
            .with("Rotate", 0i64)
            .with("Resources", Dict::new().with("XObject", xobjects))
            .with("Contents", Object::Ref(contents));
        up.put(page_ref, page);
        refs.push(page_ref);
    }
    let count = root.int("Count").unwrap_or(0) + i64::try_from(refs.len()).unwrap_or(0);
    append_refs(up, &mut root, "Kids", &refs)?;
    root.set("Count", count);
    up.put(root_ref, root);
    Ok(refs)
}

/// A file attached to a document (ISO 32000-2 §7.11.4, listed in the catalog's
/// `/Names /EmbeddedFiles` and `/AF`): the proof certificate carries its JSON this way.
#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Appends `pages` and, on a document without embedded files yet, `attachment`, in one
/// incremental update; returns the whole updated file.
pub fn add_pages(
    doc: &Document,
    pages: &[NewPage],
    attachment: Option<&Attachment>,
) -> Result<Vec<u8>> {
    crate::fields::check_modifications_allowed(doc)?;
    let mut up = IncrementalUpdate::new(doc);
    append_pages(&mut up, pages)?;
    if let Some(a) = attachment {
        let file = up.alloc();
        up.put(
            file,
            Stream {
                dict: Dict::new()
                    .with("Type", Object::name("EmbeddedFile"))
                    .with("Filter", Object::name("FlateDecode"))
                    .with(
                        "Params",
                        Dict::new().with("Size", i64::try_from(a.bytes.len()).unwrap_or(0)),
                    ),
                data: paraf_pdf::filter::flate_encode(&a.bytes),
            },
        );
        let spec = up.alloc();
        let name = paraf_pdf::PdfString::text(&a.name);
        up.put(
            spec,
            Dict::new()
                .with("Type", Object::name("Filespec"))
                .with("F", name.clone())
                .with("UF", name.clone())
                .with("AFRelationship", Object::name("Data"))
                .with(
                    "EF",
                    Dict::new()
                        .with("F", Object::Ref(file))
                        .with("UF", Object::Ref(file)),
                ),
        );
        let cat_ref = doc.catalog_ref()?;
        let mut cat = up.get_dict(cat_ref)?;
        if cat.contains("Names") || cat.contains("AF") {
            return Err(SignError::invalid("the document has attachments already"));
        }
        cat.set(
            "Names",
            Dict::new().with(
                "EmbeddedFiles",
                Dict::new().with("Names", vec![Object::from(name), Object::Ref(spec)]),
            ),
        );
        cat.set("AF", vec![Object::Ref(spec)]);
        up.put(cat_ref, cat);
    }
    Ok(up.finish_file()?)
}

/// The bytes of the embedded file named `name` (a flat `/EmbeddedFiles` name array, as
/// [`add_pages`] writes it), if the document has one.
pub fn attachment(doc: &Document, name: &str) -> Result<Option<Vec<u8>>> {
    let cat = doc.catalog()?;
    let Object::Dict(names) = doc.resolve_key(&cat, "Names")? else {
        return Ok(None);
    };
    let Object::Dict(files) = doc.resolve_key(&names, "EmbeddedFiles")? else {
        return Ok(None);
    };
    let Object::Array(list) = doc.resolve_key(&files, "Names")? else {
        return Ok(None);
    };
    for pair in list.chunks(2) {
        let [key, spec] = pair else { continue };
        let key = match key {
            Object::Ref(r) => doc.get(*r)?,
            o => o.clone(),
        };
        if key
            .as_string()
            .map(paraf_pdf::object::decode_text)
            .as_deref()
            != Some(name)
        {
            continue;
        }
        let spec = match spec {
            Object::Ref(r) => doc.get_dict(*r)?,
            Object::Dict(d) => d.clone(),
            _ => return Ok(None),
        };
        let Object::Dict(ef) = doc.resolve_key(&spec, "EF")? else {
            return Ok(None);
        };
        return match doc.resolve_key(&ef, "F")? {
            Object::Stream(s) => Ok(Some(doc.decode_stream(&s)?)),
            _ => Ok(None),
        };
    }
    Ok(None)
}

/// Signers per summary page.
pub const SUMMARY_ROWS: usize = 6;
const MARGIN: f64 = 56.0;
const ROW_TOP: f64 = 720.0;
const ROW_HEIGHT: f64 = 112.0;

/// Where summary row `row` (0-based) goes: the 0-based summary page, the label's box and the
/// signature field's rectangle (240 × 86 points).
pub fn summary_slot(row: usize) -> (usize, [f64; 4], [f64; 4]) {
    let page = row / SUMMARY_ROWS;
    let top = ROW_TOP - (row % SUMMARY_ROWS) as f64 * ROW_HEIGHT;
    let label = [MARGIN, top - 16.0, A4.0 - MARGIN, top];
    let field = [MARGIN, top - 106.0, MARGIN + 240.0, top - 20.0];
    (page, label, field)
}

/// The summary pages of a document signed without tags: `title` and `subtitle` on top of each
/// page, then one row per signer — `labels[i]` above a framed box where signer `i`'s
/// signature (image, name, date and time) will be.
pub fn summary_pages(title: &str, subtitle: &str, labels: &[String]) -> Vec<NewPage> {
    let n = labels.len().div_ceil(SUMMARY_ROWS).max(1);
    let mut pages: Vec<NewPage> = (0..n)
        .map(|_| {
            let mut p = NewPage::a4();
            p.texts.push(TextBlock {
                rect: [MARGIN, 772.0, A4.0 - MARGIN, 800.0],
                lines: vec![title.to_string()],
            });
            p.texts.push(TextBlock {
                rect: [MARGIN, 744.0, A4.0 - MARGIN, 764.0],
                lines: vec![subtitle.to_string()],
            });
            p
        })
        .collect();
    for (i, label) in labels.iter().enumerate() {
        let (page, label_box, field) = summary_slot(i);
        if let Some(p) = pages.get_mut(page) {
            p.texts.push(TextBlock {
                rect: label_box,
                lines: vec![label.clone()],
            });
            p.frames.push(field);
        }
    }
    pages
}

/// A new document with no page yet (catalog, empty page tree, `/Info` with `title`), to which
/// [`add_pages`] adds the content: the base of generated documents such as the proof
/// certificate.
pub fn empty_document(title: &str) -> Vec<u8> {
    let info = paraf_pdf::PdfString::text(title);
    let mut info_obj = Vec::new();
    Object::from(
        Dict::new()
            .with("Title", info)
            .with("Producer", paraf_pdf::PdfString::text("Paraf")),
    )
    .write_to(&mut info_obj);
    let bodies: [Vec<u8>; 3] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        info_obj,
    ];
    paraf_pdf::writer::new_document(&bodies, "/Root 1 0 R /Info 3 0 R")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_added_to_an_empty_document_and_hold_their_text() {
        let base = empty_document("Certificate");
        let doc = Document::load(base, None).unwrap();
        assert_eq!(doc.pages().unwrap().len(), 0);
        let mut page = NewPage::a4();
        page.texts.push(TextBlock {
            rect: [50.0, 700.0, 545.0, 730.0],
            lines: vec!["Hello Śrī".into()],
        });
        page.frames.push([50.0, 500.0, 300.0, 600.0]);
        let json = Attachment {
            name: "certificat.json".into(),
            bytes: br#"{"uuid": "x"}"#.to_vec(),
        };
        let pdf = add_pages(&doc, &[page.clone(), page], Some(&json)).unwrap();
        let doc = Document::load(pdf, None).unwrap();
        let pages = doc.pages().unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(
            attachment(&doc, "certificat.json").unwrap(),
            Some(json.bytes)
        );
        assert_eq!(attachment(&doc, "other.json").unwrap(), None);
        let found = paraf_pdf::text::find_text(&doc, "Hello").unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1].page, 2);
    }
}
