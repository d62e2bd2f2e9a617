//! Malformed input never panics: the fuzz targets' functions run over a few thousand inputs
//! derived from our own signed files by bit flips, truncations, splices, insertions and digit
//! changes. Deterministic (seeded) and quick; `fuzz/` has the same targets for cargo-fuzz.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Instant;

use paraf_pki::KeyType;
use paraf_sign::Level;
use paraf_verify::fuzzing;
use support::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = base.to_vec();
    let len = d.len();
    match rng.below(8) {
        0 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
        }
        1 => d.truncate(rng.below(len)),
        2 => {
            // Remove a chunk from the middle: the file still ends with %%EOF.
            let s = rng.below(len);
            let e = (s + 1 + rng.below(2048)).min(len);
            d.drain(s..e);
        }
        3 => {
            // Splice a chunk of another signed file over this one.
            let n = 1 + rng.below(4096);
            let from = rng.below(other.len().saturating_sub(n).max(1));
            let to = rng.below(len.saturating_sub(n).max(1));
            let chunk = &other[from..(from + n).min(other.len())];
            let end = (to + chunk.len()).min(len);
            d[to..end].copy_from_slice(&chunk[..end - to]);
        }
        4 => {
            let at = rng.below(len);
            let n = 1 + rng.below(64);
            let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            d.splice(at..at, junk);
        }
        5 => {
            // Change digits: offsets, lengths, byte ranges, object numbers.
            for _ in 0..1 + rng.below(8) {
                let start = rng.below(len);
                if let Some(p) = d[start..].iter().position(u8::is_ascii_digit) {
                    d[start + p] = b'0' + rng.below(10) as u8;
                }
            }
        }
        6 => {
            // The tail: xref, trailer, startxref.
            let tail = len.saturating_sub(2048);
            for _ in 0..1 + rng.below(8) {
                let i = tail + rng.below(len - tail);
                d[i] = rng.next() as u8;
            }
        }
        _ => {
            let s = rng.below(len);
            let e = (s + 1 + rng.below(512)).min(len);
            let chunk = d[s..e].to_vec();
            let at = rng.below(len);
            d.splice(at..at, chunk);
        }
    }
    d
}

fn cms_blob(pdf: &[u8]) -> Vec<u8> {
    let at = find(pdf, b"/Contents <").unwrap() + b"/Contents <".len();
    let end = at + find(&pdf[at..], b">").unwrap();
    let hex = std::str::from_utf8(&pdf[at..end]).unwrap();
    let mut out: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

#[test]
fn mutated_signed_files_never_panic() {
    let pki = Pki::new();
    let a = pki.identity("Andi", KeyType::P256, None);
    let b = pki.identity("Bambang", KeyType::P256, None);
    let lta = sign(&pki, &simple_pdf(1), &a, Level::BLTA, |_| {});
    let two = sign(
        &pki,
        &sign(&pki, &simple_pdf(2), &a, Level::BT, |_| {}),
        &b,
        Level::BB,
        |_| {},
    );
    let bases = [lta, two];
    let cms = cms_blob(&bases[0]);
    let anchors = [pki.root.clone()];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let start = Instant::now();
    let mut runs = 0;
    for i in 0..1500 {
        let which = i % 2;
        let input = mutate(&mut rng, &bases[which], &bases[1 - which]);
        match i % 3 {
            0 => fuzzing::verify_with_anchors(&input, &anchors),
            1 => fuzzing::verify(&input),
            _ => fuzzing::pdf_parse(&input),
        }
        runs += 1;
    }
    for _ in 0..1500 {
        let input = mutate(&mut rng, &cms, &bases[1]);
        fuzzing::cms_decode(&input);
        runs += 1;
    }
    eprintln!("{runs} mutated inputs in {:?}", start.elapsed());
}
