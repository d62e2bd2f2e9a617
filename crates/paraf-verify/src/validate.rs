//! The validation procedure: find the signatures, check each one's bytes and CMS, analyse what
//! changed after it, validate document timestamps (newest first, each proving the time of what
//! it covers), then signature timestamps and chains, and conclude per ETSI EN 319 102-1.

use std::time::SystemTime;

use der::Decode;
use paraf_pdf::{Dict, Document, Object};
use x509_cert::Certificate;

use crate::certinfo;
use crate::cms_check::{self, CmsCheck, Content};
use crate::crypto::{self, Digest};
use crate::diff::{self, FieldLock, ViewCache};
use crate::render;
use crate::report::*;
use crate::revision::{ends_at_eof, Revisions};
use crate::sigdict::{self, FoundSig};
use crate::time::{parse_pdf_date, rfc3339};
use crate::trust::{self, Evidence, Purpose, TrustEnv};
use crate::VerifyOptions;

/// One signature while it is being validated.
struct Sig {
    found: FoundSig,
    kind: SignatureKind,
    /// Where the signed revision ends (`b + c`), when the byte range is well formed.
    end: Option<usize>,
    gap: Option<(usize, usize)>,
    ranges: Vec<(usize, usize)>,
    blob: Vec<u8>,
    cms: Option<CmsCheck>,
    report: SignatureReport,
    docmdp: Option<u8>,
    lock: FieldLock,
    /// genTime of a valid, trusted time-stamp (the signature's own, or the document timestamp's token).
    poe: Option<SystemTime>,
}

fn text(dict: &Dict, key: &str) -> Option<String> {
    dict.get(key)
        .and_then(Object::as_string)
        .map(paraf_pdf::object::decode_text)
}

