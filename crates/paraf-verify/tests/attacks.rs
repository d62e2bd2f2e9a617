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
    let visible = paraf_sign::Visible {
        placement: paraf_sign::Placement::Rect {
            page: 2,
            x: 60.0,
            y: 60.0,
            width: 180.0,
            height: 60.0,
        },
        spec: paraf_sign::appearance::AppearanceSpec {
            width: 0.0,
            height: 0.0,
            image: None,
            qr_url: None,
            lines: vec!["Disetujui".into()],
            border: true,
            rotate: 0,
        },
    };
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
        let (page_ref, mut page) = first_page(doc);
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
        let mut annots: Vec<Object> = doc
            .resolve_key(&page, "Annots")
            .unwrap()
            .as_array()
            .map(<[Object]>::to_vec)
            .unwrap_or_default();
        annots.push(Object::Ref(a));
        page.set("Annots", annots);
        up.put(page_ref, page);
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

#[test]
fn form_fill_on_an_uncertified_document_is_flagged() {
    // dss-2236 "replace": a text field filled after signing shows new text over the page.
    let pki = Pki::new();
    let id = pki.identity("Budi", KeyType::P256, None);
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) >> >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [6 0 R] >>",
        "<< /Length 47 >>\nstream\nBT /F1 12 Tf 72 700 Td (Harga: Rp 10.000) Tj ET\nendstream",
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Harga) /Rect [70 690 300 715] /F 4 /P 4 0 R >>",
    ];
    let base = build_pdf(&objs, &[]);
    let fill = |pdf: &[u8]| {
        update(pdf, |doc, up| {
            let w = paraf_pdf::ObjRef::new(6, 0);
            let mut d = doc.get_dict(w).unwrap();
            let ap = up.alloc();
            up.put(
                ap,
                Stream {
                    dict: Dict::new()
                        .with("Type", Object::name("XObject"))
                        .with("Subtype", Object::name("Form"))
                        .with(
                            "BBox",
                            vec![
                                Object::Int(0),
                                Object::Int(0),
                                Object::Int(230),
                                Object::Int(25),
                            ],
                        ),
                    data: b"1 g 0 0 230 25 re f BT /F1 12 Tf 2 8 Td (Harga: Rp 99.000) Tj ET"
                        .to_vec(),
                },
            );
            d.set("V", PdfString::literal(b"Rp 99.000".to_vec()));
            d.set("AP", Dict::new().with("N", Object::Ref(ap)));
            up.put(w, d);
        })
    };
    let signed = sign(&pki, &base, &id, Level::BLT, |_| {});
    assert_passed(&verify(&signed, &pki.options()));
    let r = verify(&fill(&signed), &pki.options());
    assert_failed(
        &r,
        SubIndication::FormatFailure,
        "not certified, so no form filling was permitted",
    );
    // Certified for form filling (P=2): the same fill is allowed.
    let certified = sign(&pki, &base, &id, Level::BLT, |o| {
        o.certify = Some(paraf_sign::DocMdp::FormFilling)
    });
    let r = verify(&fill(&certified), &pki.options());
    assert_passed(&r);
    assert_eq!(
        r.signatures[0].modifications.level,
        ModificationLevel::FormFilling
    );
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
