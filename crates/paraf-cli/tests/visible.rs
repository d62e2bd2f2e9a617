//! Visible signatures land exactly where asked: checked by rendering the signed page with
//! poppler's `pdftoppm` (as displayed: CropBox, /Rotate applied) and by `pdftotext -bbox`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A one-page PDF with an empty page: `page_extra` goes into the page dictionary.
fn blank_pdf(page_extra: &str, content: &str) -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R {page_extra} /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    paraf_testkit::pdf::build_pdf(&objs.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A rendered page in gray levels.
struct Gray {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Gray {
    /// Bounding box `(left, top, right, bottom)` in pixels of everything darker than `t`.
    fn dark_bbox(&self, t: u8) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in 0..self.h {
            for x in 0..self.w {
                if self.px[y * self.w + x] < t {
                    b = Some(match b {
                        None => (x, y, x, y),
                        Some((l, tp, r, bt)) => (l.min(x), tp.min(y), r.max(x), bt.max(y)),
                    });
                }
            }
        }
        b
    }
}

/// Renders page 1 at 72 dpi (1 px = 1 pt) as a PGM and reads it.
fn render(pdf: &Path) -> Gray {
    require_tool("pdftoppm", "poppler-utils");
    let prefix = pdf.with_extension("");
    run_ok(
        Command::new("pdftoppm")
            .args([
                "-r",
                "72",
                "-gray",
                "-cropbox",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
            ])
            .arg(pdf)
            .arg(&prefix),
    );
    let data = std::fs::read(prefix.with_extension("pgm")).unwrap();
    // P5\n<w> <h>\n255\n<bytes>
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..i]).to_string());
    }
    i += 1;
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    Gray {
        w,
        h,
        px: data[i..i + w * h].to_vec(),
    }
}

fn sign_visible(input: &[u8], dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let pki = pki();
    let inp = write(dir, &format!("{name}-in.pdf"), input);
    let out = dir.join(format!("{name}.pdf"));
    run_ok(
        paraf()
            .arg("sign")
            .arg(&inp)
            .arg("-o")
            .arg(&out)
            .arg("--p12")
            .arg(&pki.rsa_p12)
            .args(["--password", P12_PASSWORD])
            .args(args),
    );
    out
}

/// The stamp (its border) covers exactly the requested rectangle of the displayed page.
fn assert_stamp_at(pdf: &Path, x: f64, y: f64, w: f64, h: f64) {
    let g = render(pdf);
    let (l, t, r, b) = g.dark_bbox(128).expect("nothing drawn on the page");
    let want = (x, g.h as f64 - (y + h), x + w, g.h as f64 - y);
    let got = (l as f64, t as f64, r as f64 + 1.0, b as f64 + 1.0);
    let close = |a: f64, b: f64| (a - b).abs() <= 2.0;
    assert!(
        close(got.0, want.0)
            && close(got.1, want.1)
            && close(got.2, want.2)
            && close(got.3, want.3),
        "{}: stamp drawn at {got:?} (l,t,r,b px), wanted {want:?} on a {}x{} page",
        pdf.display(),
        g.w,
        g.h
    );
}

#[test]
fn rectangle_placement_on_plain_rotated_and_cropped_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("plain", "/MediaBox [0 0 595 842]"),
        ("rot90", "/MediaBox [0 0 595 842] /Rotate 90"),
        ("rot180", "/MediaBox [0 0 595 842] /Rotate 180"),
        ("rot270", "/MediaBox [0 0 595 842] /Rotate 270"),
        (
            "cropped",
            "/MediaBox [0 0 600 800] /CropBox [50 60 550 760]",
        ),
        (
            "cropped-rot90",
            "/MediaBox [0 0 600 800] /CropBox [50 60 550 760] /Rotate 90",
        ),
    ];
    for (name, extra) in cases {
        let out = sign_visible(
            &blank_pdf(extra, ""),
            tmp.path(),
            name,
            &[
                "--page",
                "1",
                "--rect",
                "40,30,200,70",
                "--text",
                "Disetujui",
            ],
        );
        assert_stamp_at(&out, 40.0, 30.0, 200.0, 70.0);
        let v = assert_pyhanko_valid(&out, &pki().root_pem, None);
        assert_eq!(v.lines.len(), 1);
    }
}

#[test]
fn percent_placement_has_its_origin_top_left() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sign_visible(
        &blank_pdf("/MediaBox [0 0 600 800]", ""),
        tmp.path(),
        "pct",
        &["--page", "1", "--percent", "10,5,30,10"],
    );
    // x = 60, w = 180; top = 40 from the top, h = 80 → y = 800 - 40 - 80 = 680
    assert_stamp_at(&out, 60.0, 680.0, 180.0, 80.0);
}

