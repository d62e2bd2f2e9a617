//! Visible signature appearances, checked with the tools people open PDFs with: the stamp is
//! drawn on a one-page PDF (as a page-level form XObject, no signature needed) and the result
//! goes through `qpdf --check`, `pdffonts`, `pdfimages`, `pdftotext -bbox` and `pdftoppm`
//! (Debian: `apt-get install -y qpdf poppler-utils`). The QR code is read back from the
//! rendered page with `rqrr`, a QR decoder independent of the `qrcode` crate that drew it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use image::{ImageEncoder, RgbImage};
use paraf_pdf::{Dict, Document, IncrementalUpdate, Object, Stream};
use paraf_sign::appearance::{build_appearance, AppearanceError, AppearanceSpec, ImageSource};

const PAGE_W: f64 = 612.0;
const PAGE_H: f64 = 792.0;

/// Where the stamp's lower-left corner goes on the page, in points.
const AT: (f64, f64) = (100.0, 500.0);

const URL: &str = "https://verify.paraf.example/v/7f3a9c2e-1b4d-4e8a-9f00-3c2d1e0b5a6f";

// ---------------------------------------------------------------------------------------------
// The PDF under test

/// One empty US-letter page, classic cross-reference table.
fn minimal_pdf() -> Vec<u8> {
    paraf_testkit::pdf::empty_page(PAGE_W, PAGE_H)
}

/// A stamped PDF on disk.
struct Stamped {
    dir: tempfile::TempDir,
    pdf: PathBuf,
}

