//! The repo's own attack files, built from our signed outputs: every known way of changing a
//! signed PDF must fail validation with the right reason, and the untouched files must pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use paraf_pdf::{Dict, Object, PdfString, Stream};
use paraf_pki::KeyType;
use paraf_sign::Level;
use paraf_verify::{Indication, ModificationLevel, SubIndication, ValidationReport};
use support::*;

fn assert_passed(r: &ValidationReport) {
    assert_eq!(r.indication, Indication::TotalPassed, "{}", describe(r));
    for s in &r.signatures {
        assert!(s.integrity.intact(), "{}", describe(r));
        assert!(s.modifications.illegal.is_empty(), "{}", describe(r));
    }
}

/// The first signature failed with `sub`, and some problem mentions `needle`.
fn assert_failed(r: &ValidationReport, sub: SubIndication, needle: &str) {
    let s = &r.signatures[0];
    assert_eq!(s.indication, Indication::TotalFailed, "{}", describe(r));
    assert_eq!(s.sub_indication, Some(sub), "{}", describe(r));
    assert!(
        s.problems.iter().any(|p| p.message.contains(needle)),
        "no problem mentions {needle:?}:\n{}",
        describe(r)
    );
    assert_ne!(r.indication, Indication::TotalPassed);
}

struct Fixture {
    pki: Pki,
    signed: Vec<u8>,
}

fn fixture() -> Fixture {
    let pki = Pki::new();
    let id = pki.identity("Budi Santoso", KeyType::P256, None);
    let signed = sign(&pki, &simple_pdf(1), &id, Level::BLT, |_| {});
    Fixture { pki, signed }
}

#[test]
fn untouched_levels_pass_and_report_their_level() {
    let pki = Pki::new();
    let rsa = pki.identity("Budi Santoso", KeyType::Rsa2048, None);
    let ec = pki.identity("Siti Rahayu", KeyType::P256, None);
    let live = pki.responder(validation_time());
    for (id, level, name) in [
        (&ec, Level::BB, "B-B"),
        (&rsa, Level::BT, "B-T"),
        (&ec, Level::BLT, "B-LT"),
        (&rsa, Level::BLTA, "B-LTA"),
    ] {
        let pdf = sign(&pki, &simple_pdf(1), id, level, |_| {});
        let mut opts = pki.options();
        if level < Level::BLT {
            // Nothing embedded: revocation must come from the (test) responder.
            opts.revocation = Some(&live);
        }
        let r = verify(&pdf, &opts);
        assert_passed(&r);
        let sig = &r.signatures[0];
        assert_eq!(sig.level.as_deref(), Some(name), "{}", describe(&r));
        assert_eq!(sig.field_name.as_deref(), Some("Signature1"));
        assert_eq!(sig.reason.as_deref(), Some("Persetujuan"));
        assert_eq!(sig.signer.as_ref().unwrap().common_name, Some(id.cert_cn()));
        if level == Level::BLTA {
            assert_eq!(r.signatures.len(), 2);
            assert_eq!(
                r.signatures[1].kind,
                paraf_verify::SignatureKind::DocumentTimestamp
            );
            assert!(r.signatures[1].covers_whole_file);
            assert_eq!(sig.modifications.level, ModificationLevel::LtaUpdates);
        } else {
            assert_eq!(r.signatures.len(), 1);
        }
    }
}

trait Cn {
    fn cert_cn(&self) -> String;
}
impl Cn for Identity {
    fn cert_cn(&self) -> String {
        paraf_pki::x509::name_attribute(
            &self.cert.tbs_certificate.subject,
            paraf_pki::oids::COMMON_NAME,
        )
        .unwrap()
    }
}

/// The test CA's certificates name no CRL or OCSP address: offline, with nothing embedded,
/// the soft policy (the default) passes them with a warning, the hard one makes them
/// INDETERMINATE / TRY_LATER, and off does not look.
#[test]
fn offline_without_revocation_data_follows_the_policy() {
    let pki = Pki::new();
    let id = pki.identity("Budi", KeyType::P256, None);
    let pdf = sign(&pki, &simple_pdf(1), &id, Level::BT, |_| {});
    let r = verify(&pdf, &pki.options());
    assert_eq!(r.indication, Indication::TotalPassed, "{}", describe(&r));
    assert!(
        r.signatures[0]
            .warnings
            .iter()
            .any(|w| w.contains("was not checked")),
        "{}",
        describe(&r)
    );
    let mut hard = pki.options();
    hard.revocation_policy = paraf_verify::RevocationPolicy::Hard;
    let r = verify(&pdf, &hard);
    assert_eq!(r.indication, Indication::Indeterminate, "{}", describe(&r));
    assert_eq!(r.sub_indication, Some(SubIndication::TryLater));
    assert!(r.signatures[0].integrity.intact());
    let mut off = pki.options();
    off.revocation_policy = paraf_verify::RevocationPolicy::Off;
    let r = verify(&pdf, &off);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", describe(&r));
}