fn name(dict: &Dict, key: &str) -> Option<String> {
    dict.name(key)
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn transform_params(doc: &Document, dict: &Dict) -> (Option<u8>, FieldLock) {
    let mut docmdp = None;
    let mut lock = FieldLock::None;
    let refs = doc.resolve_key(dict, "Reference").unwrap_or(Object::Null);
    for r in refs.as_array().unwrap_or(&[]) {
        let Ok(Object::Dict(sr)) = doc.resolve(r) else {
            continue;
        };
        let params = match doc.resolve_key(&sr, "TransformParams") {
            Ok(Object::Dict(d)) => d,
            _ => Dict::new(),
        };
        match sr.name("TransformMethod") {
            Some(b"DocMDP") => {
                let p = params.int("P").unwrap_or(2).clamp(1, 3);
                docmdp = u8::try_from(p).ok();
            }
            Some(b"FieldMDP") => {
                let names = |key: &str| -> Vec<String> {
                    params
                        .get(key)
                        .and_then(Object::as_array)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(Object::as_string)
                        .map(paraf_pdf::object::decode_text)
                        .collect()
                };
                lock = match params.name("Action") {
                    Some(b"All") => FieldLock::All,
                    Some(b"Include") => FieldLock::Include(names("Fields")),
                    Some(b"Exclude") => FieldLock::Exclude(names("Fields")),
                    _ => FieldLock::None,
                };
            }
            _ => {}
        }
    }
    (docmdp, lock)
}

fn empty_report(index: usize, kind: SignatureKind, found: &FoundSig) -> SignatureReport {
    let d = &found.dict;
    SignatureReport {
        index,
        kind,
        field_name: found.field_name.clone(),
        object: found.sig_ref.map(|r| r.num),
        sub_filter: name(d, "SubFilter"),
        level: None,
        signature_format: None,
        indication: Indication::TotalPassed,
        sub_indication: None,
        problems: Vec::new(),
        warnings: Vec::new(),
        name: text(d, "Name"),
        reason: text(d, "Reason"),
        location: text(d, "Location"),
        contact_info: text(d, "ContactInfo"),
        claimed_signing_time: text(d, "M").and_then(|m| parse_pdf_date(&m)).map(rfc3339),
        docmdp: None,
        revision: None,
        covers_whole_file: false,
        byte_range: None,
        signer: None,
        timestamp: None,
        integrity: IntegrityReport::default(),
        modifications: ModificationReport::default(),
        trust: TrustReport::default(),
    }
}

fn problem(r: &mut SignatureReport, sub: SubIndication, msg: impl Into<String>) {
    r.problems.push(Problem::new(sub, msg));
}

/// Checks the byte range against the signature dictionary as it stands in its revision.
fn byte_range(doc: &Document, views: &ViewCache<'_>, sig: &mut Sig) {
    let data = doc.data();
    let len = data.len();
    let r = &mut sig.report;
    let br: Option<Vec<i64>> = sig
        .found
        .dict
        .get("ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().map(|x| x.as_int().unwrap_or(-1)).collect());
    r.byte_range.clone_from(&br);
    let Some(br) = br else {
        problem(
            r,
            SubIndication::FormatFailure,
            "the signature has no /ByteRange",
        );
        return;
    };
    let parts: Option<Vec<usize>> = br.iter().map(|&x| usize::try_from(x).ok()).collect();
    let (Some([s, a, b, c]), 4) = (
        parts
            .as_deref()
            .and_then(|p| <[usize; 4]>::try_from(p).ok()),
        br.len(),
    ) else {
        problem(
            r,
            SubIndication::FormatFailure,
            format!("/ByteRange {br:?} is not four non-negative integers"),
        );
        return;
    };
    let mut ok = true;
    if s != 0 {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            format!("/ByteRange starts at {s}, not at the beginning of the file"),
        );
    }
    let Some(end) = b.checked_add(c) else {
        problem(r, SubIndication::FormatFailure, "/ByteRange overflows");
        return;
    };
    if a == 0 || b <= a {
        problem(
            r,
            SubIndication::FormatFailure,
            format!("/ByteRange {br:?} does not leave a gap for /Contents"),
        );
        return;
    }
    if end > len {
        problem(
            r,
            SubIndication::FormatFailure,
            format!(
                "/ByteRange covers bytes up to {end}, beyond the end of the file ({len} bytes)"
            ),
        );
        return;
    }
    sig.end = Some(end);
    sig.gap = Some((a, b));
    sig.ranges = vec![(s, a), (b, c)];
    r.covers_whole_file = end == len;
    if !ends_at_eof(data, end) {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            format!("the signed bytes end at {end}, which is not the end of a revision (%%EOF)"),
        );
    }
    // The dictionary where the revision it signs says it is.
    let Some(sig_ref) = sig.found.sig_ref else {
        problem(
            r,
            SubIndication::FormatFailure,
            "the signature value is not an indirect object and cannot be located in the file",
        );
        return;
    };
    let view = views.get(end);
    let offset = match view.entries.get(&sig_ref.num) {
        Some(paraf_pdf::xref::XrefEntry::InFile { offset, .. }) => Some(*offset),
        Some(paraf_pdf::xref::XrefEntry::InStream { .. }) => {
            problem(
                r,
                SubIndication::FormatFailure,
                "the signature dictionary is inside a compressed object stream",
            );
            return;
        }
        _ if doc.xref().recovered => match doc.xref().entries.get(&sig_ref.num) {
            Some(paraf_pdf::xref::XrefEntry::InFile { offset, .. }) => Some(*offset),
            _ => None,
        },
        _ => None,
    };
    let Some(offset) = offset.filter(|&o| o < end) else {
        problem(
            r,
            SubIndication::FormatFailure,
            format!("the signature dictionary (object {}) is not part of the revision its byte range covers", sig_ref.num),
        );
        return;
    };
    let raw = match sigdict::parse_at(data, offset, sig_ref.num) {
        Ok(raw) => raw,
        Err(e) => {
            problem(r, SubIndication::FormatFailure, e);
            return;
        }
    };
    if !raw.duplicate_keys.is_empty() {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            format!(
                "the signature dictionary has duplicate keys ({}): signature wrapping",
                raw.duplicate_keys
                    .iter()
                    .map(|k| format!("/{k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if raw.byte_range.as_ref() != Some(&br) {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            format!("the /ByteRange in the signed revision ({:?}) differs from the current one ({br:?})", raw.byte_range.unwrap_or_default()),
        );
    }
    match raw.contents_span {
        Some((cs, ce)) if cs == a && ce == b => {}
        Some((cs, ce)) => {
            ok = false;
            problem(
                r,
                SubIndication::FormatFailure,
                format!("/ByteRange [0 {a} {b} {c}] does not exclude exactly this signature's /Contents (bytes {cs}..{ce})"),
            );
        }
        None => {
            ok = false;
            problem(
                r,
                SubIndication::FormatFailure,
                "the signature dictionary has no /Contents string",
            );
        }
    }
    if !raw.contents_is_hex && raw.contents_span.is_some() {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            "/Contents is not a hexadecimal string",
        );
    }
    if raw.contents.iter().all(|&x| x == 0) {
        ok = false;
        problem(
            r,
            SubIndication::FormatFailure,
            "/Contents is empty (all zeros): there is no signature value",
        );
    }
    sig.blob = raw.contents;
    r.integrity.byte_range_ok = ok;
}

/// Overlapping byte ranges: each signature's /Contents must lie in its own revision.
fn overlaps(sigs: &mut [Sig]) {
    type Span = (usize, usize, Option<usize>, Option<(usize, usize)>);
    let spans: Vec<Span> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.report.index, s.end, s.gap))
        .collect();
    for &(i, ii, end_i, _) in &spans {
        for &(j, jj, end_j, gap_j) in &spans {
            let (Some(ei), Some(ej), Some((aj, bj))) = (end_i, end_j, gap_j) else {
                continue;
            };
            if i == j {
                continue;
            }
            let bad = if ei == ej {
                true
            } else {
                // j is the later signature: its /Contents must lie after i's signed bytes.
                ei < ej && aj < ei && bj > 0
            };
            if bad {
                for k in [i, j] {
                    if let Some(s) = sigs.get_mut(k) {
                        s.report.integrity.byte_range_ok = false;
                        let msg = format!(
                            "the byte ranges of signatures {} and {} overlap",
                            ii.min(jj),
                            ii.max(jj)
                        );
                        if !s.report.problems.iter().any(|p| p.message == msg) {
                            problem(&mut s.report, SubIndication::FormatFailure, msg);
                        }
                    }
                }
            }
        }
    }
}

