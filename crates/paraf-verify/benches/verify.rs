//! `cargo bench -p paraf-verify`: time the validator on a signed 1-page PDF and a signed 20 MB
//! PDF (one uncompressed image), then time pyHanko's in-process validation of the same files
//! (`benches/pyhanko_verify.py`) and print the ratio. Both files are PAdES B-LT, so both
//! validators find revocation data in the DSS and need no network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use paraf_pki::KeyType;
use paraf_sign::Level;
use paraf_verify::Indication;
use support::*;

/// Median and minimum of `runs` timings of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..3 {
        f();
    }
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    (v[v.len() / 2], v[0])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let pki = Pki::new();
    let id = pki.identity("Budi Santoso", KeyType::Rsa2048, None);
    let small = sign(&pki, &simple_pdf(1), &id, Level::BLT, |_| {});
    let big = sign(&pki, &big_pdf(20 * 1024 * 1024), &id, Level::BLT, |_| {});
    let opts = pki.options();
    for (name, pdf) in [("1-page", &small), ("20 MB", &big)] {
        let r = verify(pdf, &opts);
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{name}: {}",
            r.to_json_pretty()
        );
    }

    let tmp = tempfile::tempdir().unwrap();
    let small_path = tmp.path().join("one-page-b-lt.pdf");
    let big_path = tmp.path().join("twenty-mb-b-lt.pdf");
    let root_path = tmp.path().join("root.pem");
    std::fs::write(&small_path, &small).unwrap();
    std::fs::write(&big_path, &big).unwrap();
    std::fs::write(&root_path, paraf_pki::x509::cert_to_pem(&pki.root).unwrap()).unwrap();

    println!("paraf-verify (release), full validation of a PAdES B-LT file from bytes in memory");
    println!("(includes copying the bytes into the Document, as verify() takes ownership):");
    let mut ours = Vec::new();
    for (name, pdf, runs) in [("1-page", &small, 2000), ("20 MB", &big, 40)] {
        let (median, min) = time(runs, || {
            let r = paraf_verify::verify(pdf.to_vec(), None, &opts).unwrap();
            assert_eq!(r.indication, Indication::TotalPassed);
        });
        println!(
            "  {name:>7} ({:>9} bytes): median {:8.3} ms, min {:8.3} ms over {runs} runs",
            pdf.len(),
            ms(median),
            ms(min)
        );
        ours.push(median);
    }
    println!("validation only, on an already opened Document (no copy, no xref parsing):");
    for (name, pdf, runs) in [("1-page", &small, 2000), ("20 MB", &big, 40)] {
        let doc = paraf_pdf::Document::load(pdf.to_vec(), None).unwrap();
        let (median, min) = time(runs, || {
            let r = paraf_verify::verify_document(&doc, &opts);
            assert_eq!(r.indication, Indication::TotalPassed);
        });
        println!(
            "  {name:>7}: median {:8.3} ms, min {:8.3} ms over {runs} runs",
            ms(median),
            ms(min)
        );
    }

    // A second, visible signature: the first one's later revision is rendered and compared.
    let siti = pki.identity("Siti Rahayu", KeyType::P256, None);
    let two = sign(&pki, &small, &siti, Level::BLT, |o| {
        o.visible = Some(stamp(1, [300.0, 100.0, 180.0, 50.0]))
    });
    let mut structural = pki.options();
    structural.render_compare = false;
    println!("two signatures (the second visible), 1 page: render comparison on and off:");
    for (name, o) in [("render on", &opts), ("render off", &structural)] {
        let (median, min) = time(200, || {
            let r = paraf_verify::verify(two.clone(), None, o).unwrap();
            assert_eq!(r.indication, Indication::TotalPassed);
        });
        println!(
            "  {name:>10}: median {:8.3} ms, min {:8.3} ms over 200 runs",
            ms(median),
            ms(min)
        );
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/pyhanko_verify.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&root_path)
        .arg(&small_path)
        .arg(&big_path)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).to_string(),
        Ok(o) => {
            println!(
                "pyHanko comparison skipped: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return;
        }
        Err(e) => {
            println!("pyHanko comparison skipped: cannot run python3: {e}");
            return;
        }
    };
    println!(
        "pyHanko (in-process, validate_pdf_signature with the DSS revocation data, no fetching):"
    );
    for (line, (name, our)) in out.lines().zip([("1-page", ours[0]), ("20 MB", ours[1])]) {
        let median = line
            .split("\"median_ms\": ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        println!(
            "  {name:>7}: median {median:8.3} ms  -> paraf-verify is {:.1}x faster",
            median / ms(our)
        );
    }
}