#[test]
fn no_trust_anchor_means_no_chain() {
    let f = fixture();
    let mut opts = f.pki.options();
    opts.trust_anchors.clear();
    let r = verify(&f.signed, &opts);
    assert_eq!(r.indication, Indication::Indeterminate);
    assert_eq!(
        r.sub_indication,
        Some(SubIndication::NoCertificateChainFound)
    );
    assert!(r.signatures[0].integrity.intact());
}

#[test]
fn sequential_visible_and_certified_signatures_pass() {
    let pki = Pki::new();
    let a = pki.identity("Andi", KeyType::P256, None);
    let b = pki.identity("Bambang", KeyType::Rsa2048, None);
    let c = pki.identity("Citra", KeyType::P256, None);
    let one = sign(&pki, &simple_pdf(2), &a, Level::BLT, |o| {
        o.certify = Some(paraf_sign::DocMdp::FormFilling)
    });
    let visible = stamp(2, [60.0, 60.0, 180.0, 60.0]);
    let two = sign(&pki, &one, &b, Level::BLT, |o| o.visible = Some(visible));
    let three = sign(&pki, &two, &c, Level::BLTA, |_| {});
    let r = verify(&three, &pki.options());
    assert_passed(&r);
    assert_eq!(r.document.docmdp, Some(2));
    assert_eq!(r.signatures.len(), 4);
    assert_eq!(
        r.signatures[0].modifications.level,
        ModificationLevel::FormFilling
    );
    assert_eq!(r.signatures[0].docmdp, Some(2));
}

#[test]
fn expired_certificate_passes_only_with_a_timestamp() {
    let pki = Pki::new();
    // Valid 2025-06-01 .. 2026-03-01: expired at validation time (2026-06-01).
    let id = pki.identity(
        "Kadaluarsa",
        KeyType::P256,
        Some((at(1_748_736_000), at(1_772_323_200))),
    );
    let lt = sign(&pki, &simple_pdf(1), &id, Level::BLT, |_| {});
    assert_passed(&verify(&lt, &pki.options()));
    let bb = sign(&pki, &simple_pdf(1), &id, Level::BB, |_| {});
    let live = pki.responder(validation_time());
    let mut opts = pki.options();
    opts.revocation = Some(&live);
    let r = verify(&bb, &opts);
    assert_eq!(r.indication, Indication::Indeterminate, "{}", describe(&r));
    assert_eq!(r.sub_indication, Some(SubIndication::OutOfBoundsNoPoe));
}

#[test]
fn revoked_certificate_is_reported() {
    let pki = Pki::new();
    let id = pki.identity("Dicabut", KeyType::P256, None);
    let pdf = sign(&pki, &simple_pdf(1), &id, Level::BB, |_| {});
    let mut live = pki.responder(validation_time());
    live.revoked.push((
        id.cert.tbs_certificate.serial_number.as_bytes().to_vec(),
        at(1_775_000_000),
    ));
    let mut opts = pki.options();
    opts.revocation = Some(&live);
    let r = verify(&pdf, &opts);
    assert_eq!(r.indication, Indication::Indeterminate, "{}", describe(&r));
    assert_eq!(r.sub_indication, Some(SubIndication::RevokedNoPoe));
    assert_eq!(r.signatures[0].trust.revocation[0].status, "revoked");
}

#[test]
fn page_content_changed_in_a_later_update() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let (page_ref, mut page) = first_page(doc);
        let c = up.alloc();
        up.put(
            c,
            Stream {
                dict: Dict::new(),
                data: b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000.000) Tj ET".to_vec(),
            },
        );
        page.set("Contents", Object::Ref(c));
        up.put(page_ref, page);
    });
    assert_failed(
        &verify(&pdf, &f.pki.options()),
        SubIndication::FormatFailure,
        "page 1: /Contents changed",
    );
}

#[test]
fn content_stream_rewritten_in_place() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let (_, page) = first_page(doc);
        let c = page.get("Contents").unwrap().as_ref().unwrap();
        up.put(
            c,
            Stream {
                dict: Dict::new(),
                data: b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000.000) Tj ET".to_vec(),
            },
        );
    });
    assert_failed(
        &verify(&pdf, &f.pki.options()),
        SubIndication::FormatFailure,
        "content stream) modified",
    );
}