fn cms(doc: &Document, sig: &mut Sig, extra: &[Certificate]) {
    if sig.blob.iter().all(|&b| b == 0) || sig.ranges.is_empty() {
        return;
    }
    let content = match sig.kind {
        SignatureKind::Signature => Content::Detached {
            data: doc.data(),
            ranges: &sig.ranges,
        },
        SignatureKind::DocumentTimestamp => Content::Encapsulated,
    };
    let c = cms_check::check(&sig.blob, content, extra);
    let r = &mut sig.report;
    r.integrity.digest_algorithm.clone_from(&c.digest_name);
    r.integrity.signature_algorithm.clone_from(&c.scheme);
    r.integrity.signature_ok = c.signature_ok;
    r.integrity.signed_attributes_ok = c.attrs_ok;
    r.integrity.digest_ok = c.digest_ok;
    r.problems.extend(c.problems.iter().cloned());
    r.warnings.extend(c.warnings.iter().cloned());
    if r.claimed_signing_time.is_none() {
        r.claimed_signing_time = c.signing_time.map(rfc3339);
    }
    r.signer = c.signer_cert.as_ref().map(certinfo::info);
    if sig.kind == SignatureKind::Signature
        && r.sub_filter.as_deref() == Some("ETSI.CAdES.detached")
        && c.signing_time.is_some()
    {
        r.warnings.push(
            "a PAdES (ETSI.CAdES.detached) signature should not carry a signing-time attribute"
                .into(),
        );
    }
    sig.cms = Some(c);
}

