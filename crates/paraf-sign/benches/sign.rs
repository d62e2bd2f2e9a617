//! Signing benchmark (`cargo bench -p paraf-sign --bench sign`): `Document::load` + PAdES B-B
//! invisible `sign` of a 1-page, a 100-page and a ~20 MB PDF with RSA-2048 and P-256 keys (and
//! the same with `sign_owned`, key `KEY:owned`), and SHA-256 of the 20 MB file alone as the hash
//! bound.
//!
//! The generated PDFs, the identities (PEM key, certificate and chain, and a PKCS#12 file for the
//! `paraf` CLI) and the results (`paraf.tsv`) go to `$PARAF_BENCH_DIR` (a temporary directory when
//! unset), so `benches/pyhanko_sign.py` and `scripts/bench.sh` work on the same files.
//!
//! A plain `main` (no harness): each case runs for about 1.5 s (at least 10 iterations) after a
//! warm-up, and the median and the minimum are reported. Arguments filter the cases
//! (`-- 20mb/p256`); `--sign-once sign|owned FILE P12` signs one file and exits (peak memory).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use paraf_pdf::Document;
use paraf_pki::asn1::der::pem::{encode_string, LineEnding};
use paraf_pki::ca::{CaInitOptions, CertificateAuthority, IssueRequest};
use paraf_pki::x509::cert_to_pem;
use paraf_pki::{DigestAlg, KeyType, SoftSigner};
use paraf_sign::pades::sign_owned;
use paraf_sign::{Services, SignOptions};

/// Password of the PKCS#12 files written for the CLI.
const P12_PASSWORD: &str = "bench";
/// How long each case is timed (after the warm-up).
const BUDGET: Duration = Duration::from_millis(1500);
const MIN_ITERS: usize = 10;
const MAX_ITERS: usize = 2000;
/// Spare capacity of the buffer handed to `sign_owned`.
const HEADROOM: usize = 64 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [_, mode, pdf, p12] = args.as_slice() {
        if args[0] == "--sign-once" {
            sign_once(mode, Path::new(pdf), Path::new(p12));
            return;
        }
    }
    // `cargo bench` passes `--bench`; other arguments filter the cases by substring of
    // `CASE/KEY` (e.g. `-- 20mb/rsa`), for profiling one of them.
    let filters: Vec<String> = args.into_iter().filter(|a| !a.starts_with("--")).collect();
    let wanted = |case: &str, key: &str| {
        let id = format!("{case}/{key}");
        filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()))
    };
    let (dir, _keep) = match std::env::var_os("PARAF_BENCH_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).unwrap();
            (d, None)
        }
        _ => {
            let t = tempfile::tempdir().unwrap();
            (t.path().to_path_buf(), Some(t))
        }
    };
    println!("bench directory: {}", dir.display());

    let files = [
        ("1page", one_page()),
        ("100pages", hundred_pages()),
        ("20mb", twenty_mb()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(format!("{name}.pdf")), bytes).unwrap();
    }
    let keys = [("rsa2048", KeyType::Rsa2048), ("p256", KeyType::P256)];
    let signers = identities(&dir, &keys);

    let mut rows: Vec<Row> = Vec::new();
    let now = SystemTime::now();
    let opts = SignOptions::new(now);
    for (name, bytes) in &files {
        for ((key_name, _), signer) in keys.iter().zip(&signers) {
            if !wanted(name, key_name) {
                continue;
            }
            // The server receives the upload as a Vec and hands it to `Document::load`: the copy
            // made here stands for that buffer and is not timed.
            let run = || {
                let input = bytes.clone();
                let t = Instant::now();
                let doc = Document::load(input, None).unwrap();
                let signed = paraf_sign::sign(&doc, signer, &opts, Services::default()).unwrap();
                let d = t.elapsed();
                drop(doc);
                std::hint::black_box(signed);
                d
            };
            rows.push(Row::new(name, key_name, bytes.len(), measure(run)));
        }
        // `sign_owned`: the loaded buffer becomes the output instead of being copied. The
        // receive buffer has 64 KiB of headroom for the update, so appending does not reallocate.
        for ((key_name, _), signer) in keys.iter().zip(&signers) {
            let key_name = format!("{key_name}:owned");
            if !wanted(name, &key_name) {
                continue;
            }
            let run = || {
                let mut input = Vec::with_capacity(bytes.len() + HEADROOM);
                input.extend_from_slice(bytes);
                let t = Instant::now();
                let doc = Document::load(input, None).unwrap();
                let signed = sign_owned(doc, signer, &opts, Services::default()).unwrap();
                let d = t.elapsed();
                std::hint::black_box(signed);
                d
            };
            rows.push(Row::new(name, &key_name, bytes.len(), measure(run)));
        }
        // Keep one signed output of each file for inspection and validation.
        let doc = Document::load(bytes.clone(), None).unwrap();
        let signed = paraf_sign::sign(&doc, &signers[0], &opts, Services::default()).unwrap();
        std::fs::write(dir.join(format!("{name}-signed-paraf.pdf")), &signed.pdf).unwrap();
        // RSA PKCS#1 v1.5 is deterministic: both entry points must write the same bytes.
        let doc = Document::load(bytes.clone(), None).unwrap();
        let owned = sign_owned(doc, &signers[0], &opts, Services::default()).unwrap();
        assert!(
            owned.pdf == signed.pdf,
            "sign_owned and sign differ on {name}"
        );
    }

    // Where the time goes: parsing alone, and the hash bound of the big file.
    for (name, bytes) in files.iter().filter(|(n, _)| wanted(n, "load-only")) {
        let run = || {
            let input = bytes.clone();
            let t = Instant::now();
            let doc = Document::load(input, None).unwrap();
            let d = t.elapsed();
            std::hint::black_box(doc);
            d
        };
        rows.push(Row::new(name, "load-only", bytes.len(), measure(run)));
    }
    let big = &files[2].1;
    if wanted("20mb", "sha256-only") {
        let run = || {
            let t = Instant::now();
            std::hint::black_box(DigestAlg::Sha256.digest(big));
            t.elapsed()
        };
        rows.push(Row::new("20mb", "sha256-only", big.len(), measure(run)));
    }
    // What `paraf sign --p12` pays before signing: PKCS#12 key derivation (PBKDF2, 100 000 rounds).
    if wanted("rsa2048.p12", "p12-open") {
        let p12 = std::fs::read(dir.join("rsa2048.p12")).unwrap();
        let run = || {
            let t = Instant::now();
            std::hint::black_box(SoftSigner::from_pkcs12(&p12, P12_PASSWORD).unwrap());
            t.elapsed()
        };
        rows.push(Row::new("rsa2048.p12", "p12-open", p12.len(), measure(run)));
    }

    print_table(&rows);
    let mut tsv = String::from("case\tkey\tbytes\titers\tmedian_ms\tmin_ms\n");
    for r in &rows {
        writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{:.3}\t{:.3}",
            r.case, r.key, r.bytes, r.iters, r.median_ms, r.min_ms
        )
        .unwrap();
    }
    std::fs::write(dir.join("paraf.tsv"), tsv).unwrap();
}