/// A DSS update that names the page's content stream as a DSS container, rewritten: only new
/// objects and the earlier DSS's own may change under a DSS.
#[test]
fn content_rewritten_behind_a_dss_entry() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let (_, page) = first_page(doc);
        let c = page.get("Contents").unwrap().as_ref().unwrap();
        up.put(
            c,
            Stream {
                dict: Dict::new(),
                data: b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000.000) Tj ET".to_vec(),
            },
        );
        let dss = up.alloc();
        up.put(
            dss,
            Dict::new()
                .with("Type", Object::name("DSS"))
                .with("Certs", Object::Ref(c)),
        );
        let cat_ref = doc.catalog_ref().unwrap();
        let mut cat = doc.catalog().unwrap();
        cat.set("DSS", Object::Ref(dss));
        up.put(cat_ref, cat);
    });
    let mut structural = f.pki.options();
    structural.render_compare = false;
    assert_failed(
        &verify(&pdf, &structural),
        SubIndication::FormatFailure,
        "content stream) modified",
    );
}

/// The same through the trailer's /Info (one revision), and through a DSS entry that named the
/// content stream one revision before it was rewritten (two revisions): the DSS and /Info rules
/// never account for an object the document shows.
#[test]
fn content_rewritten_behind_info_or_an_earlier_dss_entry() {
    let f = fixture();
    let rewrite = |doc: &paraf_pdf::Document, up: &mut paraf_pdf::IncrementalUpdate<'_>| {
        let (_, page) = first_page(doc);
        let c = page.get("Contents").unwrap().as_ref().unwrap();
        up.put(
            c,
            Stream {
                dict: Dict::new(),
                data: b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000.000) Tj ET".to_vec(),
            },
        );
        c
    };
    let mut content = None;
    let rewritten = update(&f.signed, |doc, up| content = Some(rewrite(doc, up)));
    // The new trailer's /Info names the rewritten content stream (the writer keeps the old
    // trailer's keys: edited in the bytes; the xref table before it does not move).
    let via_info = {
        let at = rfind(&rewritten, b"trailer").unwrap();
        let open = at + find(&rewritten[at..], b"<<").unwrap() + 2;
        let info = format!("/Info {} 0 R ", content.unwrap().num);
        let mut v = rewritten[..open].to_vec();
        v.extend_from_slice(info.as_bytes());
        v.extend_from_slice(&rewritten[open..]);
        v
    };
    assert!(String::from_utf8_lossy(&via_info[via_info.len() - 300..]).contains("/Info"));
    let named = update(&f.signed, |doc, up| {
        let (_, page) = first_page(doc);
        let c = page.get("Contents").unwrap().as_ref().unwrap();
        let dss = up.alloc();
        up.put(
            dss,
            Dict::new()
                .with("Type", Object::name("DSS"))
                .with("Certs", Object::Ref(c)),
        );
        let cat_ref = doc.catalog_ref().unwrap();
        let mut cat = doc.catalog().unwrap();
        cat.set("DSS", Object::Ref(dss));
        up.put(cat_ref, cat);
    });
    let then_rewritten = update(&named, |doc, up| {
        rewrite(doc, up);
    });
    let mut structural = f.pki.options();
    structural.render_compare = false;
    for (name, pdf) in [("info", via_info), ("earlier dss", then_rewritten)] {
        let r = verify(&pdf, &structural);
        assert!(
            r.signatures[0].indication != Indication::TotalPassed
                && !r.signatures[0].modifications.illegal.is_empty(),
            "{name}: {}",
            describe(&r)
        );
    }
}

/// A decompression bomb (80 MB of zeros in 80 KB) added after signing, then a later signature:
/// the renderer (which inflates without a limit) is kept away and says so; the structural
/// analysis still judges the file.
#[test]
fn a_decompression_bomb_is_not_rendered() {
    let f = fixture();
    let bomb = paraf_pdf::filter::flate_encode(&vec![0u8; 80 << 20]);
    let with_bomb = update(&f.signed, |_, up| {
        let r = up.alloc();
        up.put(
            r,
            Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data: bomb.clone(),
            },
        );
    });
    let id = f.pki.identity("Citra", KeyType::P256, None);
    let pdf = sign(&f.pki, &with_bomb, &id, Level::BT, |_| {});
    let r = verify(&pdf, &f.pki.options());
    let first = &r.signatures[0];
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.contains("inflates beyond 64 MB")),
        "{}",
        describe(&r)
    );
    assert!(first.modifications.visible_changes.is_empty());
}