/// A time-stamp token checked against what it should cover, and its TSA trusted.
struct TokenOutcome {
    report: TimestampReport,
    gen_time: Option<SystemTime>,
    valid: bool,
    imprint_ok: bool,
    chain_problems: Vec<Problem>,
    chain_warnings: Vec<String>,
}

fn check_token(
    token: &[u8],
    cms_done: Option<&CmsCheck>,
    imprint_of: &dyn Fn(Digest) -> Option<Vec<u8>>,
    env: &TrustEnv<'_>,
    validity_at: SystemTime,
) -> TokenOutcome {
    let owned;
    let c = match cms_done {
        Some(c) => c,
        None => {
            owned = cms_check::check(token, Content::Encapsulated, &env.evidence.certs);
            &owned
        }
    };
    let mut problems: Vec<String> = c.problems.iter().map(|p| p.message.clone()).collect();
    let mut gen_time = None;
    let mut imprint_ok = false;
    match &c.econtent {
        Some((oid, bytes)) if *oid == paraf_pki::oids::ID_CT_TST_INFO => {
            match x509_tsp::TstInfo::from_der(bytes) {
                Ok(tst) => {
                    gen_time = Some(tst.gen_time.to_system_time());
                    match Digest::from_oid(&tst.message_imprint.hash_algorithm.oid) {
                    Some(d) => match imprint_of(d) {
                        Some(expected) if expected == tst.message_imprint.hashed_message.as_bytes() => imprint_ok = true,
                        Some(_) => problems.push("the time-stamp's message imprint does not match what it should cover".into()),
                        None => problems.push("the time-stamped bytes cannot be read".into()),
                    },
                    None => problems.push(format!(
                        "the time-stamp imprint uses an unsupported digest ({})",
                        tst.message_imprint.hash_algorithm.oid
                    )),
                }
                }
                Err(e) => problems.push(format!("TSTInfo: {e}")),
            }
        }
        _ => problems.push("the token does not encapsulate a TSTInfo".into()),
    }
    let intact = c.signature_ok && c.digest_ok && c.attrs_ok && imprint_ok;
    let mut report = TimestampReport {
        time: gen_time.map(rfc3339).unwrap_or_default(),
        tsa: c.signer_cert.as_ref().map(certinfo::info),
        intact,
        trusted: false,
        chain: Vec::new(),
        revocation: Vec::new(),
        problems: Vec::new(),
    };
    let mut chain_problems = Vec::new();
    let mut chain_warnings = Vec::new();
    if let (Some(cert), Some(gt)) = (&c.signer_cert, gen_time) {
        let chain = trust::validate(env, cert, Purpose::Timestamping, validity_at, gt, false);
        report.trusted = chain.trusted && chain.problems.is_empty();
        report.chain = chain.chain.iter().map(certinfo::info).collect();
        report.revocation = chain.revocation;
        problems.extend(chain.problems.iter().map(|p| p.message.clone()));
        chain_problems = chain.problems;
        chain_warnings = chain.warnings;
    }
    report.problems = problems;
    TokenOutcome {
        valid: intact && report.trusted,
        report,
        gen_time,
        imprint_ok,
        chain_problems,
        chain_warnings,
    }
}