/// The words of `pdftotext -bbox` on page 1: (word, xMin, yMin, xMax, yMax), origin top-left.
fn words(pdf: &Path) -> Vec<(String, f64, f64, f64, f64)> {
    require_tool("pdftotext", "poppler-utils");
    let out = run_ok(
        Command::new("pdftotext")
            .args(["-bbox", "-f", "1", "-l", "1"])
            .arg(pdf)
            .arg("-"),
    );
    let html = String::from_utf8_lossy(&out.stdout).to_string();
    html.lines()
        .filter(|l| l.contains("<word"))
        .map(|l| {
            let attr = |k: &str| -> f64 {
                let s = l.split(&format!("{k}=\"")).nth(1).unwrap();
                s[..s.find('"').unwrap()].parse().unwrap()
            };
            let text = l[l.find('>').unwrap() + 1..l.rfind("</word>").unwrap()].to_string();
            (text, attr("xMin"), attr("yMin"), attr("xMax"), attr("yMax"))
        })
        .collect()
}

#[test]
fn tag_placement_centres_the_stamp_on_the_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let content = "BT /F1 12 Tf 300 200 Td (Tanda tangan <@signature@>) Tj ET";
    let input = blank_pdf("/MediaBox [0 0 595 842]", content);
    let inp = write(tmp.path(), "tag-src.pdf", &input);
    let tag = words(&inp)
        .into_iter()
        .find(|w| w.0.contains("signature"))
        .expect("pdftotext finds the tag");
    let out = sign_visible(
        &input,
        tmp.path(),
        "tag",
        &[
            "--tag",
            "<@signature@>",
            "--size",
            "150,50",
            "--qr",
            "https://paraf.example/v/42",
        ],
    );
    let cx = (tag.1 + tag.3) / 2.0;
    let cy_top = (tag.2 + tag.4) / 2.0;
    // The stamp is what changed between the page before and after signing.
    let before = render(&inp);
    let mut g = render(&out);
    for (a, b) in g.px.iter_mut().zip(&before.px) {
        *a = if a.abs_diff(*b) > 60 { 0 } else { 255 };
    }
    let (l, t, r, b) = g.dark_bbox(100).unwrap();
    let (scx, scy) = ((l + r + 1) as f64 / 2.0, (t + b + 1) as f64 / 2.0);
    assert!(
        (scx - cx).abs() < 3.0 && (scy - cy_top).abs() < 3.0,
        "stamp centre ({scx},{scy}) vs tag centre ({cx},{cy_top})"
    );
    assert!(((r + 1 - l) as f64 - 150.0).abs() <= 2.0 && ((b + 1 - t) as f64 - 50.0).abs() <= 2.0);
    assert_pyhanko_valid(&out, &pki().root_pem, None);
}

#[test]
fn stamp_text_is_extractable_and_inside_the_stamp() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sign_visible(
        &blank_pdf("/MediaBox [0 0 595 842]", ""),
        tmp.path(),
        "text",
        &[
            "--page",
            "1",
            "--rect",
            "100,500,300,90",
            "--text",
            "Ni Luh Putu Śrī",
            "--reason",
            "Persetujuan",
            "--location",
            "Denpasar",
        ],
    );
    let ws = words(&out);
    for needle in ["Śrī", "Denpasar", "Budi"] {
        let w = ws
            .iter()
            .find(|w| w.0.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {ws:?}"));
        // inside x 100..400, y (top-left origin) 842-590..842-500
        assert!(
            w.1 >= 99.0 && w.3 <= 401.0 && w.2 >= 251.0 && w.4 <= 343.0,
            "{needle} at {w:?}"
        );
    }
}

#[test]
fn image_stamp_is_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    // A 1x1 black PNG (grayscale, 8 bit).
    let png = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3A, 0x7E, 0x9B, 0x55, 0, 0, 0, 0x0A, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1, 0x48, 0xAF, 0xA4, 0x71, 0, 0, 0, 0,
        0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let img = write(tmp.path(), "sig.png", &png);
    let out = sign_visible(
        &blank_pdf("/MediaBox [0 0 595 842]", ""),
        tmp.path(),
        "img",
        &[
            "--page",
            "1",
            "--rect",
            "100,100,80,80",
            "--image",
            img.to_str().unwrap(),
        ],
    );
    let g = render(&out);
    // Beside the text lines the image takes the left part of the stamp: a black square there.
    let dark = (842 - 179..842 - 101)
        .flat_map(|y| (101..136).map(move |x| (x, y)))
        .filter(|&(x, y)| g.px[y * g.w + x] < 50)
        .count();
    assert!(
        dark > 400,
        "the image is not drawn in the stamp ({dark} dark pixels)"
    );
    assert_pyhanko_valid(&out, &pki().root_pem, None);
}