/// A "document timestamp" added with a visible widget whose appearance paints over the signed
/// text: DSS and document timestamps draw nothing, so the render comparison runs and sees it.
#[test]
fn visible_document_timestamp_painting_over_the_page() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let (page_ref, page) = first_page(doc);
        let ap = up.alloc();
        up.put(ap, form_xobject(500, 792, b"0.2 g 0 0 500 792 re f"));
        let v = up.alloc();
        up.put(
            v,
            Dict::new()
                .with("Type", Object::name("DocTimeStamp"))
                .with("Filter", Object::name("Adobe.PPKLite"))
                .with("SubFilter", Object::name("ETSI.RFC3161"))
                .with(
                    "ByteRange",
                    vec![
                        Object::Int(0),
                        Object::Int(0),
                        Object::Int(0),
                        Object::Int(0),
                    ],
                )
                .with("Contents", PdfString::literal(vec![0u8; 8])),
        );
        let w = up.alloc();
        up.put(
            w,
            Dict::new()
                .with("Type", Object::name("Annot"))
                .with("Subtype", Object::name("Widget"))
                .with("FT", Object::name("Sig"))
                .with("T", PdfString::literal(b"Timestamp1".to_vec()))
                .with("V", Object::Ref(v))
                .with("F", Object::Int(4))
                .with("P", Object::Ref(page_ref))
                .with(
                    "Rect",
                    vec![
                        Object::Int(50),
                        Object::Int(0),
                        Object::Int(550),
                        Object::Int(792),
                    ],
                )
                .with("AP", Dict::new().with("N", Object::Ref(ap))),
        );
        add_annotation(doc, up, page_ref, page, w);
    });
    let r = verify(&pdf, &f.pki.options());
    let first = &r.signatures[0];
    assert!(
        !first.modifications.visible_changes.is_empty(),
        "{}",
        describe(&r)
    );
    assert_ne!(
        first.indication,
        Indication::TotalPassed,
        "{}",
        describe(&r)
    );
}

#[test]
fn font_swapped() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let font_ref = paraf_pdf::ObjRef::new(3, 0);
        let mut font = doc.get_dict(font_ref).unwrap();
        font.set("BaseFont", Object::name("Courier"));
        up.put(font_ref, font);
    });
    assert_failed(
        &verify(&pdf, &f.pki.options()),
        SubIndication::FormatFailure,
        "(font) modified: /BaseFont changed",
    );
}

#[test]
fn free_text_annotation_overlaid() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let (page_ref, page) = first_page(doc);
        let a = up.alloc();
        let annot = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("FreeText"))
            .with(
                "Rect",
                vec![
                    Object::Int(70),
                    Object::Int(690),
                    Object::Int(400),
                    Object::Int(715),
                ],
            )
            .with(
                "Contents",
                PdfString::literal(b"Harga: Rp 99.000.000".to_vec()),
            )
            .with("DA", PdfString::literal(b"/Helv 12 Tf 0 g".to_vec()));
        up.put(a, annot);
        add_annotation(doc, up, page_ref, page, a);
    });
    assert_failed(
        &verify(&pdf, &f.pki.options()),
        SubIndication::FormatFailure,
        "/FreeText annotation",
    );
}

#[test]
fn page_added() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let pages_ref = doc
            .catalog()
            .unwrap()
            .get("Pages")
            .unwrap()
            .as_ref()
            .unwrap();
        let mut pages = doc.get_dict(pages_ref).unwrap();
        let c = up.alloc();
        up.put(
            c,
            Stream {
                dict: Dict::new(),
                data: b"BT /F1 12 Tf 72 700 Td (Lampiran palsu) Tj ET".to_vec(),
            },
        );
        let p = up.alloc();
        up.put(
            p,
            Dict::new()
                .with("Type", Object::name("Page"))
                .with("Parent", Object::Ref(pages_ref))
                .with(
                    "MediaBox",
                    vec![
                        Object::Int(0),
                        Object::Int(0),
                        Object::Int(595),
                        Object::Int(842),
                    ],
                )
                .with("Contents", Object::Ref(c)),
        );
        let mut kids = pages.get("Kids").unwrap().as_array().unwrap().to_vec();
        kids.push(Object::Ref(p));
        pages.set("Kids", kids);
        pages.set("Count", 2i64);
        up.put(pages_ref, pages);
    });
    let r = verify(&pdf, &f.pki.options());
    assert_failed(&r, SubIndication::FormatFailure, "was added");
    assert_eq!(
        r.signatures[0].modifications.level,
        ModificationLevel::Other
    );
}