/// `--sign-once sign|owned FILE.pdf KEY.p12`: signs one file as a server would (the file read
/// into a buffer with headroom) and writes `FILE.pdf.signed`, so that `scripts/bench.sh` can
/// measure the peak memory of `sign` and `sign_owned` from outside.
fn sign_once(mode: &str, pdf: &Path, p12: &Path) {
    let signer = SoftSigner::from_pkcs12(&std::fs::read(p12).unwrap(), P12_PASSWORD).unwrap();
    let len = std::fs::metadata(pdf).unwrap().len() as usize;
    let mut input = Vec::with_capacity(len + HEADROOM);
    std::io::Read::read_to_end(&mut std::fs::File::open(pdf).unwrap(), &mut input).unwrap();
    let opts = SignOptions::new(SystemTime::now());
    let doc = Document::load(input, None).unwrap();
    let signed = match mode {
        "sign" => paraf_sign::sign(&doc, &signer, &opts, Services::default()).unwrap(),
        "owned" => sign_owned(doc, &signer, &opts, Services::default()).unwrap(),
        _ => panic!("--sign-once takes sign or owned, not {mode:?}"),
    };
    let mut out = pdf.as_os_str().to_owned();
    out.push(".signed");
    std::fs::write(out, &signed.pdf).unwrap();
}

struct Row {
    case: String,
    key: String,
    bytes: usize,
    iters: usize,
    median_ms: f64,
    min_ms: f64,
}

impl Row {
    fn new(case: &str, key: &str, bytes: usize, mut times: Vec<Duration>) -> Self {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        Row {
            case: case.into(),
            key: key.into(),
            bytes,
            iters: times.len(),
            median_ms: ms(times[times.len() / 2]),
            min_ms: ms(times[0]),
        }
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<12} {:<12} {:>10} {:>6} {:>11} {:>9}",
        "case", "key", "size", "iters", "median ms", "min ms"
    );
    for r in rows {
        println!(
            "{:<12} {:<12} {:>10} {:>6} {:>11.3} {:>9.3}",
            r.case,
            r.key,
            human_size(r.bytes),
            r.iters,
            r.median_ms,
            r.min_ms
        );
    }
}