/// Reads the DSS of the final revision into `ev`.
fn dss_evidence(doc: &Document, ev: &mut Evidence) -> bool {
    let Ok(cat) = doc.catalog() else { return false };
    let Ok(Object::Dict(dss)) = doc.resolve_key(&cat, "DSS") else {
        return false;
    };
    for key in ["Certs", "OCSPs", "CRLs"] {
        let Ok(arr) = doc.resolve_key(&dss, key) else {
            continue;
        };
        for item in arr.as_array().unwrap_or(&[]).iter().take(10_000) {
            let Ok(Object::Stream(s)) = doc.resolve(item) else {
                continue;
            };
            let Ok(bytes) = doc.decode_stream(&s) else {
                continue;
            };
            match key {
                "Certs" => {
                    if let Ok(c) = Certificate::from_der(&bytes) {
                        ev.add_cert(&c);
                    }
                }
                "OCSPs" => ev.add_ocsp(bytes, "dss"),
                _ => ev.add_crl(bytes, "dss"),
            }
        }
    }
    true
}

fn conclude(r: &mut SignatureReport) {
    let failed = r
        .problems
        .iter()
        .find(|p| p.indication == Indication::TotalFailed);
    let indeterminate = r
        .problems
        .iter()
        .find(|p| p.indication == Indication::Indeterminate);
    let (ind, sub) = match (failed, indeterminate) {
        (Some(p), _) => (Indication::TotalFailed, Some(p.sub_indication)),
        (None, Some(p)) => (Indication::Indeterminate, Some(p.sub_indication)),
        (None, None) => (Indication::TotalPassed, None),
    };
    r.indication = ind;
    r.sub_indication = sub;
}

