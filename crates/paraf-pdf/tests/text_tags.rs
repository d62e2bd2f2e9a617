//! Text tags found on pages, with boxes checked against poppler's `pdftotext -bbox`.
//!
//! The PDFs are written by hand here (fonts, content streams, a classic xref table), or produced
//! by Ghostscript from PostScript (embedded subset fonts with custom encodings, as real files have),
//! or rewritten by qpdf (object streams, compressed content). For each tag we compare our
//! rectangle with the box poppler gives the same word.
//!
//! Poppler reports boxes in *displayed* page coordinates: origin at the top-left corner of the
//! page box (the CropBox, as we ask with `-cropbox`; the MediaBox by default), y downwards, and
//! already rotated by `/Rotate`. Ours are in default user space
//! (MediaBox space, y upwards, unrotated). [`to_poppler`] converts ours to theirs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use paraf_pdf::text::{extract_glyphs, find_text, find_text_on_page, TextMatch};
use paraf_pdf::{Document, ErrorKind};

// ---------------------------------------------------------------------------------------------
// Writing test PDFs

/// A PDF written object by object, finished with a classic cross-reference table.
#[derive(Default)]
struct Pdf {
    objects: Vec<Vec<u8>>,
}

impl Pdf {
    fn reserve(&mut self) -> u32 {
        self.objects.push(Vec::new());
        self.objects.len() as u32
    }
    fn set(&mut self, id: u32, body: impl AsRef<[u8]>) {
        self.objects[id as usize - 1] = body.as_ref().to_vec();
    }
    fn add(&mut self, body: impl AsRef<[u8]>) -> u32 {
        let id = self.reserve();
        self.set(id, body);
        id
    }
    fn add_stream(&mut self, dict: &str, data: &[u8]) -> u32 {
        let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.add(body)
    }
    fn helvetica(&mut self) -> u32 {
        self.add(
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        )
    }

    /// Adds the page tree (pages given as extra page-dictionary entries and content) and the
    /// catalog, and writes the file.
    fn finish_with_pages(mut self, pages: Vec<(String, Vec<u8>)>) -> Vec<u8> {
        let catalog = self.reserve();
        let tree = self.reserve();
        let mut kids = String::new();
        let count = pages.len();
        for (extra, content) in pages {
            let c = self.add_stream("", &content);
            let p = self.add(format!(
                "<< /Type /Page /Parent {tree} 0 R /Contents {c} 0 R {extra} >>"
            ));
            kids.push_str(&format!("{p} 0 R "));
        }
        self.set(
            tree,
            format!("<< /Type /Pages /Kids [{kids}] /Count {count} /MediaBox [0 0 612 792] >>"),
        );
        self.set(catalog, format!("<< /Type /Catalog /Pages {tree} 0 R >>"));
        paraf_pdf::writer::new_document(&self.objects, &format!("/Root {catalog} 0 R"))
    }
}

fn font_resources(name: &str, id: u32) -> String {
    format!("/Resources << /Font << /{name} {id} 0 R >> >>")
}

// ---------------------------------------------------------------------------------------------
// Poppler

#[derive(Debug, Clone)]
struct Word {
    page: usize,
    text: String,
    /// xMin, yMin, xMax, yMax: displayed coordinates, origin top-left of the CropBox.
    bbox: [f64; 4],
}

fn attr(tag: &str, name: &str) -> f64 {
    let key = format!("{name}=\"");
    let start = tag.find(&key).unwrap() + key.len();
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].parse().unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every word poppler finds, via `pdftotext -bbox`.
fn poppler_words(pdf: &[u8]) -> Vec<Word> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-bbox", "-cropbox"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext is needed for this test ({e}): install poppler-utils (apt-get install -y poppler-utils)")
        });
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    let mut words = Vec::new();
    let mut page = 0;
    for line in html.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let close = rest.find('>').unwrap();
            let text = rest[close + 1..].trim_end_matches("</word>");
            let tag = &rest[..close];
            words.push(Word {
                page,
                text: unescape(text),
                bbox: [
                    attr(tag, "xMin"),
                    attr(tag, "yMin"),
                    attr(tag, "xMax"),
                    attr(tag, "yMax"),
                ],
            });
        }
    }
    words
}