#[test]
fn reason_edited_in_a_later_update() {
    let f = fixture();
    let pdf = update(&f.signed, |doc, up| {
        let r = sig_ref(doc);
        let mut d = doc.get_dict(r).unwrap();
        d.set("Reason", PdfString::literal(b"Dibatalkan".to_vec()));
        up.put(r, d);
    });
    let rep = verify(&pdf, &f.pki.options());
    assert_failed(
        &rep,
        SubIndication::FormatFailure,
        "(signature dictionary) modified: /Reason changed",
    );
    assert_eq!(rep.signatures[0].reason.as_deref(), Some("Dibatalkan"));
    assert!(
        rep.signatures[0].integrity.intact(),
        "the signed bytes themselves are intact"
    );
}

/// The signature dictionary's text in the signed file: (start of `/ByteRange [`, end of `]`).
fn byte_range_text(pdf: &[u8]) -> (usize, usize) {
    let doc = paraf_pdf::Document::load(pdf.to_vec(), None).unwrap();
    let r = sig_ref(&doc);
    let obj_at = find(pdf, format!("\n{} 0 obj", r.num).as_bytes()).unwrap();
    let s = obj_at + find(&pdf[obj_at..], b"/ByteRange [").unwrap() + b"/ByteRange ".len();
    let e = s + find(&pdf[s..], b"]").unwrap() + 1;
    (s, e)
}

#[test]
fn byte_range_moved() {
    let f = fixture();
    let mut pdf = f.signed.clone();
    let (s, e) = byte_range_text(&pdf);
    let text = String::from_utf8(pdf[s..e].to_vec()).unwrap();
    let nums: Vec<i64> = text
        .trim_matches(['[', ']'])
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let moved = format!("[0 {} {} {}]", nums[1] + 40, nums[2] + 40, nums[3] - 40);
    let moved = format!("{moved:<width$}", width = e - s);
    pdf[s..e].copy_from_slice(moved.as_bytes());
    let r = verify(&pdf, &f.pki.options());
    assert_failed(
        &r,
        SubIndication::FormatFailure,
        "does not exclude exactly this signature's /Contents",
    );
}

#[test]
fn contents_blanked() {
    let f = fixture();
    let mut pdf = f.signed.clone();
    let (_, e) = byte_range_text(&pdf);
    let nums_at = find(&pdf[e..], b"/Contents <").unwrap() + e + b"/Contents <".len();
    let end = nums_at + find(&pdf[nums_at..], b">").unwrap();
    for b in &mut pdf[nums_at..end] {
        *b = b'0';
    }
    assert_failed(
        &verify(&pdf, &f.pki.options()),
        SubIndication::FormatFailure,
        "/Contents is empty",
    );
}

#[test]
fn second_byte_range_signature_wrapping() {
    // Inside the unsigned /Contents gap: the real CMS, then a second /ByteRange and filler,
    // so the dictionary now holds two /ByteRange entries and /Contents ends early.
    let f = fixture();
    let mut pdf = f.signed.clone();
    let (_, e) = byte_range_text(&pdf);
    let a = find(&pdf[e..], b"/Contents <").unwrap() + e + b"/Contents ".len();
    let b = a + find(&pdf[a..], b">").unwrap() + 1;
    let hex = String::from_utf8(pdf[a + 1..b - 1].to_vec()).unwrap();
    let cms_hex = hex.trim_end_matches('0');
    let cms_hex = if cms_hex.len() % 2 == 1 {
        format!("{cms_hex}0")
    } else {
        cms_hex.to_string()
    };
    let inject = format!("<{cms_hex}>/ByteRange [0 1 2 3]/Filler <");
    let mut gap = inject.into_bytes();
    gap.resize(b - a - 1, b'0');
    gap.push(b'>');
    assert_eq!(gap.len(), b - a);
    pdf[a..b].copy_from_slice(&gap);
    let r = verify(&pdf, &f.pki.options());
    assert_failed(&r, SubIndication::FormatFailure, "signature wrapping");
}

#[test]
fn appended_bytes_without_xref_are_flagged() {
    let f = fixture();
    let mut pdf = f.signed.clone();
    pdf.extend_from_slice(
        b"5 0 obj\n<< /Length 10 >>\nstream\nBT ET q Q\nendstream\nendobj\n%%EOF\n",
    );
    let r = verify(&pdf, &f.pki.options());
    assert_ne!(r.indication, Indication::TotalPassed, "{}", describe(&r));
}