pub(crate) fn run(doc: &Document, opts: &VerifyOptions<'_>) -> ValidationReport {
    let data = doc.data();
    let now = opts.validation_time;
    let revisions = Revisions::of(doc);
    let views = ViewCache::new(doc);
    let mut findings = Vec::new();
    if doc.xref().recovered {
        findings.push(
            "the cross-reference data is damaged and was rebuilt by scanning the file".to_string(),
        );
    }

    // 1. Find and order the signatures.
    let mut sigs: Vec<Sig> = sigdict::find_signatures(doc)
        .into_iter()
        .map(|found| {
            let is_ts = found.dict.name("Type") == Some(b"DocTimeStamp")
                || found.dict.name("SubFilter") == Some(b"ETSI.RFC3161");
            let kind = if is_ts {
                SignatureKind::DocumentTimestamp
            } else {
                SignatureKind::Signature
            };
            let (docmdp, lock) = transform_params(doc, &found.dict);
            let report = empty_report(0, kind, &found);
            Sig {
                found,
                kind,
                end: None,
                gap: None,
                ranges: Vec::new(),
                blob: Vec::new(),
                cms: None,
                report,
                docmdp,
                lock,
                poe: None,
            }
        })
        .collect();
    sigs.sort_by_key(|s| {
        s.found
            .dict
            .get("ByteRange")
            .and_then(Object::as_array)
            .and_then(|a| Some(a.get(2)?.as_int()?.saturating_add(a.get(3)?.as_int()?)))
            .unwrap_or(i64::MAX)
    });
    for (i, s) in sigs.iter_mut().enumerate() {
        s.report.index = i + 1;
        if !s.found.other_fields.is_empty() {
            s.report.warnings.push(format!(
                "the same signature value is also referenced by the field(s) {}",
                s.found.other_fields.join(", ")
            ));
        }
    }

    // 2. Bytes and CMS.
    let mut evidence = Evidence::default();
    let has_dss = dss_evidence(doc, &mut evidence);
    for s in &mut sigs {
        byte_range(doc, &views, s);
        s.report.revision = s.end.and_then(|e| revisions.number_ending_at(e));
        cms(doc, s, &evidence.certs.clone());
    }
    overlaps(&mut sigs);
    for s in &sigs {
        if let Some(c) = &s.cms {
            for cert in &c.certs {
                evidence.add_cert(cert);
            }
            for o in &c.ocsps {
                evidence.add_ocsp(o.clone(), "cms");
            }
            for crl in &c.crls {
                evidence.add_crl(crl.clone(), "cms");
            }
        }
    }
    // Certificates inside signature time-stamp tokens.
    for s in &sigs {
        if let Some(tok) = s.cms.as_ref().and_then(|c| c.timestamp_token.as_ref()) {
            if let Ok(sd) = paraf_pki::cms::parse_signed_data(tok) {
                for c in sd.certificates.iter().flat_map(|cs| cs.0.iter()) {
                    if let cms::cert::CertificateChoices::Certificate(c) = c {
                        evidence.add_cert(c);
                    }
                }
            }
        }
    }

    // 3. Certification and modifications.
    let cert_sig = sigs
        .iter()
        .find(|s| s.docmdp.is_some())
        .map(|s| (s.end, s.docmdp));
    let doc_docmdp = cert_sig.and_then(|(_, p)| p);
    if let Some(first) = sigs.iter().find(|s| s.kind == SignatureKind::Signature) {
        if let Some(p) = first.docmdp {
            if let Ok(cat) = doc.catalog() {
                let perms_ok = doc.resolve_key(&cat, "Perms").ok().and_then(|p| {
                    p.as_dict()
                        .and_then(|d| d.get("DocMDP").and_then(Object::as_ref))
                }) == first.found.sig_ref;
                if !perms_ok {
                    findings.push(format!(
                        "signature 1 claims to certify the document (DocMDP P={p}) but the catalog's /Perms does not point to it"
                    ));
                }
            }
        }
    }
    for s in &mut sigs {
        s.report.docmdp = s.docmdp;
        let Some(end) = s.end else { continue };
        let docmdp = match cert_sig {
            Some((Some(ce), p)) if ce <= end => p,
            _ => None,
        };
        let input = diff::Input {
            doc,
            views: &views,
            revisions: &revisions,
            signed_end: end,
            docmdp,
            lock: s.lock.clone(),
        };
        let m = diff::analyse(&input);
        for c in &m.illegal {
            problem(
                &mut s.report,
                SubIndication::FormatFailure,
                format!(
                    "modified after signing (revision {}{}): {}",
                    c.revision,
                    c.object
                        .map(|o| format!(", object {o}"))
                        .unwrap_or_default(),
                    c.what
                ),
            );
        }
        s.report.modifications = m;
    }
    if opts.render_compare {
        compare_renderings(doc, &views, &mut sigs);
    }

    let env = TrustEnv {
        anchors: &opts.trust_anchors,
        evidence: &evidence,
        live: opts.revocation,
        validation_time: now,
        policy: opts.revocation_policy,
    };

    // 4. Document timestamps, newest first: each is judged at the time of the next one.
    let mut next_poe: Option<SystemTime> = None;
    let mut doc_ts: Vec<(usize, SystemTime)> = Vec::new(); // (end, genTime) of valid ones
    for s in sigs.iter_mut().rev() {
        if s.kind != SignatureKind::DocumentTimestamp {
            continue;
        }
        let Some(c) = s.cms.as_ref() else { continue };
        let validity_at = next_poe.unwrap_or(now);
        let ranges = s.ranges.clone();
        let imprint_of = |d: Digest| crypto::digest_ranges(d, data, &ranges);
        let t = check_token(&s.blob, Some(c), &imprint_of, &env, validity_at);
        let r = &mut s.report;
        r.integrity.digest_ok = r.integrity.digest_ok && t.imprint_ok;
        if !t.imprint_ok && c.decoded {
            problem(r, SubIndication::HashFailure, "the document timestamp's imprint does not match the timestamped bytes: the document was changed");
        }
        r.trust.chain = t.report.chain.clone();
        r.trust.trusted = t.report.trusted;
        r.trust.revocation = t.report.revocation.clone();
        r.trust.validated_at = Some(rfc3339(validity_at));
        r.trust.time_from_timestamp = next_poe.is_some();
        r.problems.extend(t.chain_problems.iter().cloned());
        r.warnings.extend(t.chain_warnings.iter().cloned());
        r.claimed_signing_time = t.gen_time.map(rfc3339);
        r.timestamp = Some(t.report);
        if t.valid && r.problems.is_empty() {
            if let (Some(gt), Some(end)) = (t.gen_time, s.end) {
                next_poe = Some(gt);
                doc_ts.push((end, gt));
                s.poe = Some(gt);
            }
        }
    }

    // 5. Signatures: their own time-stamp, then the chain at the best proven time.
    for s in &mut sigs {
        if s.kind != SignatureKind::Signature {
            continue;
        }
        let Some(end) = s.end else { continue };
        let covering: Option<SystemTime> = doc_ts
            .iter()
            .filter(|(e, _)| *e > end)
            .map(|(_, t)| *t)
            .min();
        let mut poe = None;
        let mut level = "B-B";
        if let Some(c) = s.cms.as_ref() {
            if let Some(tok) = &c.timestamp_token {
                let sigval = c.signature_value.clone();
                let imprint_of = move |d: Digest| Some(d.digest(&sigval));
                let t = check_token(tok, None, &imprint_of, &env, covering.unwrap_or(now));
                if t.report.intact {
                    level = "B-T";
                }
                s.report.warnings.extend(t.chain_warnings.iter().cloned());
                if t.valid {
                    poe = t.gen_time;
                } else {
                    s.report.warnings.push(format!(
                        "the signature time-stamp is not usable as proof of time: {}",
                        t.report.problems.join("; ")
                    ));
                }
                if let (Some(gt), Some(claimed)) =
                    (t.gen_time, s.report.claimed_signing_time.as_deref())
                {
                    if let Some(m) = s
                        .found
                        .dict
                        .get("M")
                        .and_then(Object::as_string)
                        .map(paraf_pdf::object::decode_text)
                        .and_then(|m| parse_pdf_date(&m))
                    {
                        if m > gt + std::time::Duration::from_secs(600) {
                            s.report.warnings.push(format!("the claimed signing time {claimed} is later than the time-stamp {}", rfc3339(gt)));
                        }
                    }
                }
                s.report.timestamp = Some(t.report);
            }
            let poe_time = poe.or(covering);
            s.poe = poe_time;
            if let Some(cert) = &c.signer_cert {
                let at = poe_time.unwrap_or(now);
                let chain =
                    trust::validate(&env, cert, Purpose::Signing, at, at, poe_time.is_some());
                s.report.trust = TrustReport {
                    chain: chain.chain.iter().map(certinfo::info).collect(),
                    trusted: chain.trusted,
                    validated_at: Some(rfc3339(at)),
                    time_from_timestamp: poe_time.is_some(),
                    revocation: chain.revocation,
                };
                s.report.problems.extend(chain.problems);
                s.report.warnings.extend(chain.warnings);
            }
        }
        // Long-term levels: a DSS added after the signature, then a document timestamp over it.
        let dss_rev = s
            .report
            .modifications
            .allowed
            .iter()
            .find(|c| c.what.starts_with("document security store"))
            .map(|c| c.revision);
        if level == "B-T" && has_dss {
            if let Some(dr) = dss_rev {
                level = "B-LT";
                let lta = sigs_ts_after(&doc_ts, &revisions, dr);
                if lta {
                    level = "B-LTA";
                }
            }
        }
        s.report.level = Some(level.to_string());
        s.report.signature_format = Some(format!("PKCS7-{}", level.trim_start_matches("B-")));
    }

    // 6. Conclusions.
    for s in &mut sigs {
        conclude(&mut s.report);
    }
    let signatures: Vec<SignatureReport> = sigs.into_iter().map(|s| s.report).collect();
    let worst = signatures.iter().max_by_key(|s| match s.indication {
        Indication::TotalFailed => 3,
        Indication::Indeterminate => 2,
        _ => 1,
    });
    let (indication, sub_indication) = match worst {
        None => (Indication::NoSignature, None),
        Some(s) => (s.indication, s.sub_indication),
    };
    let pages = doc.pages().ok().map(|p| p.len());
    ValidationReport {
        indication,
        sub_indication,
        validation_time: rfc3339(now),
        document: DocumentInfo {
            size: data.len(),
            sha256: opts
                .file_digest
                .then(|| hex::encode(Digest::Sha256.digest(data))),
            revisions: revisions.list.len().max(1),
            pages,
            encrypted: doc.security().is_some(),
            xref_recovered: doc.xref().recovered,
            docmdp: doc_docmdp,
        },
        signatures,
        findings,
    }
}

