//! Reading files shaped by other producers (qpdf) and writing incremental updates that qpdf accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use paraf_pdf::xref::XrefKind;
use paraf_pdf::{Dict, Document, ErrorKind, IncrementalUpdate, Object, PdfString};

fn three_pages() -> Vec<u8> {
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [4 0 R 6 0 R 8 0 R] /Count 3 /MediaBox [0 0 595 842] >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    for i in 0..3 {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let c = format!("BT /F1 12 Tf 72 700 Td (Halaman {}) Tj ET", i + 1);
        objs.push(format!("<< /Length {} >>\nstream\n{c}\nendstream", c.len()));
    }
    let objs: Vec<&str> = objs.iter().map(String::as_str).collect();
    paraf_testkit::pdf::build(&objs, &[], "/Info << /Title (Uji) >>")
}

fn qpdf(input: &Path, out: &Path, args: &[&str]) {
    let st = Command::new("qpdf")
        .args(args)
        .arg(input)
        .arg(out)
        .status()
        .expect("qpdf is not installed: run scripts/install-test-deps.sh");
    assert!(st.success() || st.code() == Some(3), "qpdf {args:?} failed");
}

use paraf_testkit::tools::assert_qpdf_clean as qpdf_check;

/// Appends an update that changes /Info's title and adds an object, then checks with qpdf.
fn update_and_check(data: Vec<u8>, password: Option<&str>, dir: &Path, name: &str) -> Vec<u8> {
    let doc = Document::load(data, password.map(str::as_bytes)).unwrap();
    assert_eq!(doc.pages().unwrap().len(), 3, "{name}");
    let mut up = IncrementalUpdate::new(&doc);
    let r = up.alloc();
    up.put(r, Dict::new().with("Note", PdfString::text("Catatan ✓")));
    let cat_ref = doc.catalog_ref().unwrap();
    let cat = doc.catalog().unwrap().with("PieceInfoTest", Object::Ref(r));
    up.put(cat_ref, cat);
    let app = up.finish().unwrap();
    let mut out = doc.data().to_vec();
    out.extend_from_slice(&app.bytes);
    let p = dir.join(format!("{name}-updated.pdf"));
    std::fs::write(&p, &out).unwrap();
    qpdf_check(&p, password);
    // Read back: the new object is there, decrypted.
    let back = Document::load(out.clone(), password.map(str::as_bytes)).unwrap();
    let cat = back.catalog().unwrap();
    let note = back.resolve_key(&cat, "PieceInfoTest").unwrap();
    let note = note.as_dict().unwrap().get("Note").unwrap();
    assert_eq!(
        PdfString {
            bytes: note.as_string().unwrap().to_vec(),
            hex: false
        }
        .to_text(),
        "Catatan ✓",
        "{name}"
    );
    assert_eq!(back.pages().unwrap().len(), 3);
    out
}

#[test]
fn files_from_qpdf_are_read_and_updated() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.pdf");
    std::fs::write(&base, three_pages()).unwrap();
    let cases: &[(&str, &[&str], Option<&str>, XrefKind)] = &[
        ("plain", &[], None, XrefKind::Table),
        (
            "objstm",
            &["--object-streams=generate"],
            None,
            XrefKind::Stream,
        ),
        ("linearized", &["--linearize"], None, XrefKind::Table),
        ("qdf", &["--qdf"], None, XrefKind::Table),
        (
            "aes256",
            &["--encrypt", "u", "o", "256", "--"],
            Some("u"),
            XrefKind::Table,
        ),
        (
            "aes256-owner",
            &["--encrypt", "u", "o", "256", "--"],
            Some("o"),
            XrefKind::Table,
        ),
        (
            "aes128",
            &["--encrypt", "u", "o", "128", "--use-aes=y", "--"],
            Some("u"),
            XrefKind::Table,
        ),
        (
            "rc4",
            &["--allow-weak-crypto", "--encrypt", "u", "o", "40", "--"],
            Some("u"),
            XrefKind::Table,
        ),
    ];
    for (name, args, pwd, kind) in cases {
        let out = tmp.path().join(format!("{name}.pdf"));
        qpdf(&base, &out, args);
        let data = std::fs::read(&out).unwrap();
        let doc = Document::load(data.clone(), pwd.map(str::as_bytes)).unwrap();
        assert_eq!(doc.xref_kind(), *kind, "{name}");
        let updated = update_and_check(data, *pwd, tmp.path(), name);
        // A second update on top of the first.
        update_and_check(updated, *pwd, tmp.path(), &format!("{name}-2"));
    }
}

#[test]
fn wrong_or_missing_password_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.pdf");
    std::fs::write(&base, three_pages()).unwrap();
    let out = tmp.path().join("enc.pdf");
    qpdf(&base, &out, &["--encrypt", "u", "o", "256", "--"]);
    let data = std::fs::read(&out).unwrap();
    let e = Document::load(data.clone(), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadPassword, "{e}");
    let e = Document::load(data, Some(b"nope")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadPassword, "{e}");
}

#[test]
fn broken_xref_is_recovered_for_reading() {
    let mut data = three_pages();
    // Point startxref at garbage.
    let pos = data.windows(9).rposition(|w| w == b"startxref").unwrap();
    data.truncate(pos);
    data.extend_from_slice(b"startxref\n12345\n%%EOF\n");
    let doc = Document::load(data, None).unwrap();
    assert!(doc.xref().recovered);
    assert_eq!(doc.pages().unwrap().len(), 3);
    // Offsets shifted by junk inserted at the front of the body.
    let mut shifted = three_pages();
    shifted.splice(9..9, b"% junk junk junk\n".iter().copied());
    let doc = Document::load(shifted, None).unwrap();
    assert_eq!(doc.pages().unwrap().len(), 3);
}

#[test]
fn not_a_pdf_and_truncated_files_are_errors_not_panics() {
    assert_eq!(
        Document::load(b"hello world".to_vec(), None)
            .unwrap_err()
            .kind,
        ErrorKind::NotPdf
    );
    let full = three_pages();
    for cut in [10, 50, 200, full.len() / 2] {
        let _ = Document::load(full[..cut].to_vec(), None);
    }
    assert!(Document::load(full[..10].to_vec(), None).is_err());
}

#[test]
fn encrypt_null_means_not_encrypted() {
    let data = three_pages();
    let text = String::from_utf8_lossy(&data)
        .replace("/Root 1 0 R /Info", "/Root 1 0 R /Encrypt null /Info");
    let doc = Document::load(text.into_bytes(), None).unwrap();
    assert!(doc.security().is_none());
    assert_eq!(doc.pages().unwrap().len(), 3);
}