#[test]
fn unreferenced_object_switched_in_later() {
    // A "hide" shadow attack: the signed revision already holds an unused content stream;
    // a later update points the page at it.
    let pki = Pki::new();
    let id = pki.identity("Budi", KeyType::P256, None);
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
    ];
    let streams = vec![
        (
            "<< /Length 46 >>".to_string(),
            b"BT /F1 12 Tf 72 700 Td (Harga: Rp 10.000) Tj ET".to_vec(),
        ),
        (
            "<< /Length 46 >>".to_string(),
            b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000) Tj ET".to_vec(),
        ),
    ];
    let base = build_pdf(&objs, &streams);
    let signed = sign(&pki, &base, &id, Level::BLT, |_| {});
    let pdf = update(&signed, |doc, up| {
        let (page_ref, mut page) = first_page(doc);
        page.set("Contents", Object::Ref(paraf_pdf::ObjRef::new(6, 0)));
        up.put(page_ref, page);
    });
    let r = verify(&pdf, &pki.options());
    assert_failed(
        &r,
        SubIndication::FormatFailure,
        "object 6 was in the signed revision but not used by it",
    );
    assert_passed(&verify(&signed, &pki.options()));
}

/// A one-page form: the text "Harga: Rp 10.000" at (72, 700) and a text field "Harga" at
/// `rect` (a PDF array).
fn harga_form(rect: &str) -> Vec<u8> {
    let widget = format!(
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Harga) /Rect {rect} /F 4 /P 4 0 R >>"
    );
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) >> >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [6 0 R] >>",
        "<< /Length 47 >>\nstream\nBT /F1 12 Tf 72 700 Td (Harga: Rp 10.000) Tj ET\nendstream",
        widget.as_str(),
    ];
    build_pdf(&objs, &[])
}

/// Fills the field "Harga" with an opaque appearance: white box, "Harga: Rp 99.000".
fn fill_harga(pdf: &[u8]) -> Vec<u8> {
    update(pdf, |doc, up| {
        let w = paraf_pdf::ObjRef::new(6, 0);
        let mut d = doc.get_dict(w).unwrap();
        let ap = up.alloc();
        up.put(
            ap,
            form_xobject(
                230,
                25,
                b"1 g 0 0 230 25 re f BT /F1 12 Tf 2 8 Td (Harga: Rp 99.000) Tj ET",
            ),
        );
        d.set("V", PdfString::literal(b"Rp 99.000".to_vec()));
        d.set("AP", Dict::new().with("N", Object::Ref(ap)));
        up.put(w, d);
    })
}