/// 3b. What each signed revision shows against the final file, for the signatures after
/// which more than DSS and document timestamps changed, or a document timestamp with a
/// visible widget was added (see `render.rs`).
fn compare_renderings(doc: &Document, views: &ViewCache<'_>, sigs: &mut [Sig]) {
    let data = doc.data();
    let mut fin: Option<Option<(Vec<render::PageImage>, usize)>> = None;
    let mut refused: Option<Option<String>> = None;
    // The intact approval signatures, by where they end: their widgets may show anything.
    let intact: Vec<(usize, u32)> = sigs
        .iter()
        .filter(|s| s.kind == SignatureKind::Signature && s.report.integrity.intact())
        .filter_map(|s| Some((s.end?, s.found.sig_ref?.num)))
        .collect();
    for s in sigs.iter_mut() {
        let Some(end) = s.end.filter(|e| *e < data.len()) else {
            continue;
        };
        let later: std::collections::HashSet<u32> = intact
            .iter()
            .filter(|(e, _)| *e > end)
            .map(|(_, n)| *n)
            .collect();
        let level = s.report.modifications.level;
        if level < ModificationLevel::LtaUpdates {
            continue;
        }
        let regions = render::changed_annotations(&views.get(end), &views.get(data.len()), &later);
        // DSS and document timestamps draw nothing, unless a timestamp's widget has an area.
        if level == ModificationLevel::LtaUpdates && !regions.iter().flatten().any(|r| r.visible())
        {
            continue;
        }
        if let Some(why) = refused.get_or_insert_with(|| render::refusal(doc)) {
            s.report.warnings.push(format!(
                "what the signed revision shows was not compared with the final file: {why}"
            ));
            continue;
        }
        let Some(fin) = fin.get_or_insert_with(|| render::render(data.to_vec(), doc.password()))
        else {
            s.report.warnings.push(
                "the final file could not be rendered: what it shows was not compared with the signed revision".into(),
            );
            continue;
        };
        let Some(signed) = render::render(data[..end].to_vec(), doc.password()) else {
            s.report.warnings.push(
                "the signed revision could not be rendered: what it shows was not compared".into(),
            );
            continue;
        };
        if signed.1 > render::MAX_PAGES {
            s.report.warnings.push(format!(
                "only the first {} pages were compared as rendered",
                render::MAX_PAGES
            ));
        }
        let found = render::compare(&signed, fin, &regions);
        for c in &found.changes {
            let at = c
                .rect
                .map(|r| {
                    format!(
                        " around ({:.0}, {:.0})–({:.0}, {:.0}) pt from the top-left",
                        r[0], r[1], r[2], r[3]
                    )
                })
                .unwrap_or_default();
            problem(
                &mut s.report,
                SubIndication::FormatFailure,
                format!(
                    "the page looks different from the signed revision: page {}{at}: {}",
                    c.page, c.what
                ),
            );
        }
        for p in &found.covered_pages {
            s.report.warnings.push(format!(
                "page {p}: a later signature's appearance covers content the signed revision showed"
            ));
        }
        s.report.modifications.visible_changes = found.changes;
    }
}

/// Whether a valid document timestamp was applied in a revision after `rev`.
fn sigs_ts_after(doc_ts: &[(usize, SystemTime)], revisions: &Revisions, rev: usize) -> bool {
    doc_ts
        .iter()
        .any(|(end, _)| revisions.number_ending_at(*end).is_some_and(|n| n > rev))
}