/// Our default-user-space rectangle in poppler's displayed coordinates (see the module docs).
fn to_poppler(r: [f64; 4], crop: [f64; 4], rotate: i64) -> [f64; 4] {
    let [cx0, cy0, cx1, cy1] = crop;
    let map = |x: f64, y: f64| -> (f64, f64) {
        match rotate {
            90 => (y - cy0, x - cx0),
            180 => (cx1 - x, y - cy0),
            270 => (cy1 - y, cx1 - x),
            _ => (x - cx0, cy1 - y),
        }
    };
    let (ax, ay) = map(r[0], r[1]);
    let (bx, by) = map(r[2], r[3]);
    [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
}

/// Finds `tag` with our code and checks every match against poppler's box for that word:
/// within 1.5 pt along the line, 3 pt across it. Returns our matches.
fn check_against_poppler(pdf: &[u8], tag: &str, expected: usize) -> Vec<TextMatch> {
    let doc = Document::load(pdf.to_vec(), None).unwrap();
    let ours = find_text(&doc, tag).unwrap();
    assert_eq!(ours.len(), expected, "our matches of {tag:?}: {ours:?}");
    compare_with_poppler(pdf, &doc, &ours);
    ours
}

/// Checks each match against the box poppler gives the same word (see [`check_against_poppler`]).
fn compare_with_poppler(pdf: &[u8], doc: &Document, ours: &[TextMatch]) {
    let pages = doc.pages().unwrap();
    let words = poppler_words(pdf);
    for m in ours {
        let tag = m.text.as_str();
        let page = &pages[m.page - 1];
        let mine = to_poppler(m.rect, page.crop_box, page.rotate);
        let theirs = words
            .iter()
            .filter(|w| w.page == m.page && w.text == tag)
            .min_by(|a, b| dist(&a.bbox, &mine).total_cmp(&dist(&b.bbox, &mine)))
            .unwrap_or_else(|| {
                panic!(
                    "poppler has no word {tag:?} on page {}: {:?}",
                    m.page,
                    words
                        .iter()
                        .filter(|w| w.page == m.page)
                        .collect::<Vec<_>>()
                )
            });
        // Along the line is x for horizontal displayed text, y for vertical.
        let vertical = (theirs.bbox[3] - theirs.bbox[1]) > (theirs.bbox[2] - theirs.bbox[0])
            && tag.chars().count() > 1;
        let tol = if vertical {
            [3.0, 1.5, 3.0, 1.5]
        } else {
            [1.5, 3.0, 1.5, 3.0]
        };
        for i in 0..4 {
            assert!(
                (mine[i] - theirs.bbox[i]).abs() <= tol[i],
                "{tag:?} on page {}: ours {mine:?} (user space {:?}) vs poppler {:?}",
                m.page,
                m.rect,
                theirs.bbox
            );
        }
    }
}

fn dist(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

fn assert_close(a: [f64; 4], b: [f64; 4]) {
    for i in 0..4 {
        assert!((a[i] - b[i]).abs() < 1e-6, "{a:?} != {b:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Standard 14 font, Tj, TJ with kerning, a tag split across Tj operators

fn helvetica_page() -> Vec<u8> {
    let mut pdf = Pdf::default();
    let f = pdf.helvetica();
    let content = b"BT /F1 12 Tf 72 700 Td (Total $ ok) Tj ET
BT /F1 12 Tf 72 650 Td (Sign here: <@signature@> please) Tj ET
BT /F1 12 Tf 72 600 Td [(Second: <@sig) -20 (nature1@> end)] TJ ET
BT /F1 12 Tf 72 550 Td (Third: <@sign) Tj (ature1@> end) Tj ET
BT /F1 10 Tf 300 500 Td [(Kern) 120 (ed ) -250 (# ) (mark)] TJ ET"
        .to_vec();
    pdf.finish_with_pages(vec![(font_resources("F1", f), content)])
}

#[test]
fn helvetica_tags_with_tj_kerning_and_split_operators() {
    let pdf = helvetica_page();
    let dollar = check_against_poppler(&pdf, "$", 1);
    // "Total " in Helvetica is 611+556+278+556+222+278 = 2501 thousandths; `$` is 556 wide.
    let x0 = 72.0 + 2.501 * 12.0;
    assert_close(
        dollar[0].rect,
        [
            x0,
            700.0 - 0.207 * 12.0,
            x0 + 0.556 * 12.0,
            700.0 + 0.718 * 12.0,
        ],
    );
    assert_eq!(dollar[0].page, 1);
    assert_eq!(dollar[0].text, "$");
    check_against_poppler(&pdf, "<@signature@>", 1);
    // Once split by TJ kerning, once split across two Tj operators.
    let split = check_against_poppler(&pdf, "<@signature1@>", 2);
    assert!(split[0].rect[1] > split[1].rect[1], "top one first");
    check_against_poppler(&pdf, "#", 1);
    // Text shown with TJ adjustments in the middle of a word is still one word.
    check_against_poppler(&pdf, "Kerned", 1);
}

#[test]
fn a_needle_not_found_gives_no_matches_and_empty_needle_is_an_error() {
    let doc = Document::load(helvetica_page(), None).unwrap();
    assert!(find_text(&doc, "<@signature9@>").unwrap().is_empty());
    assert!(find_text(&doc, "%").unwrap().is_empty());
    assert_eq!(
        find_text(&doc, "").unwrap_err().kind,
        ErrorKind::InvalidInput
    );
}

#[test]
fn glyphs_carry_text_and_sizes() {
    let doc = Document::load(helvetica_page(), None).unwrap();
    let page = doc.page(1).unwrap();
    let glyphs = extract_glyphs(&doc, &page).unwrap();
    let text: String = glyphs.iter().take(10).map(|g| g.unicode.as_str()).collect();
    assert_eq!(text, "Total $ ok");
    assert!((glyphs[0].font_size - 12.0).abs() < 1e-9);
    assert_eq!(glyphs[0].origin, [72.0, 700.0]);
    // The on-page search gives what the document-wide one gives for that page.
    let one = find_text_on_page(&doc, &page, 1, "$").unwrap();
    assert_eq!(one, find_text(&doc, "$").unwrap());
}

// ---------------------------------------------------------------------------------------------
// 2. /Rotate and /CropBox

#[test]
fn rotated_and_cropped_pages_report_default_user_space() {
    let mut pdf = Pdf::default();
    let f = pdf.helvetica();
    let res = font_resources("F1", f);
    let pages = vec![
        (
            format!("{res} /Rotate 90"),
            b"BT /F1 12 Tf 100 500 Td (Rotated <@signature@> tag) Tj ET".to_vec(),
        ),
        (
            format!("{res} /CropBox [50 60 562 732]"),
            b"BT /F1 12 Tf 100 500 Td (Cropped <@signature@> tag) Tj ET".to_vec(),
        ),
        (
            format!("{res} /Rotate 270 /CropBox [50 60 562 732]"),
            b"BT /F1 12 Tf 100 300 Td (Both <@signature@> tag) Tj ET".to_vec(),
        ),
        (
            format!("{res} /Rotate 180"),
            b"BT /F1 12 Tf 0 1 -1 0 300 200 Tm (Upright <@signature@> tag) Tj ET".to_vec(),
        ),
    ];
    let pdf = pdf.finish_with_pages(pages);
    let found = check_against_poppler(&pdf, "<@signature@>", 4);
    // Unrotated, uncropped: the x where the content stream put it ("Rotated " is 3780/1000 em,
    // "Cropped " 4113/1000).
    assert!(
        (found[0].rect[0] - (100.0 + 3.780 * 12.0)).abs() < 1e-6,
        "{:?}",
        found[0]
    );
    assert!(
        (found[1].rect[0] - (100.0 + 4.113 * 12.0)).abs() < 1e-6,
        "{:?}",
        found[1]
    );
    // Text rotated by its matrix: the box is tall, not wide.
    let r = found[3].rect;
    assert!(r[3] - r[1] > 5.0 * (r[2] - r[0]), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Type0 font, Identity-H, /W widths, ToUnicode

/// Two-byte codes: `0x0100 + ASCII`; a ToUnicode range maps them back.
fn identity_h(text: &str) -> String {
    let mut s = String::from("<");
    for b in text.bytes() {
        s.push_str(&format!("{:04X}", 0x100 + u32::from(b)));
    }
    s.push('>');
    s
}

/// A Type 0 font over a (not embedded) CIDFontType2 with `/W` widths and a ToUnicode CMap;
/// `encoding` is `Identity-H` or `Identity-V`.
fn type0_font(pdf: &mut Pdf, encoding: &str) -> u32 {
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
1 beginbfrange <0120> <017E> <0020> endbfrange
1 beginbfchar <0140> <0040> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end";
    let to_unicode = pdf.add_stream("", cmap);
    let descriptor = pdf.add(
        "<< /Type /FontDescriptor /FontName /Arial /Flags 32 /FontBBox [-665 -325 2000 1040] \
         /ItalicAngle 0 /Ascent 905 /Descent -212 /CapHeight 716 /StemV 80 >>",
    );
    // CIDs 0x120..0x17E (' '..'~'): space 278, '<' '>' 584, '@' (0x140) 1015, others 550.
    let cid_font = pdf.add(format!(
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Arial \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
         /FontDescriptor {descriptor} 0 R /DW 1000 \
         /W [288 [278] 289 315 550 316 [584 550 584] 319 319 550 320 [1015] 321 382 550] >>"
    ));
    pdf.add(format!(
        "<< /Type /Font /Subtype /Type0 /BaseFont /Arial /Encoding /{encoding} \
         /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
    ))
}

#[test]
fn type0_identity_h_with_to_unicode() {
    let mut pdf = Pdf::default();
    let font = type0_font(&mut pdf, "Identity-H");
    let content = format!(
        "BT /F2 11 Tf 90 600 Td {} Tj ET\nBT /F2 11 Tf 90 560 Td [{} -30 {}] TJ ET",
        identity_h("Nama: <@signature@> ok"),
        identity_h("Lagi <@signa"),
        identity_h("ture@> $ selesai"),
    );
    let pdf = pdf.finish_with_pages(vec![(font_resources("F2", font), content.into_bytes())]);
    let found = check_against_poppler(&pdf, "<@signature@>", 2);
    // The box uses the descriptor's ascent and descent.
    assert!((found[0].rect[1] - (600.0 - 0.212 * 11.0)).abs() < 1e-6);
    assert!((found[0].rect[3] - (600.0 + 0.905 * 11.0)).abs() < 1e-6);
    check_against_poppler(&pdf, "$", 1);
}

#[test]
fn type0_identity_v_writes_downwards() {
    let mut pdf = Pdf::default();
    let font = type0_font(&mut pdf, "Identity-V");
    let content = format!(
        "BT /V 11 Tf 400 700 Td {} Tj ET",
        identity_h("ab <@signature@>")
    );
    let pdf = pdf.finish_with_pages(vec![(font_resources("V", font), content.into_bytes())]);
    let doc = Document::load(pdf, None).unwrap();
    let found = find_text(&doc, "<@signature@>").unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    // Without /DW2 each glyph moves the pen 1 em down; the column is as wide as the widest glyph
    // ('@', 1015), centred on x = 400. "ab " comes first, 3 em.
    let half = 1.015 * 11.0 / 2.0;
    assert_close(
        found[0].rect,
        [
            400.0 - half,
            700.0 - 16.0 * 11.0,
            400.0 + half,
            700.0 - 3.0 * 11.0,
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Form XObjects

#[test]
fn tags_inside_nested_form_xobjects() {
    let mut pdf = Pdf::default();
    let f = pdf.helvetica();
    let inner = pdf.add_stream(
        &format!(
            "/Type /XObject /Subtype /Form /BBox [0 0 300 100] /Matrix [1 0 0 1 10 10] {}",
            font_resources("F9", f)
        ),
        b"BT /F9 24 Tf 0 20 Td (Form <@signature@> x) Tj ET",
    );
    let outer = pdf.add_stream(
        &format!(
            "/Type /XObject /Subtype /Form /BBox [0 0 600 400] /Resources << /XObject << /In {inner} 0 R >> >>"
        ),
        b"q 0.5 0 0 0.5 20 30 cm /In Do Q q 1 0 0 1 0 150 cm /In Do Q",
    );
    let content = b"q 1 0 0 1 100 200 cm /Out Do Q".to_vec();
    let pdf = pdf.finish_with_pages(vec![(
        format!("/Resources << /XObject << /Out {outer} 0 R >> >>"),
        content,
    )]);
    let found = check_against_poppler(&pdf, "<@signature@>", 2);
    // Drawn at full size first in reading order (higher up), then the half-size copy.
    let big = found[0].rect;
    let small = found[1].rect;
    assert!(big[3] > small[3]);
    assert!(((big[3] - big[1]) / (small[3] - small[1]) - 2.0).abs() < 1e-6);
    // "Form " is 2611/1000 em; the inner form's matrix moves it by 10, the outer's `cm` halves
    // it and moves it by 20, the page's `cm` by 100.
    let x = 100.0 + 20.0 + 0.5 * (10.0 + 2.611 * 24.0);
    assert!((small[0] - x).abs() < 1e-6, "{small:?} vs x {x}");
}

#[test]
fn forms_that_draw_themselves_terminate() {
    let mut pdf = Pdf::default();
    let f = pdf.helvetica();
    // Object numbers: font 1, this form 2.
    let form = pdf.add_stream(
        &format!(
            "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /Font << /F1 {f} 0 R >> /XObject << /Me 2 0 R >> >>"
        ),
        b"BT /F1 10 Tf 5 5 Td ($) Tj ET 0.5 0 0 0.5 0 0 cm /Me Do /Me Do",
    );
    assert_eq!(form, 2);
    let pdf = pdf.finish_with_pages(vec![(
        format!("/Resources << /XObject << /Me {form} 0 R >> >>"),
        b"/Me Do /Me Do".to_vec(),
    )]);
    let doc = Document::load(pdf, None).unwrap();
    // Drawn twice at the same place from the page (reported once), never recursively.
    assert_eq!(find_text(&doc, "$").unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 5. Text matrix scaling, horizontal scaling, character and word spacing

#[test]
fn scaled_text_matrix_and_horizontal_scaling() {
    let mut pdf = Pdf::default();
    let f = pdf.helvetica();
    let content = b"BT /F1 10 Tf 2 0 0 2 72 600 Tm (Big <@signature@> x) Tj ET
BT /F1 12 Tf 150 Tz 72 500 Td (Wide <@signature@> y) Tj ET
BT /F1 12 Tf 1.5 Tc 72 400 Td (Spaced <@signature@> z) Tj ET
BT /F1 12 Tf 8 Tw 72 300 Td (Words <@signature@> w) Tj ET
BT /F1 12 Tf 14 TL 72 250 Td (line one) ' (Next <@signature@> u) ' ET
q 1.2 0 0 1.2 0 0 cm BT /F1 10 Tf 60 150 Td 3 Ts (Risen <@signature@> v) Tj ET Q"
        .to_vec();
    let pdf = pdf.finish_with_pages(vec![(font_resources("F1", f), content)]);
    let found = check_against_poppler(&pdf, "<@signature@>", 6);
    // 2x text matrix: 20 pt text.
    let big = found[0].rect;
    assert!((big[3] - big[1] - 20.0 * (0.718 + 0.207)).abs() < 1e-6);
    // 150% horizontal scaling: width of the tag is 1.5 times the natural one.
    let natural: f64 = [
        584, 1015, 500, 222, 556, 556, 556, 278, 556, 333, 556, 1015, 584,
    ]
    .iter()
    .map(|w| f64::from(*w) * 0.012)
    .sum();
    let wide = found[1].rect;
    assert!((wide[2] - wide[0] - 1.5 * natural).abs() < 1e-6);
    // Each `'` moved down by the leading.
    assert!((found[4].rect[1] - (250.0 - 2.0 * 14.0 - 0.207 * 12.0)).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Real-world shapes: Ghostscript's subset fonts, qpdf's object streams

fn ghostscript(postscript: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let ps = dir.path().join("in.ps");
    let out = dir.path().join("out.pdf");
    std::fs::write(&ps, postscript).unwrap();
    paraf_testkit::tools::ghostscript_pdfwrite(&ps, &out);
    std::fs::read(out).unwrap()
}

#[test]
fn ghostscript_subset_fonts_with_custom_encodings() {
    let pdf = ghostscript(
        "/Helvetica findfont 12 scalefont setfont
72 700 moveto (Total $ ok) show
72 650 moveto (Sign: <@signature@> here) show
/Times-Roman findfont 14 scalefont setfont
72 600 moveto (Tag # end) show
72 560 moveto (Again <@signature@> there) show
% A font re-encoded so that the shown bytes are not the text: `<@signature@> $` is shown as
% `ABCDEFGHIJKBLMN`, only the encoding's glyph names say what it reads.
/Helvetica findfont dup length dict begin
  { 1 index /FID ne { def } { pop pop } ifelse } forall
  /Encoding 256 array def
  0 1 255 { Encoding exch /.notdef put } for
  [/less /at /s /i /g /n /a /t /u /r /e /greater /space /dollar]
  0 1 13 { dup 65 add exch 2 index exch get Encoding 3 1 roll put } for pop
  currentdict
end
/Scrambled exch definefont pop
/Scrambled findfont 16 scalefont setfont
72 500 moveto (ABCDEFGHIJKBLMN) show
/Courier-Bold findfont 9 scalefont setfont
gsave 300 300 translate 30 rotate 0 0 moveto (Tilted <@signature@> tag) show grestore
showpage
/Helvetica-Bold findfont 20 scalefont setfont
100 400 moveto (Page two $ tag) show
showpage",
    );
    // Fonts are embedded subsets whose encodings are Ghostscript's own.
    assert!(
        pdf.windows(9).any(|w| w == b"/FontFile"),
        "expected embedded fonts"
    );
    let dollars = check_against_poppler(&pdf, "$", 3);
    assert_eq!((dollars[0].page, dollars[2].page), (1, 2));
    check_against_poppler(&pdf, "#", 1);
    let doc = Document::load(pdf.clone(), None).unwrap();
    let sigs = find_text(&doc, "<@signature@>").unwrap();
    assert_eq!(sigs.len(), 4, "{sigs:?}");
    // Poppler splits text rotated by 30° into fragments, so the tilted tag is checked by
    // geometry: its baseline runs from S to E, and its box bounds the rotated glyph boxes.
    let (tilted, level): (Vec<TextMatch>, Vec<TextMatch>) =
        sigs.into_iter().partition(|m| m.rect[1] < 450.0);
    compare_with_poppler(&pdf, &doc, &level);
    let [t] = tilted.as_slice() else {
        panic!("{tilted:?}")
    };
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    let start = 7.0 * 0.6 * 9.0; // "Tilted " in 9 pt Courier
    let len = 13.0 * 0.6 * 9.0;
    let (sx, sy) = (300.0 + start * c, 300.0 + start * s);
    let (ex, ey) = (sx + len * c, sy + len * s);
    let r = t.rect;
    assert!(r[0] < sx && r[0] > sx - 9.0 * s, "{r:?}");
    assert!(r[2] > ex && r[2] < ex + 9.0 * s, "{r:?}");
    assert!(r[1] < sy && r[1] > sy - 9.0 * c, "{r:?}");
    assert!(r[3] > ey && r[3] < ey + 9.0 * c, "{r:?}");
}

#[test]
fn object_streams_and_compressed_content_via_qpdf() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    let output = dir.path().join("out.pdf");
    std::fs::write(&input, helvetica_page()).unwrap();
    let st = Command::new("qpdf")
        .args([
            "--object-streams=generate",
            "--compress-streams=y",
            "--recompress-flate",
        ])
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap_or_else(|e| panic!("qpdf is needed for this test ({e}): apt-get install -y qpdf"));
    assert!(st.success());
    let before = find_text(
        &Document::load(helvetica_page(), None).unwrap(),
        "<@signature1@>",
    )
    .unwrap();
    let pdf = std::fs::read(&output).unwrap();
    let after = check_against_poppler(&pdf, "<@signature1@>", 2);
    assert_eq!(before, after);
}

// ---------------------------------------------------------------------------------------------
// Hostile content

use paraf_testkit::rng::Rng;

#[test]
fn garbage_and_mutated_content_streams_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seed = b"q 1 0 0 1 10 10 cm BT /F1 12 Tf 72 700 Td [(<@sig) -20 (nature@>)] TJ 0 -14 TD \
(a) ' 1 2 (b) \" 2 0 0 2 0 0 Tm 150 Tz 3 Ts T* ET BI /W 1 /H 1 ID x EI /X Do Q";
    let alphabet = b"()<>[]{}/%\\ \n0123456789.-+TJjdDmfczwLs*'\"qQBEIDo";
    for round in 0..600 {
        let content: Vec<u8> = if round % 3 == 0 {
            (0..rng.next_u64() % 400)
                .map(|_| rng.next_u64() as u8)
                .collect()
        } else {
            let mut c = seed.to_vec();
            for _ in 0..1 + rng.next_u64() % 8 {
                let i = (rng.next_u64() as usize) % c.len();
                match rng.next_u64() % 3 {
                    0 => c[i] = alphabet[(rng.next_u64() as usize) % alphabet.len()],
                    1 => {
                        c.remove(i);
                    }
                    _ => c.insert(i, alphabet[(rng.next_u64() as usize) % alphabet.len()]),
                }
            }
            c
        };
        let mut pdf = Pdf::default();
        let f = pdf.helvetica();
        let pdf = pdf.finish_with_pages(vec![(font_resources("F1", f), content)]);
        let doc = Document::load(pdf, None).unwrap();
        let _ = find_text(&doc, "<@signature@>").unwrap();
    }
}

#[test]
fn builtin_encoding_of_an_embedded_type1_font() {
    let mut pdf = Pdf::default();
    // No /Encoding in the font dictionary: the font program's own encoding applies, read from
    // its clear-text part. Here it puts `<@signature@>` and `$` on the capital letters.
    let mut program = b"%!PS-AdobeFont-1.0: Scrambled 001.000
/FontName /Scrambled def
/Encoding 256 array
0 1 255 {1 index exch /.notdef put} for
dup 65 /less put
dup 66 /at put
dup 67 /s put
dup 68 /i put
dup 69 /g put
dup 70 /n put
dup 71 /a put
dup 72 /t put
dup 73 /u put
dup 74 /r put
dup 75 /e put
dup 76 /greater put
dup 77 /space put
dup 78 /dollar put
readonly def
currentfile eexec
"
    .to_vec();
    let clear = program.len();
    program.extend_from_slice(&[0xd9, 0xd6, 0x6f, 0x63, 0x3b, 0x84, 0x6a, 0x98]);
    let file = pdf.add_stream(&format!("/Length1 {clear} /Length2 8 /Length3 0"), &program);
    let descriptor = pdf.add(format!(
        "<< /Type /FontDescriptor /FontName /Scrambled /Flags 4 /FontBBox [0 -200 1000 800] \
         /ItalicAngle 0 /Ascent 750 /Descent -250 /CapHeight 700 /StemV 80 /FontFile {file} 0 R >>"
    ));
    let font = pdf.add(format!(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Scrambled /FirstChar 65 /LastChar 78 \
         /Widths [584 1015 500 222 556 556 556 278 556 333 556 584 278 556] \
         /FontDescriptor {descriptor} 0 R >>"
    ));
    let content = b"BT /S 14 Tf 100 400 Td (ABCDEFGHIJKBLMNM) Tj ET".to_vec();
    let pdf = pdf.finish_with_pages(vec![(font_resources("S", font), content)]);
    let found = check_against_poppler(&pdf, "<@signature@>", 1);
    assert_close(
        found[0].rect,
        [
            100.0,
            400.0 - 0.25 * 14.0,
            100.0 + 7.311 * 14.0,
            400.0 + 0.75 * 14.0,
        ],
    );
    check_against_poppler(&pdf, "$", 1);
}

#[test]
fn damaged_fonts_still_give_positions() {
    let mut pdf = Pdf::default();
    // A Type0 font without descendants, a simple font with broken /Widths and /Differences,
    // a font resource that does not exist.
    let broken0 =
        pdf.add("<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /DescendantFonts 99 0 R >>");
    let broken1 = pdf.add(
        "<< /Type /Font /Subtype /TrueType /BaseFont /ABCDEF+Calibri /FirstChar 300 /Widths (x) \
         /Encoding << /Differences [ 36 /dollar /numbersign -5 /x (y) ] >> >>",
    );
    let content =
        b"BT /A 12 Tf 10 10 Td <00240041> Tj /B 12 Tf 10 30 Td ($ #) Tj /C 12 Tf ($) Tj ET"
            .to_vec();
    let pdf = pdf.finish_with_pages(vec![(
        format!("/Resources << /Font << /A {broken0} 0 R /B {broken1} 0 R >> >>"),
        content,
    )]);
    let doc = Document::load(pdf, None).unwrap();
    let found = find_text(&doc, "$").unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(find_text(&doc, "#").unwrap().len(), 1);
}