/// Builds the appearance in an incremental update and draws it on page 1 at [`AT`] with
/// `q 1 0 0 1 X Y cm /Stamp Do Q` in an extra content stream.
fn stamp(spec: &AppearanceSpec) -> Stamped {
    let original = minimal_pdf();
    let doc = Document::load(original.clone(), None).unwrap();
    let page = doc.page(1).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    let form = build_appearance(&mut update, spec).unwrap();

    let content_ref = update.alloc();
    update.put(
        content_ref,
        Stream {
            dict: Dict::new(),
            data: format!("q 1 0 0 1 {} {} cm /Stamp Do Q", AT.0, AT.1).into_bytes(),
        },
    );
    let mut page_dict = page.dict.clone();
    let mut contents = match page_dict.get("Contents") {
        Some(Object::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    contents.push(Object::Ref(content_ref));
    page_dict.set("Contents", contents);
    let mut resources = page.resources.clone();
    resources.set("XObject", Dict::new().with("Stamp", form));
    page_dict.set("Resources", resources);
    update.put(page.id, page_dict);

    let appended = update.finish().unwrap();
    let mut bytes = original;
    bytes.extend_from_slice(&appended.bytes);
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("stamped.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    Stamped { dir, pdf }
}

fn spec(width: f64, height: f64) -> AppearanceSpec {
    AppearanceSpec {
        width,
        height,
        ..AppearanceSpec::default()
    }
}

fn signer_lines() -> Vec<String> {
    vec![
        "Ni Luh Putu Ayu Śrī".into(),
        "Дмитрий Иванов".into(),
        "2025-01-15 10:23 WITA".into(),
        "Alasan: Persetujuan kontrak".into(),
    ]
}

// ---------------------------------------------------------------------------------------------
// External tools

/// Runs a tool, failing the test with an install hint when it is missing.
fn run(tool: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed; these tests need it: apt-get install -y qpdf poppler-utils"
        ),
        Err(e) => panic!("could not run `{tool}`: {e}"),
    }
}

fn run_ok(tool: &str, args: &[&str]) -> String {
    let out = run(tool, args);
    assert!(
        out.status.success(),
        "`{tool} {}` failed ({}):\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn qpdf_check(pdf: &Path) {
    let out = run("qpdf", &["--check", path(pdf)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check found problems:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A word found by `pdftotext -bbox`, in PDF user space (origin bottom-left).
#[derive(Debug)]
struct Word {
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

fn words(s: &Stamped) -> Vec<Word> {
    let html = s.dir.path().join("words.html");
    run_ok(
        "pdftotext",
        &["-bbox", "-enc", "UTF-8", path(&s.pdf), path(&html)],
    );
    let html = std::fs::read_to_string(html).unwrap();
    let attr = |tag: &str, name: &str| -> f64 {
        let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[at..].split('"').next().unwrap().parse().unwrap()
    };
    html.split("<word ")
        .skip(1)
        .map(|rest| {
            let (tag, rest) = rest.split_once('>').unwrap();
            let text = rest.split("</word>").next().unwrap();
            let text = text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            // poppler's origin is the top-left corner, y downwards.
            Word {
                text,
                x0: attr(tag, "xMin"),
                x1: attr(tag, "xMax"),
                y0: PAGE_H - attr(tag, "yMax"),
                y1: PAGE_H - attr(tag, "yMin"),
            }
        })
        .collect()
}

/// The page rendered at `dpi`, as 8-bit RGB.
fn render(s: &Stamped, dpi: u32) -> RgbImage {
    let prefix = s.dir.path().join(format!("page-{dpi}"));
    let dpi_arg = dpi.to_string();
    run_ok(
        "pdftoppm",
        &[
            "-r",
            &dpi_arg,
            "-png",
            "-singlefile",
            path(&s.pdf),
            path(&prefix),
        ],
    );
    let png = prefix.with_extension("png");
    image::open(&png).unwrap().to_rgb8()
}

/// The pixel of a 72-dpi rendering at stamp-relative point (`x`, `y`) (from the stamp's
/// lower-left corner, y upwards).
fn pixel_at(img: &RgbImage, x: f64, y: f64) -> [u8; 3] {
    let px = (AT.0 + x).floor() as u32;
    let py = (PAGE_H - (AT.1 + y)).floor() as u32;
    img.get_pixel(px, py).0
}

/// Asserts that every pixel of a 72-dpi rendering outside the stamp (`w` × `h` at [`AT`],
/// widened by one pixel for anti-aliasing) is white, and returns how many inside are dark.
fn dark_inside_white_outside(img: &RgbImage, w: f64, h: f64) -> usize {
    let (x0, x1) = (AT.0 - 1.0, AT.0 + w + 1.0);
    let (y0, y1) = (PAGE_H - (AT.1 + h) - 1.0, PAGE_H - AT.1 + 1.0);
    let mut dark = 0;
    for (px, py, p) in img.enumerate_pixels() {
        let (fx, fy) = (f64::from(px), f64::from(py));
        let inside = fx >= x0 && fx < x1 && fy >= y0 && fy < y1;
        if inside {
            if p.0.iter().all(|&c| c < 100) {
                dark += 1;
            }
        } else {
            assert_eq!(
                p.0,
                [255, 255, 255],
                "pixel ({px}, {py}) outside the stamp is not white"
            );
        }
    }
    dark
}

fn decode_qr(img: &RgbImage) -> Vec<String> {
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            let p = img.get_pixel(x as u32, y as u32).0;
            ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 3) as u8
        });
    prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// `pdfimages -list` rows: (type, width, height, color, components, encoding).
fn images(s: &Stamped) -> Vec<Vec<String>> {
    run_ok("pdfimages", &["-list", path(&s.pdf)])
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .map(|cols| {
            // page num type width height color comp bpc enc …
            vec![
                cols[2].clone(),
                cols[3].clone(),
                cols[4].clone(),
                cols[5].clone(),
                cols[6].clone(),
                cols[8].clone(),
            ]
        })
        .collect()
}

fn row(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Test images

fn encode_png(width: u32, height: u32, color: image::ExtendedColorType, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(pixels, width, height, color)
        .unwrap();
    out
}

/// 40 × 40: an opaque red 20 × 20 square in the middle of a fully transparent *blue* border
/// (blue, so that a missing soft mask would show).
fn red_square_in_transparent_border() -> Vec<u8> {
    let mut px = Vec::new();
    for y in 0..40 {
        for x in 0..40 {
            let inner = (10..30).contains(&x) && (10..30).contains(&y);
            px.extend_from_slice(if inner {
                &[255, 0, 0, 255]
            } else {
                &[0, 0, 255, 0]
            });
        }
    }
    encode_png(40, 40, image::ExtendedColorType::Rgba8, &px)
}

fn solid_jpeg(width: u32, height: u32, color: image::ExtendedColorType, pixel: &[u8]) -> Vec<u8> {
    let pixels: Vec<u8> = pixel
        .iter()
        .copied()
        .cycle()
        .take(pixel.len() * (width * height) as usize)
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .write_image(&pixels, width, height, color)
        .unwrap();
    out
}

/// An 8 × 8 baseline JPEG of one CMYK colour, stored the way Photoshop stores CMYK: with an
/// Adobe APP14 marker (transform 0) and inverted samples (255 = no ink). No common encoder
/// writes CMYK, so this one is built by hand: one 8 × 8 block per component, DC only.
fn adobe_cmyk_jpeg(ink: [u8; 4]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // APP14 "Adobe": version 100, flags 0 0, transform 0 (CMYK as is).
    out.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
    out.extend_from_slice(b"Adobe");
    out.extend_from_slice(&[0, 100, 0, 0, 0, 0, 0]);
    // One quantisation table of ones.
    out.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    out.extend_from_slice(&[1; 64]);
    // SOF0: 8 bits, 8 × 8, four components, no subsampling, table 0.
    out.extend_from_slice(&[0xFF, 0xC0, 0, 20, 8, 0, 8, 0, 8, 4]);
    for id in 1..=4 {
        out.extend_from_slice(&[id, 0x11, 0]);
    }
    // DC table 0: categories 0–11 with 4-bit codes 0000…1011. AC table 0: only EOB, code "0".
    out.extend_from_slice(&[0xFF, 0xC4, 0, 49, 0x00]);
    out.extend_from_slice(&[0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    out.extend_from_slice(&[0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
    // SOS: four components, all with tables 0/0, spectral 0–63.
    out.extend_from_slice(&[0xFF, 0xDA, 0, 14, 4]);
    for id in 1..=4 {
        out.extend_from_slice(&[id, 0x00]);
    }
    out.extend_from_slice(&[0, 63, 0]);

    let mut bits: Vec<bool> = Vec::new();
    let put = |value: u32, n: u32, bits: &mut Vec<bool>| {
        for i in (0..n).rev() {
            bits.push(value >> i & 1 == 1);
        }
    };
    for &ink in &ink {
        // Stored value (inverted), level-shifted; a flat block's DC coefficient is 8 × that.
        let dc = 8 * (i32::from(255 - ink) - 128);
        let cat = 32 - dc.unsigned_abs().leading_zeros();
        put(cat, 4, &mut bits);
        let extra = if dc < 0 { dc + (1 << cat) - 1 } else { dc };
        put(extra as u32, cat, &mut bits);
        put(0, 1, &mut bits); // EOB
    }
    while !bits.len().is_multiple_of(8) {
        bits.push(true);
    }
    for byte in bits.chunks(8) {
        let b = byte.iter().fold(0u8, |acc, &bit| acc << 1 | u8::from(bit));
        out.push(b);
        if b == 0xFF {
            out.push(0);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn text_and_qr_stamp_is_valid_and_its_names_extract_inside_the_stamp() {
    let (w, h) = (260.0, 90.0);
    let s = stamp(&AppearanceSpec {
        qr_url: Some(URL.into()),
        lines: signer_lines(),
        border: true,
        ..spec(w, h)
    });
    qpdf_check(&s.pdf);

    let found = words(&s);
    let texts: Vec<&str> = found.iter().map(|w| w.text.as_str()).collect();
    for expected in [
        "Ni",
        "Luh",
        "Putu",
        "Ayu",
        "Śrī",
        "Дмитрий",
        "Иванов",
        "WITA",
        "Persetujuan",
    ] {
        assert!(
            texts.contains(&expected),
            "pdftotext did not find {expected:?} in {texts:?}"
        );
    }
    for word in &found {
        assert!(
            word.x0 >= AT.0 - 0.5
                && word.x1 <= AT.0 + w + 0.5
                && word.y0 >= AT.1 - 0.5
                && word.y1 <= AT.1 + h + 0.5,
            "{word:?} lies outside the stamp {w} × {h} at {AT:?}"
        );
        // The text column starts right of the QR code (a square at full height).
        assert!(word.x0 > AT.0 + h - 8.0, "{word:?} overlaps the QR code");
    }
    // Lines keep their order, top to bottom.
    let y_of = |t: &str| found.iter().find(|w| w.text == t).unwrap().y0;
    assert!(y_of("Ni") > y_of("Дмитрий") && y_of("Дмитрий") > y_of("WITA"));
}

#[test]
fn text_uses_an_embedded_subset_type0_font_with_tounicode() {
    let s = stamp(&AppearanceSpec {
        lines: signer_lines(),
        ..spec(200.0, 60.0)
    });
    let out = run_ok("pdffonts", &[path(&s.pdf)]);
    let fonts: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(fonts.len(), 1, "{out}");
    let cols: Vec<&str> = fonts[0].split_whitespace().collect();
    // name type… encoding emb sub uni object ID
    let n = cols.len();
    assert!(
        cols[0].ends_with("+DejaVuSans") && cols[0].len() == 7 + 10,
        "{out}"
    );
    assert_eq!(&cols[1..n - 6], ["CID", "TrueType"], "{out}");
    assert_eq!(
        &cols[n - 6..n - 2],
        ["Identity-H", "yes", "yes", "yes"],
        "{out}"
    );
    // The subset is small: the whole DejaVu Sans is 740 KiB.
    let size = std::fs::metadata(&s.pdf).unwrap().len();
    assert!(size < 40_000, "the stamped PDF is {size} bytes");
}

#[test]
fn text_and_qr_stamp_renders_inside_its_box_only() {
    let (w, h) = (260.0, 90.0);
    let s = stamp(&AppearanceSpec {
        qr_url: Some(URL.into()),
        lines: signer_lines(),
        border: true,
        ..spec(w, h)
    });
    let img = render(&s, 72);
    let dark = dark_inside_white_outside(&img, w, h);
    assert!(dark > 500, "only {dark} dark pixels in the stamp");
    // The QR code's quiet zone is white, its finder pattern's corner module dark.
    let pad = 4.0 + 0.75;
    let side = h - 2.0 * pad;
    assert_eq!(pixel_at(&img, pad + 1.0, h / 2.0), [255, 255, 255]);
    let modules = qrcode::QrCode::with_error_correction_level(URL, qrcode::EcLevel::M)
        .unwrap()
        .width();
    let module = side / (modules + 8) as f64; // with the quiet zone
    let corner = pixel_at(&img, pad + 4.5 * module, h - pad - 4.5 * module);
    assert!(
        corner.iter().all(|&c| c < 60),
        "finder pattern corner is {corner:?}"
    );
}

#[test]
fn qr_code_decodes_to_the_url() {
    let s = stamp(&AppearanceSpec {
        qr_url: Some(URL.into()),
        lines: signer_lines(),
        ..spec(260.0, 90.0)
    });
    let decoded = decode_qr(&render(&s, 300));
    assert_eq!(decoded, [URL]);
}

#[test]
fn qr_code_alone_in_a_small_box_still_decodes() {
    // 1.5 cm square, about what a BSrE stamp prints.
    let s = stamp(&AppearanceSpec {
        qr_url: Some(URL.into()),
        ..spec(42.0, 42.0)
    });
    qpdf_check(&s.pdf);
    assert_eq!(decode_qr(&render(&s, 300)), [URL]);
}

#[test]
fn png_alpha_shows_the_page_through_and_the_opaque_part_in_colour() {
    let (w, h) = (120.0, 80.0);
    let s = stamp(&AppearanceSpec {
        image: Some(ImageSource::Png(red_square_in_transparent_border())),
        ..spec(w, h)
    });
    qpdf_check(&s.pdf);
    assert_eq!(
        images(&s),
        [
            row(&["image", "40", "40", "rgb", "3", "image"]),
            row(&["smask", "40", "40", "gray", "1", "image"]),
        ]
    );
    let img = render(&s, 72);
    dark_inside_white_outside(&img, w, h);
    // Image alone: fitted (square, so full inner height) and centred.
    let pad = 4.0;
    let side = h - 2.0 * pad;
    let left = (w - side) / 2.0;
    let centre = pixel_at(&img, w / 2.0, h / 2.0);
    assert!(
        centre[0] > 230 && centre[1] < 30 && centre[2] < 30,
        "centre is {centre:?}"
    );
    // The transparent border (blue pixels under alpha 0) shows the white page.
    for (x, y) in [
        (left + side * 0.1, h / 2.0),
        (w / 2.0, pad + side * 0.1),
        (left + side * 0.9, pad + side * 0.9),
    ] {
        assert_eq!(pixel_at(&img, x, y), [255, 255, 255], "at ({x}, {y})");
    }
    // Outside the fitted image, left and right, nothing is drawn either.
    assert_eq!(pixel_at(&img, left / 2.0, h / 2.0), [255, 255, 255]);
}

#[test]
fn jpegs_are_embedded_as_dct_in_their_own_colour_space() {
    let rgb = solid_jpeg(16, 8, image::ExtendedColorType::Rgb8, &[0, 160, 0]);
    let gray = solid_jpeg(8, 8, image::ExtendedColorType::L8, &[60]);
    // Full cyan ink. Poppler converts CMYK like print does, so process cyan comes out as
    // about (0, 172, 239); uninverted, the same samples would come out black.
    let cmyk = adobe_cmyk_jpeg([255, 0, 0, 0]);
    fn near(p: [u8; 3], want: [u8; 3]) -> bool {
        p.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 24)
    }
    type Check = fn([u8; 3]) -> bool;
    let cases: [(ImageSource, &str, &str, Check); 3] = [
        (ImageSource::Jpeg(rgb), "rgb", "3", |p| near(p, [0, 160, 0])),
        (ImageSource::Auto(gray), "gray", "1", |p| {
            near(p, [60, 60, 60])
        }),
        (ImageSource::Jpeg(cmyk), "cmyk", "4", |p| {
            p[0] < 40 && p[1] > 130 && p[2] > 200
        }),
    ];
    for (jpeg, colour, comps, expected) in cases {
        let s = stamp(&AppearanceSpec {
            image: Some(jpeg),
            ..spec(80.0, 80.0)
        });
        qpdf_check(&s.pdf);
        let listed = images(&s);
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0][3..], row(&[colour, comps, "jpeg"]), "{listed:?}");
        let p = pixel_at(&render(&s, 72), 40.0, 40.0);
        assert!(expected(p), "{colour}: rendered {p:?}");
    }
}

#[test]
fn image_beside_text_leaves_the_text_readable() {
    let (w, h) = (240.0, 70.0);
    let s = stamp(&AppearanceSpec {
        image: Some(ImageSource::Auto(red_square_in_transparent_border())),
        lines: signer_lines(),
        border: true,
        ..spec(w, h)
    });
    qpdf_check(&s.pdf);
    let found = words(&s);
    assert!(found.iter().any(|w| w.text == "Śrī"), "{found:?}");
    // The image is on the left; the text starts after it.
    let img = render(&s, 72);
    dark_inside_white_outside(&img, w, h);
    let red = pixel_at(&img, 4.75 + (h - 9.5) / 2.0, h / 2.0);
    assert!(red[0] > 230 && red[1] < 30, "image centre is {red:?}");
    for word in &found {
        assert!(word.x0 > AT.0 + h - 9.0, "{word:?} overlaps the image");
    }
}

#[test]
fn long_text_wraps_and_shrinks_but_stays_inside() {
    let (w, h) = (150.0, 50.0);
    let free_text = "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat \
                     elektronik yang diterbitkan oleh Balai Sertifikasi Elektronik (BSrE), BSSN";
    let s = stamp(&AppearanceSpec {
        lines: vec!["Ni Luh Putu Ayu Śrī".into(), free_text.into()],
        border: true,
        ..spec(w, h)
    });
    qpdf_check(&s.pdf);
    let found = words(&s);
    let texts: Vec<&str> = found.iter().map(|w| w.text.as_str()).collect();
    for expected in ["Śrī", "Dokumen", "elektronik", "BSSN"] {
        assert!(texts.contains(&expected), "{expected:?} not in {texts:?}");
    }
    for word in &found {
        assert!(
            word.x0 >= AT.0
                && word.x1 <= AT.0 + w
                && word.y0 >= AT.1 - 0.5
                && word.y1 <= AT.1 + h + 0.5,
            "{word:?} lies outside the stamp"
        );
        let size = word.y1 - word.y0;
        assert!(size >= 4.0, "{word:?} is smaller than 4 pt");
    }
    dark_inside_white_outside(&render(&s, 72), w, h);
}

#[test]
fn characters_the_font_lacks_still_leave_the_rest_extractable() {
    // DejaVu Sans has no CJK: 王 is drawn as .notdef and extracts as U+FFFD.
    let s = stamp(&AppearanceSpec {
        lines: vec!["Budi 王 Santoso".into()],
        ..spec(200.0, 40.0)
    });
    qpdf_check(&s.pdf);
    let texts: Vec<String> = words(&s).into_iter().map(|w| w.text).collect();
    assert_eq!(texts, ["Budi", "\u{FFFD}", "Santoso"]);
}

#[test]
fn unreadable_image_bytes_are_refused_with_a_clear_message() {
    let doc = Document::load(minimal_pdf(), None).unwrap();
    let mut png = red_square_in_transparent_border();
    png.truncate(60);
    for (source, detail) in [
        (
            ImageSource::Auto(b"GIF89a not what we take".to_vec()),
            "neither the PNG nor the JPEG",
        ),
        (ImageSource::Png(Vec::new()), "empty"),
        (ImageSource::Png(png), ""),
        (
            ImageSource::Jpeg(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J']),
            "JPEG",
        ),
    ] {
        let mut update = IncrementalUpdate::new(&doc);
        let err = build_appearance(
            &mut update,
            &AppearanceSpec {
                image: Some(source.clone()),
                lines: vec!["Budi".into()],
                ..spec(200.0, 60.0)
            },
        )
        .unwrap_err();
        assert!(
            matches!(err, AppearanceError::UnreadableImage(_)),
            "{source:?}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("the image is not a readable PNG or JPEG: ") && msg.contains(detail),
            "{source:?}: {msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            update.is_empty(),
            "a failed appearance left objects in the update"
        );
    }
}

#[test]
fn a_url_too_long_for_a_qr_code_is_refused() {
    let doc = Document::load(minimal_pdf(), None).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    let err = build_appearance(
        &mut update,
        &AppearanceSpec {
            qr_url: Some(format!("https://x.example/{}", "a".repeat(4000))),
            ..spec(100.0, 100.0)
        },
    )
    .unwrap_err();
    assert!(matches!(err, AppearanceError::QrTooLong), "{err:?}");
}

#[test]
fn a_degenerate_size_is_refused() {
    let doc = Document::load(minimal_pdf(), None).unwrap();
    for (w, h) in [(0.0, 50.0), (100.0, -1.0), (f64::NAN, 10.0), (1e9, 10.0)] {
        let mut update = IncrementalUpdate::new(&doc);
        let err = build_appearance(&mut update, &spec(w, h)).unwrap_err();
        assert!(
            matches!(err, AppearanceError::InvalidSize { .. }),
            "{w}×{h}: {err:?}"
        );
    }
}

#[test]
fn the_form_xobject_has_the_box_matrix_and_resources() {
    let doc = Document::load(minimal_pdf(), None).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    let form = build_appearance(
        &mut update,
        &AppearanceSpec {
            image: Some(ImageSource::Png(red_square_in_transparent_border())),
            qr_url: Some(URL.into()),
            lines: signer_lines(),
            border: true,
            ..spec(180.5, 60.0)
        },
    )
    .unwrap();
    let appended = update.finish().unwrap();
    let mut bytes = doc.data().to_vec();
    bytes.extend_from_slice(&appended.bytes);
    let doc = Document::load(bytes, None).unwrap();
    let form = doc.get(form).unwrap();
    let dict = form.as_dict().unwrap();
    assert_eq!(dict.name("Subtype"), Some(&b"Form"[..]));
    assert_eq!(
        Object::Array(dict.get("BBox").unwrap().as_array().unwrap().to_vec()).to_bytes(),
        b"[0 0 180.5 60]"
    );
    assert_eq!(dict.get("Matrix").unwrap().to_bytes(), b"[1 0 0 1 0 0]");
    let res = dict.get("Resources").unwrap().as_dict().unwrap();
    assert!(res.get("Font").unwrap().as_dict().unwrap().contains("F1"));
    assert!(res
        .get("XObject")
        .unwrap()
        .as_dict()
        .unwrap()
        .contains("Im1"));
}

#[test]
fn a_date_is_not_broken_across_lines_when_smaller_text_still_reads() {
    let s = stamp(&AppearanceSpec {
        image: Some(ImageSource::Png(red_square_in_transparent_border())),
        lines: vec!["Budi Santoso".into(), "2025-01-15 10:23 +07:00".into()],
        border: true,
        ..spec(260.0, 70.0)
    });
    let found = words(&s);
    let y_of = |t: &str| found.iter().find(|w| w.text == t).unwrap().y0;
    assert_eq!(y_of("2025-01-15"), y_of("+07:00"), "{found:?}");
    assert!(y_of("Budi") > y_of("2025-01-15"));
}

#[test]
fn truncated_images_are_refused_or_drawn_never_a_panic() {
    let doc = Document::load(minimal_pdf(), None).unwrap();
    let jpeg = solid_jpeg(16, 8, image::ExtendedColorType::Rgb8, &[0, 160, 0]);
    let png = red_square_in_transparent_border();
    for full in [jpeg, png, adobe_cmyk_jpeg([0, 0, 0, 255])] {
        for len in 0..full.len() {
            let mut update = IncrementalUpdate::new(&doc);
            let spec = AppearanceSpec {
                image: Some(ImageSource::Auto(full[..len].to_vec())),
                ..spec(50.0, 50.0)
            };
            match build_appearance(&mut update, &spec) {
                Ok(_) | Err(AppearanceError::UnreadableImage(_)) => {}
                Err(e) => panic!("{len} bytes: {e:?}"),
            }
        }
    }
}