fn human_size(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", n as f64 / 1024.0)
    }
}

/// Runs `f` a few times to warm up, then until the budget is spent (within the iteration bounds);
/// `f` returns the time of the part it measures.
fn measure(mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_ITERS || (start.elapsed() < BUDGET && times.len() < MAX_ITERS) {
        times.push(f());
    }
    times
}

/// A throw-away CA (RSA-2048) issues one identity per key type. Each is written as
/// `KEY-key.pem` (PKCS#8), `KEY-cert.pem`, `chain.pem` (issuing CA, root) and `KEY.p12`.
fn identities(dir: &Path, keys: &[(&str, KeyType)]) -> Vec<SoftSigner> {
    let ca_dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let ca = CertificateAuthority::init(
        ca_dir.path(),
        CaInitOptions {
            key_type: KeyType::Rsa2048,
            public_url: "http://127.0.0.1:9".into(),
            org_name: "Paraf Bench".into(),
            passphrase: Some(b"bench".to_vec()),
        },
        now,
    )
    .unwrap();
    let chain = ca.signer_chain();
    let chain_pem: String = chain.iter().map(|c| cert_to_pem(c).unwrap()).collect();
    std::fs::write(dir.join("chain.pem"), chain_pem).unwrap();
    keys.iter()
        .map(|&(name, key_type)| {
            let (key, cert) = ca
                .issue(IssueRequest {
                    common_name: format!("Bench {name}"),
                    email: None,
                    nik: None,
                    key_type,
                    validity_days: 30,
                    not_before: now - Duration::from_secs(3600),
                })
                .unwrap();
            let pkcs8 = key.to_pkcs8_der().unwrap();
            let key_pem = encode_string("PRIVATE KEY", LineEnding::LF, &pkcs8).unwrap();
            std::fs::write(dir.join(format!("{name}-key.pem")), key_pem).unwrap();
            std::fs::write(
                dir.join(format!("{name}-cert.pem")),
                cert_to_pem(&cert).unwrap(),
            )
            .unwrap();
            let p12 = paraf_pki::pkcs12::build(&key, &cert, &chain, P12_PASSWORD, name).unwrap();
            std::fs::write(dir.join(format!("{name}.p12")), p12).unwrap();
            SoftSigner::new(key, cert, chain.clone(), None).unwrap()
        })
        .collect()
}

/// Writes a classic PDF (objects numbered from 1 in order, an xref table) from object bodies.
fn write_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut b = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(b"\nendstream");
    b
}

/// A page's text: 40 lines of Helvetica.
fn text_content(page: usize) -> Vec<u8> {
    let mut s = String::from("BT /F1 11 Tf 14 TL 56 770 Td\n");
    for line in 1..=40 {
        writeln!(
            s,
            "(Page {page}, line {line}: the quick brown fox jumps over the lazy dog 0123456789.) '"
        )
        .unwrap();
    }
    s.push_str("ET\n");
    s.into_bytes()
}

/// Catalog (1), Pages (2), Font (3), then a page and its content per page.
fn text_pages(n: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Count {n} /Kids [{}] >>", kids.join(" ")).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    for i in 0..n {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        objects.push(stream("", &text_content(i + 1)));
    }
    write_pdf(&objects)
}

fn one_page() -> Vec<u8> {
    text_pages(1)
}

fn hundred_pages() -> Vec<u8> {
    text_pages(100)
}

/// One page showing a 2582 x 2582 RGB image of random bytes, stored unfiltered (~20 MB).
fn twenty_mb() -> Vec<u8> {
    const SIDE: usize = 2582;
    let mut pixels = vec![0u8; SIDE * SIDE * 3];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in pixels.chunks_mut(8) {
        // xorshift64*: deterministic noise that no filter could shrink.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    let content = b"q 483 0 0 483 56 300 cm /Im0 Do Q\n\
                    BT /F1 11 Tf 56 200 Td (A 20 MB page: random RGB noise, unfiltered.) Tj ET\n";
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
          /Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        stream("", content),
        stream(
            &format!(
                "/Type /XObject /Subtype /Image /Width {SIDE} /Height {SIDE} \
                 /ColorSpace /DeviceRGB /BitsPerComponent 8"
            ),
            &pixels,
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    write_pdf(&objects)
}