/// The render comparison on files made here: honest files with later signatures, fills and
/// archive timestamps are not flagged; each hide-and-replace file is. Counted and printed.
#[test]
fn render_comparison_true_and_false_positives() {
    let pki = Pki::new();
    let a = pki.identity("Andi", KeyType::P256, None);
    let b = pki.identity("Bambang", KeyType::Rsa2048, None);
    let visible_at = |x: f64, y: f64| stamp(1, [x, y, 180.0, 50.0]);
    let certify =
        |o: &mut paraf_sign::SignOptions| o.certify = Some(paraf_sign::DocMdp::FormFilling);
    let first = sign(&pki, &simple_pdf(1), &a, Level::BLT, certify);
    let mut honest: Vec<(&str, Vec<u8>)> = Vec::new();
    // A second, visible signature on blank paper, then a third at B-LTA.
    let two = sign(&pki, &first, &b, Level::BLT, |o| {
        o.visible = Some(visible_at(300.0, 100.0))
    });
    honest.push(("second visible signature", two.clone()));
    honest.push((
        "third signature, B-LTA",
        sign(&pki, &two, &a, Level::BLTA, |_| {}),
    ));
    // A later stamp on top of the signed text (as a stamp centred on its tag does): allowed.
    honest.push((
        "stamp over the text",
        sign(&pki, &first, &b, Level::BLT, |o| {
            o.visible = Some(visible_at(60.0, 680.0))
        }),
    ));
    // A field on blank paper, filled.
    let blank = sign(
        &pki,
        &harga_form("[70 490 300 515]"),
        &a,
        Level::BLT,
        certify,
    );
    honest.push(("field filled on blank paper", fill_harga(&blank)));
    // The archive renewed twice.
    let lta = sign(&pki, &simple_pdf(1), &a, Level::BLTA, |_| {});
    let rev = pki.responder(signing_time());
    let renew = |pdf: &[u8]| {
        let doc = paraf_pdf::Document::load(pdf.to_vec(), None).unwrap();
        paraf_sign::renew_archive(
            &doc,
            paraf_sign::Services {
                timestamper: Some(&pki.tsa),
                revocation: Some(&rev),
            },
            signing_time(),
        )
        .unwrap()
    };
    honest.push(("archive renewed twice", renew(&renew(&lta))));

    let mut attacks: Vec<(&str, Vec<u8>)> = Vec::new();
    let over = sign(
        &pki,
        &harga_form("[70 690 300 715]"),
        &a,
        Level::BLT,
        certify,
    );
    attacks.push(("field filled over the signed text (P=2)", fill_harga(&over)));
    // A value without an appearance: viewers draw "Rp 99.000" over the signed text themselves.
    attacks.push((
        "field given a value without appearance over the signed text (P=2)",
        update(&over, |doc, up| {
            let w = paraf_pdf::ObjRef::new(6, 0);
            let mut d = doc.get_dict(w).unwrap();
            d.set("V", PdfString::literal(b"Rp 99.000".to_vec()));
            up.put(w, d);
        }),
    ));
    attacks.push((
        "signed text rewritten",
        update(&first, |doc, up| {
            let (_, page) = first_page(doc);
            let c = page.get("Contents").unwrap().as_ref().unwrap();
            up.put(
                c,
                Stream {
                    dict: Dict::new(),
                    data: b"BT /F1 12 Tf 72 700 Td (Harga: Rp 99.000.000) Tj ET".to_vec(),
                },
            );
        }),
    ));
    attacks.push((
        "font swapped",
        update(&first, |doc, up| {
            let font_ref = paraf_pdf::ObjRef::new(3, 0);
            let mut font = doc.get_dict(font_ref).unwrap();
            font.set("BaseFont", Object::name("Courier"));
            up.put(font_ref, font);
        }),
    ));

    // An empty signature field (allowed to be added) whose widget paints over the signed text:
    // not a signature, so its widget may only add ink on paper.
    attacks.push((
        "unsigned signature field painting over the text",
        update(&first, |doc, up| {
            let (page_ref, page) = first_page(doc);
            let ap = up.alloc();
            up.put(ap, form_xobject(300, 30, b"1 g 0 0 300 30 re f"));
            let w = up.alloc();
            up.put(
                w,
                Dict::new()
                    .with("Type", Object::name("Annot"))
                    .with("Subtype", Object::name("Widget"))
                    .with("FT", Object::name("Sig"))
                    .with("T", PdfString::literal(b"Kosong".to_vec()))
                    .with("F", Object::Int(4))
                    .with("P", Object::Ref(page_ref))
                    .with(
                        "Rect",
                        vec![
                            Object::Int(60),
                            Object::Int(690),
                            Object::Int(360),
                            Object::Int(720),
                        ],
                    )
                    .with("AP", Dict::new().with("N", Object::Ref(ap))),
            );
            add_annotation(doc, up, page_ref, page, w);
            let cat_ref = doc.catalog_ref().unwrap();
            let mut cat = doc.catalog().unwrap();
            let mut form = doc
                .resolve_key(&cat, "AcroForm")
                .unwrap()
                .as_dict()
                .cloned()
                .unwrap_or_default();
            let mut fields: Vec<Object> = doc
                .resolve_key(&form, "Fields")
                .unwrap()
                .as_array()
                .map(<[Object]>::to_vec)
                .unwrap_or_default();
            fields.push(Object::Ref(w));
            form.set("Fields", fields);
            cat.set("AcroForm", form);
            up.put(cat_ref, cat);
        }),
    ));

    let flagged = |pdf: &[u8]| {
        let r = verify(pdf, &pki.options());
        (
            r.signatures
                .iter()
                .any(|s| !s.modifications.visible_changes.is_empty()),
            r,
        )
    };
    let (mut tp, mut fp, mut wrong) = (0, 0, Vec::new());
    for (name, pdf) in &honest {
        let (seen, r) = flagged(pdf);
        if seen || r.indication != Indication::TotalPassed {
            fp += usize::from(seen);
            wrong.push(format!("honest file flagged: {name}: {}", describe(&r)));
        }
    }
    for (name, pdf) in &attacks {
        let (seen, r) = flagged(pdf);
        tp += usize::from(seen);
        if !seen || r.indication == Indication::TotalPassed {
            wrong.push(format!("not caught: {name}: {}", describe(&r)));
        }
    }
    println!(
        "render comparison on generated files: {tp} of {} attacks caught, {fp} of {} honest files flagged",
        attacks.len(),
        honest.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn form_fill_on_an_uncertified_document_is_flagged() {
    // dss-2236 "replace": a text field filled after signing shows new text over the page.
    let pki = Pki::new();
    let id = pki.identity("Budi", KeyType::P256, None);
    let base = harga_form("[70 690 300 715]");
    let fill = fill_harga;
    let signed = sign(&pki, &base, &id, Level::BLT, |_| {});
    assert_passed(&verify(&signed, &pki.options()));
    let r = verify(&fill(&signed), &pki.options());
    assert_failed(
        &r,
        SubIndication::FormatFailure,
        "not certified, so no form filling was permitted",
    );
    // Certified for form filling (P=2): the fill is an allowed kind of change, but its opaque
    // appearance covers the signed text "Harga: Rp 10.000" with "Rp 99.000" — the render
    // comparison sees what the reader would (dss-2236 "replace").
    let certified = sign(&pki, &base, &id, Level::BLT, |o| {
        o.certify = Some(paraf_sign::DocMdp::FormFilling)
    });
    let r = verify(&fill(&certified), &pki.options());
    assert_eq!(
        r.signatures[0].modifications.level,
        ModificationLevel::FormFilling
    );
    assert_failed(
        &r,
        SubIndication::FormatFailure,
        "the page looks different from the signed revision: page 1",
    );
    let seen = &r.signatures[0].modifications.visible_changes;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let rect = seen[0].rect.unwrap();
    // The signed text sits at x 72, baseline y 700 (142 pt from the top of an 842 pt page).
    assert!(
        rect[0] >= 60.0 && rect[2] <= 310.0 && rect[1] >= 120.0 && rect[3] <= 160.0,
        "{rect:?}"
    );
    // Without the render comparison only the structure is judged: allowed.
    let mut structural = pki.options();
    structural.render_compare = false;
    assert_passed(&verify(&fill(&certified), &structural));

    // The same field placed on blank paper and filled: new ink only, allowed.
    let blank = harga_form("[70 490 300 515]");
    let certified = sign(&pki, &blank, &id, Level::BLT, |o| {
        o.certify = Some(paraf_sign::DocMdp::FormFilling)
    });
    let r = verify(&fill(&certified), &pki.options());
    assert_passed(&r);
    assert!(r.signatures[0].modifications.visible_changes.is_empty());
}

#[test]
fn truncated_and_garbage_input_are_errors_not_reports() {
    let f = fixture();
    let opts = f.pki.options();
    let half = f.signed[..f.signed.len() / 2].to_vec();
    let e = paraf_verify::verify(half, None, &opts).unwrap_err();
    assert_eq!(e.kind, paraf_verify::VerifyErrorKind::Truncated);
    let e = paraf_verify::verify(b"hello, not a pdf".to_vec(), None, &opts).unwrap_err();
    assert_eq!(e.kind, paraf_verify::VerifyErrorKind::Unreadable);
    let r = verify(&simple_pdf(1), &opts);
    assert_eq!(r.indication, Indication::NoSignature);
}

/// A file whose own DSS (added later) says the signer was revoked before it signed: under
/// every policy, `off` included (which fetches and requires nothing, but still reads what the
/// file carries), the signature does not pass.
#[test]
fn revocation_carried_in_the_file_counts_even_when_checking_is_off() {
    let pki = Pki::new();
    let id = pki.identity("Dicabut", KeyType::P256, None);
    let signed = sign(&pki, &simple_pdf(1), &id, Level::BB, |_| {});
    let mut rev = pki.responder(validation_time());
    rev.revoked.push((
        id.cert.tbs_certificate.serial_number.as_bytes().to_vec(),
        at(1_760_000_000),
    ));
    let doc = paraf_pdf::Document::load(signed, None).unwrap();
    let chain = [id.cert.clone(), pki.root.clone()];
    let pdf = paraf_sign::pades::add_dss(&doc, &chain, &rev).unwrap();
    for policy in [
        paraf_verify::RevocationPolicy::Soft,
        paraf_verify::RevocationPolicy::Hard,
        paraf_verify::RevocationPolicy::Off,
    ] {
        let mut opts = pki.options();
        opts.revocation_policy = policy;
        let r = verify(&pdf, &opts);
        assert_ne!(
            r.indication,
            Indication::TotalPassed,
            "{policy:?}: {}",
            describe(&r)
        );
        assert_eq!(
            r.signatures[0].trust.revocation[0].status,
            "revoked",
            "{policy:?}: {}",
            describe(&r)
        );
    }
}
