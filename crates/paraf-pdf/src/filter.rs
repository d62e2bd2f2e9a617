//! Stream filters (ISO 32000-2 §7.4): decoding a stream's data through its `/Filter` chain.
//!
//! Implemented: `FlateDecode`, `LZWDecode` (with `/EarlyChange`), both with the PNG (10–15) and
//! TIFF (2) predictors of §7.4.4.4, `ASCIIHexDecode`, `ASCII85Decode` and `RunLengthDecode`, under
//! their full names and their inline-image abbreviations (`/Fl`, `/LZW`, `/AHx`, `/A85`, `/RL`).
//!
//! Not decoded: the image filters (`DCTDecode`, `JPXDecode`, `CCITTFaxDecode`, `JBIG2Decode` and
//! their abbreviations `/DCT`, `/CCF`). [`decode`] returns the data as it stands before such a
//! filter when it is the *last* one of the chain — the result is then still JPEG, JPEG 2000…, which
//! is what an image consumer wants — and fails with [`ErrorKind::Unsupported`] when one sits in the
//! middle. `/Crypt` is skipped by [`decode`]: decryption is the security handler's job
//! ([`crate::crypt`]) and has happened before the data gets here.
//!
//! The input is hostile. Decoders never panic; every output is capped at [`MAX_DECODED_LEN`] so
//! that a small "zip bomb" fails with an error instead of exhausting memory. Like real PDF readers
//! we are tolerant where it costs nothing: a truncated or corrupt Flate stream yields what it
//! decoded before the damage, a missing end-of-data marker is accepted, white space is skipped.

use std::borrow::Cow;

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::{ErrorKind, PdfError, Result};
use crate::object::{is_whitespace, Dict, Object};

/// The largest output any single filter may produce (512 MiB).
pub const MAX_DECODED_LEN: usize = 512 << 20;

/// Decodes stream data through its /Filter chain (/DecodeParms applied per filter).
///
/// `/Filter` may be absent (the data is returned as is), a name or an array of names;
/// `/DecodeParms` a dictionary, an array (one entry per filter, `null` for none) or `null`.
/// A lone dictionary with several filters is given to each of them (only Flate and LZW read
/// parameters, and real files that do this mean their one Flate filter). Both entries must be
/// direct objects, as must array elements: the caller resolves indirect references first
/// (an indirect `/Filter` or `/DecodeParms` is an error, an indirect array element counts as
/// `null`).
pub fn decode(dict: &Dict, data: &[u8]) -> Result<Vec<u8>> {
    let filters = filter_names(dict)?;
    let parms = decode_parms(dict, filters.len())?;
    let mut cur: Cow<'_, [u8]> = Cow::Borrowed(data);
    for (i, name) in filters.iter().enumerate() {
        if is_image_filter(name) {
            if i + 1 == filters.len() {
                break;
            }
            return Err(PdfError::new(
                ErrorKind::Unsupported,
                format!(
                    "image filter /{} is followed by another filter",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        if *name == b"Crypt" {
            continue;
        }
        let p = parms.get(i).copied().flatten();
        cur = Cow::Owned(decode_filter(name, p, &cur)?);
    }
    Ok(cur.into_owned())
}

/// Applies one filter, `name` without the leading `/`, with its decode parameters.
///
/// The image filters fail with [`ErrorKind::Unsupported`]; `/Crypt` returns the data unchanged
/// (see the module documentation).
pub fn decode_filter(name: &[u8], parms: Option<&Dict>, data: &[u8]) -> Result<Vec<u8>> {
    match name {
        b"FlateDecode" | b"Fl" => predict(parms, flate_decode(data, MAX_DECODED_LEN)?),
        b"LZWDecode" | b"LZW" => {
            let early = match parms.and_then(|p| p.int("EarlyChange")) {
                None | Some(1) => true,
                Some(0) => false,
                Some(other) => {
                    return Err(PdfError::new(
                        ErrorKind::Syntax,
                        format!("invalid /EarlyChange {other}"),
                    ))
                }
            };
            predict(parms, lzw_decode(data, early)?)
        }
        b"ASCIIHexDecode" | b"AHx" => ascii_hex_decode(data),
        b"ASCII85Decode" | b"A85" => ascii85_decode(data),
        b"RunLengthDecode" | b"RL" => run_length_decode(data),
        b"Crypt" => Ok(data.to_vec()),
        _ if is_image_filter(name) => Err(PdfError::new(
            ErrorKind::Unsupported,
            format!(
                "image filter /{} is not decoded",
                String::from_utf8_lossy(name)
            ),
        )),
        _ => Err(PdfError::new(
            ErrorKind::Unsupported,
            format!("unknown filter /{}", String::from_utf8_lossy(name)),
        )),
    }
}

/// Compresses `data` with zlib (the `FlateDecode` format), default compression level.
pub fn flate_encode(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail; should the compressor ever report an error anyway, fall
    // back to stored (uncompressed) deflate blocks, which every reader accepts.
    match enc.write_all(data).and_then(|()| enc.finish()) {
        Ok(out) => out,
        Err(_) => zlib_stored(data),
    }
}

fn is_image_filter(name: &[u8]) -> bool {
    matches!(
        name,
        b"DCTDecode" | b"DCT" | b"JPXDecode" | b"CCITTFaxDecode" | b"CCF" | b"JBIG2Decode"
    )
}

fn filter_names(dict: &Dict) -> Result<Vec<&[u8]>> {
    match dict.get("Filter") {
        None | Some(Object::Null) => Ok(Vec::new()),
        Some(Object::Name(n)) => Ok(vec![n.as_slice()]),
        Some(Object::Array(a)) => a
            .iter()
            .map(|o| {
                o.as_name()
                    .ok_or_else(|| PdfError::structure("/Filter array holds a non-name"))
            })
            .collect(),
        Some(Object::Ref(_)) => Err(indirect("/Filter")),
        Some(_) => Err(PdfError::structure(
            "/Filter is neither a name nor an array",
        )),
    }
}

fn decode_parms(dict: &Dict, n: usize) -> Result<Vec<Option<&Dict>>> {
    match dict.get("DecodeParms") {
        None | Some(Object::Null) => Ok(vec![None; n]),
        Some(Object::Dict(d)) => Ok(vec![Some(d); n.max(1)]),
        Some(Object::Array(a)) => Ok(a
            .iter()
            .map(|o| match o {
                Object::Dict(d) => Some(d),
                _ => None,
            })
            .collect()),
        Some(Object::Ref(_)) => Err(indirect("/DecodeParms")),
        Some(_) => Err(PdfError::structure(
            "/DecodeParms is neither a dictionary nor an array",
        )),
    }
}

fn indirect(key: &str) -> PdfError {
    PdfError::structure(format!(
        "{key} is an indirect reference: the caller must resolve it before decoding"
    ))
}

fn too_large() -> PdfError {
    PdfError::new(
        ErrorKind::Unsupported,
        format!("decoded stream exceeds {MAX_DECODED_LEN} bytes"),
    )
}

// ---------------------------------------------------------------------------------------------
// FlateDecode (§7.4.4, RFC 1950/1951)

fn flate_decode(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    if data.iter().all(|&c| is_whitespace(c)) {
        return Ok(Vec::new()); // empty streams are common (blank content streams)
    }
    match inflate(data, true, limit) {
        Ok(out) => Ok(out),
        // Some writers emit raw deflate without the zlib header.
        Err(e) if e.kind != ErrorKind::Unsupported => inflate(data, false, limit).map_err(|_| e),
        Err(e) => Err(e),
    }
}

/// Whether `data` (zlib or raw deflate) inflates to more than `limit` bytes: counted in a
/// scratch buffer, nothing kept (a pre-flight against decompression bombs for decoders without
/// a limit of their own). A broken stream counts what it produced before breaking.
pub fn inflates_beyond(data: &[u8], limit: usize) -> bool {
    [true, false].into_iter().any(|zlib| {
        let mut d = Decompress::new(zlib);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
            let input = data.get(consumed..).unwrap_or(&[]);
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let res = d.decompress(input, &mut buf, FlushDecompress::None);
            if usize::try_from(d.total_out()).unwrap_or(usize::MAX) > limit {
                return true;
            }
            let stuck = d.total_in() == in_before && d.total_out() == out_before;
            match res {
                Ok(Status::StreamEnd) | Err(_) => return false,
                Ok(_) if stuck => return false,
                Ok(_) => {}
            }
        }
    })
}

/// Inflates until the end of the stream, the end of the input or the first error; returns what
/// was produced unless that is nothing and the stream is broken.
fn inflate(data: &[u8], zlib: bool, limit: usize) -> Result<Vec<u8>> {
    let mut d = Decompress::new(zlib);
    let mut out: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(3).min(1 << 20));
    let mut buf = vec![0u8; 64 * 1024];
    let broken = loop {
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or(&[]);
        let out_before = d.total_out();
        let in_before = d.total_in();
        let res = d.decompress(input, &mut buf, FlushDecompress::None);
        let produced = usize::try_from(d.total_out() - out_before).unwrap_or(usize::MAX);
        out.extend_from_slice(buf.get(..produced).unwrap_or(&buf));
        if out.len() > limit {
            return Err(too_large());
        }
        match res {
            Ok(Status::StreamEnd) => break false,
            Ok(_) if produced == 0 && d.total_in() == in_before => break true,
            Ok(_) => {}
            Err(_) => break true,
        }
    };
    if broken && out.is_empty() {
        return Err(PdfError::new(
            ErrorKind::Syntax,
            "FlateDecode: corrupt or empty compressed data",
        ));
    }
    Ok(out)
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65535 * 5 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(c) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

// ---------------------------------------------------------------------------------------------
// Predictors (§7.4.4.4)

fn predict(parms: Option<&Dict>, data: Vec<u8>) -> Result<Vec<u8>> {
    let Some(p) = parms else { return Ok(data) };
    let predictor = p.int("Predictor").unwrap_or(1);
    if predictor == 1 {
        return Ok(data);
    }
    let colors = p.int("Colors").unwrap_or(1);
    let bpc = p.int("BitsPerComponent").unwrap_or(8);
    let columns = p.int("Columns").unwrap_or(1);
    if !(1..=256).contains(&colors) {
        return Err(PdfError::new(
            ErrorKind::Syntax,
            format!("invalid /Colors {colors}"),
        ));
    }
    if !matches!(bpc, 1 | 2 | 4 | 8 | 16) {
        return Err(PdfError::new(
            ErrorKind::Syntax,
            format!("invalid /BitsPerComponent {bpc}"),
        ));
    }
    if columns < 1 {
        return Err(PdfError::new(
            ErrorKind::Syntax,
            format!("invalid /Columns {columns}"),
        ));
    }
    // colors ≤ 256 and bpc ≤ 16, so bits per pixel fits easily; columns is checked.
    let bits_per_pixel = (colors * bpc) as usize;
    let row_len = usize::try_from(columns)
        .ok()
        .and_then(|c| c.checked_mul(bits_per_pixel))
        .map(|bits| bits.div_ceil(8))
        .filter(|&n| n <= MAX_DECODED_LEN)
        .ok_or_else(|| PdfError::new(ErrorKind::Syntax, "predictor row too large"))?;
    let bytes_per_pixel = bits_per_pixel.div_ceil(8);
    match predictor {
        2 => Ok(tiff_predict(data, row_len, colors as usize, bpc as u32)),
        10..=15 => png_predict(&data, row_len, bytes_per_pixel),
        _ => Err(PdfError::new(
            ErrorKind::Unsupported,
            format!("unknown /Predictor {predictor}"),
        )),
    }
}

/// PNG predictors: every row starts with its own filter-type byte. A truncated last row is
/// decoded as far as it goes.
fn png_predict(data: &[u8], row_len: usize, bpp: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    let mut row = vec![0u8; row_len];
    for chunk in data.chunks(row_len + 1) {
        let Some((&kind, src)) = chunk.split_first() else {
            break;
        };
        for (i, &x) in src.iter().enumerate() {
            let up = prev.get(i).copied().unwrap_or(0);
            let left = i
                .checked_sub(bpp)
                .and_then(|j| row.get(j))
                .copied()
                .unwrap_or(0);
            let up_left = i
                .checked_sub(bpp)
                .and_then(|j| prev.get(j))
                .copied()
                .unwrap_or(0);
            let pred = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => {
                    return Err(PdfError::new(
                        ErrorKind::Syntax,
                        format!("unknown PNG predictor type {kind}"),
                    ))
                }
            };
            if let Some(r) = row.get_mut(i) {
                *r = x.wrapping_add(pred);
            }
        }
        let n = src.len();
        out.extend_from_slice(row.get(..n).unwrap_or(&row));
        std::mem::swap(&mut prev, &mut row);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let pa = (p - i16::from(a)).abs();
    let pb = (p - i16::from(b)).abs();
    let pc = (p - i16::from(c)).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// TIFF predictor 2: each sample is the difference from the same component of the pixel to its
/// left, within a row. Rows are byte-aligned; a truncated last row is decoded as far as it goes.
fn tiff_predict(mut data: Vec<u8>, row_len: usize, colors: usize, bpc: u32) -> Vec<u8> {
    for row in data.chunks_mut(row_len) {
        match bpc {
            8 => {
                for i in colors..row.len() {
                    let left = row.get(i - colors).copied().unwrap_or(0);
                    if let Some(x) = row.get_mut(i) {
                        *x = x.wrapping_add(left);
                    }
                }
            }
            16 => {
                let stride = 2 * colors;
                for i in (stride..row.len().saturating_sub(1)).step_by(2) {
                    let (Some(&lh), Some(&ll), Some(&h), Some(&l)) = (
                        row.get(i - stride),
                        row.get(i - stride + 1),
                        row.get(i),
                        row.get(i + 1),
                    ) else {
                        break;
                    };
                    let v = u16::from_be_bytes([h, l])
                        .wrapping_add(u16::from_be_bytes([lh, ll]))
                        .to_be_bytes();
                    if let Some(pair) = row.get_mut(i..i + 2) {
                        pair.copy_from_slice(&v);
                    }
                }
            }
            _ => {
                // 1, 2 or 4 bits per sample, packed from the most significant bit.
                let samples = row.len() * 8 / bpc as usize;
                let mask = (1u16 << bpc) - 1;
                for s in colors..samples {
                    let left = get_bits(row, s - colors, bpc);
                    let cur = get_bits(row, s, bpc);
                    set_bits(row, s, bpc, (cur + left) & mask);
                }
            }
        }
    }
    data
}

fn get_bits(row: &[u8], sample: usize, bpc: u32) -> u16 {
    let bit = sample * bpc as usize;
    let byte = row.get(bit / 8).copied().unwrap_or(0);
    let shift = 8 - bpc - (bit % 8) as u32;
    (u16::from(byte) >> shift) & ((1 << bpc) - 1)
}

fn set_bits(row: &mut [u8], sample: usize, bpc: u32, v: u16) {
    let bit = sample * bpc as usize;
    let shift = 8 - bpc - (bit % 8) as u32;
    let mask = (((1u16 << bpc) - 1) << shift) as u8;
    if let Some(b) = row.get_mut(bit / 8) {
        *b = (*b & !mask) | (((v << shift) as u8) & mask);
    }
}

// ---------------------------------------------------------------------------------------------
// LZWDecode (§7.4.4)

fn lzw_decode(data: &[u8], early_change: bool) -> Result<Vec<u8>> {
    const CLEAR: u16 = 256;
    const EOD: u16 = 257;
    const FIRST: usize = 258;
    const MAX_CODES: usize = 4096;
    let early = usize::from(early_change);
    let mut out: Vec<u8> = Vec::with_capacity(data.len() * 2);
    // Entry `FIRST + i` is `out[start .. start + len]`: every table string appears in the output
    // (the previous string followed by one byte), and the output only grows.
    let mut table: Vec<(usize, usize)> = Vec::with_capacity(MAX_CODES - FIRST);
    let mut prev: Option<(usize, usize)> = None;
    let mut code_len = 9u32;
    let (mut acc, mut acc_bits) = (0u32, 0u32);
    let mut bytes = data.iter();
    loop {
        while acc_bits < code_len {
            let Some(&b) = bytes.next() else {
                return Ok(out); // no end-of-data marker: accept what we have
            };
            acc = (acc << 8) | u32::from(b);
            acc_bits += 8;
        }
        let code = ((acc >> (acc_bits - code_len)) & ((1 << code_len) - 1)) as u16;
        acc_bits -= code_len;
        acc &= (1 << acc_bits) - 1;
        if code == CLEAR {
            table.clear();
            prev = None;
            code_len = 9;
            continue;
        }
        if code == EOD {
            return Ok(out);
        }
        let start = out.len();
        let cur = if code < 256 {
            out.push(code as u8);
            (start, 1)
        } else if let Some(&(s, l)) = table.get(usize::from(code) - FIRST) {
            copy_within_checked(&mut out, s, l)?;
            (start, l)
        } else if let (true, Some((ps, pl))) = (usize::from(code) - FIRST == table.len(), prev) {
            // The "KwKwK" case: the code being defined right now.
            copy_within_checked(&mut out, ps, pl)?;
            let first = out.get(start).copied().unwrap_or(0);
            out.push(first);
            (start, pl + 1)
        } else {
            return Err(PdfError::new(
                ErrorKind::Syntax,
                format!("LZWDecode: invalid code {code}"),
            ));
        };
        if out.len() > MAX_DECODED_LEN {
            return Err(too_large());
        }
        if let Some((ps, pl)) = prev {
            if FIRST + table.len() < MAX_CODES {
                table.push((ps, pl + 1));
            }
        }
        prev = Some(cur);
        let next = FIRST + table.len();
        while code_len < 12 && next + early >= (1 << code_len) {
            code_len += 1;
        }
    }
}

fn copy_within_checked(out: &mut Vec<u8>, start: usize, len: usize) -> Result<()> {
    match start.checked_add(len) {
        Some(end) if end <= out.len() => {
            out.extend_from_within(start..end);
            Ok(())
        }
        _ => Err(PdfError::new(ErrorKind::Syntax, "LZWDecode: corrupt table")),
    }
}

// ---------------------------------------------------------------------------------------------
// ASCIIHexDecode, ASCII85Decode, RunLengthDecode (§7.4.2, §7.4.3, §7.4.5)

fn ascii_hex_decode(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut high: Option<u8> = None;
    for (i, &c) in data.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'>' => break,
            _ if is_whitespace(c) => continue,
            _ => {
                return Err(PdfError::new(
                    ErrorKind::Syntax,
                    format!("ASCIIHexDecode: invalid character 0x{c:02X} at {i}"),
                ))
            }
        };
        match high.take() {
            Some(h) => out.push((h << 4) | v),
            None => high = Some(v),
        }
    }
    if let Some(h) = high {
        out.push(h << 4); // an odd final digit is followed by an implied 0
    }
    Ok(out)
}

fn ascii85_decode(data: &[u8]) -> Result<Vec<u8>> {
    let data = data.strip_prefix(b"<~").unwrap_or(data);
    let mut out = Vec::with_capacity(data.len() / 5 * 4 + 4);
    let mut group = [0u8; 5];
    let mut n = 0usize;
    for (i, &c) in data.iter().enumerate() {
        match c {
            b'~' => break,
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                if let Some(g) = group.get_mut(n) {
                    *g = c - b'!';
                }
                n += 1;
                if n == 5 {
                    out.extend_from_slice(&a85_group(&group)?.to_be_bytes());
                    n = 0;
                }
            }
            _ if is_whitespace(c) => {}
            _ => {
                return Err(PdfError::new(
                    ErrorKind::Syntax,
                    format!("ASCII85Decode: invalid character 0x{c:02X} at {i}"),
                ))
            }
        }
        if out.len() > MAX_DECODED_LEN {
            return Err(too_large());
        }
    }
    if n > 1 {
        // A final partial group of n characters: pad with 'u' and keep n − 1 bytes.
        for g in group.iter_mut().skip(n) {
            *g = 84;
        }
        let bytes = a85_group(&group)?.to_be_bytes();
        out.extend_from_slice(bytes.get(..n - 1).unwrap_or(&bytes));
    }
    Ok(out)
}

fn a85_group(g: &[u8; 5]) -> Result<u32> {
    let v = g.iter().fold(0u64, |acc, &d| acc * 85 + u64::from(d));
    u32::try_from(v)
        .map_err(|_| PdfError::new(ErrorKind::Syntax, "ASCII85Decode: group out of range"))
}

fn run_length_decode(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 2);
    let mut it = data.iter();
    while let Some(&len) = it.next() {
        match len {
            128 => break,
            0..=127 => {
                let n = usize::from(len) + 1;
                let rest = it.as_slice();
                let take = rest.get(..n).unwrap_or(rest); // truncated run: keep what is there
                out.extend_from_slice(take);
                it = rest.get(take.len()..).unwrap_or(&[]).iter();
            }
            _ => {
                let Some(&b) = it.next() else { break };
                out.resize(out.len() + 257 - usize::from(len), b);
            }
        }
        if out.len() > MAX_DECODED_LEN {
            return Err(too_large());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ObjRef;

    fn parms(entries: &[(&str, i64)]) -> Dict {
        entries
            .iter()
            .fold(Dict::new(), |d, &(k, v)| d.with(k, Object::Int(v)))
    }

    #[test]
    fn flate_roundtrip_and_chain() {
        let text = b"BT /F1 12 Tf (Hello, Paraf) Tj ET\n".repeat(50);
        let z = flate_encode(&text);
        assert!(z.len() < text.len());
        assert_eq!(decode_filter(b"FlateDecode", None, &z).unwrap(), text);
        assert_eq!(decode_filter(b"Fl", None, &z).unwrap(), text);

        // /Filter [/ASCIIHexDecode /FlateDecode]: hex of the zlib data.
        let hex: String = z.iter().map(|b| format!("{b:02x}")).collect();
        let dict = Dict::new().with(
            "Filter",
            vec![Object::name("AHx"), Object::name("FlateDecode")],
        );
        assert_eq!(decode(&dict, format!("{hex}>").as_bytes()).unwrap(), text);
    }

    #[test]
    fn flate_tolerates_truncation_and_bad_checksum() {
        let text = b"0123456789abcdef".repeat(1000);
        let z = flate_encode(&text);
        // Corrupt the Adler-32 checksum: the data is still all there.
        let mut bad = z.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 0xFF;
        }
        assert_eq!(decode_filter(b"FlateDecode", None, &bad).unwrap(), text);
        // Cut the stream short: we get a prefix.
        let cut = &z[..z.len() / 2];
        let part = decode_filter(b"FlateDecode", None, cut).unwrap();
        assert!(!part.is_empty() && text.starts_with(&part));
        // Garbage is an error, not a panic.
        let err = decode_filter(b"FlateDecode", None, b"not zlib at all").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
        assert_eq!(decode_filter(b"FlateDecode", None, b"").unwrap(), b"");
        assert_eq!(decode_filter(b"FlateDecode", None, b"\r\n").unwrap(), b"");
    }

    #[test]
    fn flate_accepts_raw_deflate() {
        let text = b"raw deflate without zlib header".repeat(10);
        let mut c = flate2::Compress::new(flate2::Compression::default(), false);
        let mut raw = Vec::with_capacity(1024);
        c.compress_vec(&text, &mut raw, flate2::FlushCompress::Finish)
            .unwrap();
        assert_eq!(decode_filter(b"FlateDecode", None, &raw).unwrap(), text);
    }

    #[test]
    fn flate_bomb_is_refused() {
        // 8 MiB of zeros compress to about 8 KiB; the same code path guards MAX_DECODED_LEN.
        let z = flate_encode(&vec![0u8; 8 << 20]);
        assert!(z.len() < 64 << 10);
        let err = flate_decode(&z, 1 << 20).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert_eq!(flate_decode(&z, 8 << 20).unwrap().len(), 8 << 20);
    }

    #[test]
    fn stored_zlib_fallback_is_valid() {
        for len in [0usize, 1, 65535, 65536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let z = zlib_stored(&data);
            assert_eq!(decode_filter(b"FlateDecode", None, &z).unwrap(), data);
        }
    }

    #[test]
    fn png_predictors_all_types() {
        // Columns 3, Colors 1, bpc 8: rows of 3 bytes, each with a predictor byte.
        let p = parms(&[("Predictor", 12), ("Columns", 3)]);
        let encoded = [
            0, 10, 20, 30, // None
            1, 5, 1, 1, // Sub: 5, 6, 7
            2, 1, 1, 1, // Up: 6, 7, 8
            3, 2, 2, 2, // Average: (0+6)/2+2=5, (5+7)/2+2=8, (8+8)/2+2=10
            4, 1, 1, 1, // Paeth: up 5 -> 6; left 6,up 8,ul 5 -> p=9 -> b=8 -> 9; ...
        ];
        let out = predict(Some(&p), encoded.to_vec()).unwrap();
        assert_eq!(
            out,
            [10, 20, 30, 5, 6, 7, 6, 7, 8, 5, 8, 10, 6, 9, 11],
            "{out:?}"
        );
        // The same through FlateDecode.
        let dict = Dict::new()
            .with("Filter", Object::name("FlateDecode"))
            .with("DecodeParms", p.clone());
        assert_eq!(decode(&dict, &flate_encode(&encoded)).unwrap(), out);
        // A bad row type is an error.
        assert!(predict(Some(&p), vec![9, 1, 2, 3]).is_err());
        // A truncated last row is decoded as far as it goes.
        assert_eq!(
            predict(Some(&p), vec![0, 1, 2, 3, 2, 1]).unwrap(),
            [1, 2, 3, 2]
        );
    }

    #[test]
    fn png_up_predictor_typical_xref_stream() {
        // What xref streams use: /Predictor 12 /Columns 4 (W [1 2 1]).
        let rows: [[u8; 4]; 3] = [[1, 0, 15, 0], [1, 0, 200, 0], [2, 0, 5, 1]];
        let mut enc = Vec::new();
        let mut prev = [0u8; 4];
        for r in &rows {
            enc.push(2);
            for i in 0..4 {
                enc.push(r[i].wrapping_sub(prev[i]));
            }
            prev = *r;
        }
        let p = parms(&[("Predictor", 12), ("Columns", 4)]);
        assert_eq!(predict(Some(&p), enc).unwrap(), rows.concat());
    }

    #[test]
    fn tiff_predictor_8_16_and_packed_bits() {
        // 8 bits, 2 colours, 3 columns.
        let p = parms(&[
            ("Predictor", 2),
            ("Colors", 2),
            ("BitsPerComponent", 8),
            ("Columns", 3),
        ]);
        let enc = vec![10, 100, 1, 1, 1, 255, /* row 2 */ 0, 0, 5, 5, 5, 5];
        assert_eq!(
            predict(Some(&p), enc).unwrap(),
            [10, 100, 11, 101, 12, 100, 0, 0, 5, 5, 10, 10]
        );
        // 16 bits, 1 colour, 3 columns: 0x0100, +0x00FF, +0x0001.
        let p = parms(&[("Predictor", 2), ("BitsPerComponent", 16), ("Columns", 3)]);
        assert_eq!(
            predict(Some(&p), vec![1, 0, 0, 0xFF, 0, 1]).unwrap(),
            [1, 0, 1, 0xFF, 2, 0]
        );
        // 4 bits, 1 colour, 4 columns: nibbles 1, +1, +1, +15 -> 1 2 3 2.
        let p = parms(&[("Predictor", 2), ("BitsPerComponent", 4), ("Columns", 4)]);
        assert_eq!(predict(Some(&p), vec![0x11, 0x1F]).unwrap(), [0x12, 0x32]);
        // 1 bit, 1 colour, 8 columns: differences 1 0 0 1 0 0 0 0 -> 1 1 1 0 0 0 0 0.
        let p = parms(&[("Predictor", 2), ("BitsPerComponent", 1), ("Columns", 8)]);
        assert_eq!(predict(Some(&p), vec![0b1001_0000]).unwrap(), [0b1110_0000]);
    }

    #[test]
    fn predictor_parameters_are_checked() {
        for bad in [
            parms(&[("Predictor", 12), ("Columns", 0)]),
            parms(&[("Predictor", 12), ("Colors", 0)]),
            parms(&[("Predictor", 12), ("BitsPerComponent", 3)]),
            parms(&[("Predictor", 12), ("Columns", i64::MAX)]),
            parms(&[
                ("Predictor", 12),
                ("Columns", i64::MAX / 8),
                ("Colors", 256),
            ]),
            parms(&[("Predictor", 7)]),
        ] {
            assert!(predict(Some(&bad), vec![0, 1, 2]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ascii_hex() {
        assert_eq!(
            decode_filter(b"ASCIIHexDecode", None, b"48 65\n6c6C6f>ignored").unwrap(),
            b"Hello"
        );
        assert_eq!(decode_filter(b"AHx", None, b"7>").unwrap(), [0x70]);
        assert_eq!(decode_filter(b"AHx", None, b"").unwrap(), b"");
        assert!(decode_filter(b"AHx", None, b"4G>").is_err());
    }

    #[test]
    fn ascii85() {
        // Known vector: "Man is distinguished" (from the Ascii85 article of Wikipedia).
        let enc = b"9jqo^BlbD-BleB1DJ+*+F(f,q~>";
        assert_eq!(
            decode_filter(b"ASCII85Decode", None, enc).unwrap(),
            b"Man is distinguished"
        );
        assert_eq!(
            decode_filter(b"A85", None, b"<~9jqo^\nBl~>").unwrap(),
            b"Man i"
        );
        assert_eq!(
            decode_filter(b"A85", None, b"z!!!!#~>").unwrap(),
            [0, 0, 0, 0, 0, 0, 0, 2]
        );
        assert!(decode_filter(b"A85", None, b"s8W-\"~>").is_err()); // > 2^32 - 1
        assert!(decode_filter(b"A85", None, b"!!z!!~>").is_err()); // z inside a group
        assert!(decode_filter(b"A85", None, b"abc{~>").is_err());
    }

    #[test]
    fn lzw_spec_example_and_early_change() {
        // The example of ISO 32000-2 §7.4.4.2: 45 45 45 45 45 65 45 45 45 66 (hex),
        // codes 256 45 258 258 65 259 66 257 packed in 9 bits.
        let enc = [0x80, 0x0B, 0x60, 0x50, 0x22, 0x0C, 0x0C, 0x85, 0x01];
        let expect = [0x2D, 0x2D, 0x2D, 0x2D, 0x2D, 0x41, 0x2D, 0x2D, 0x2D, 0x42];
        assert_eq!(decode_filter(b"LZWDecode", None, &enc).unwrap(), expect);
        assert_eq!(decode_filter(b"LZW", None, &enc).unwrap(), expect);

        // A long input crosses the 9 -> 10 -> 11 bit boundaries; check against our encoder
        // for both EarlyChange values.
        let data: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 27) as u8)
            .collect();
        for early in [true, false] {
            let enc = lzw_encode(&data, early);
            let p = parms(&[("EarlyChange", i64::from(early))]);
            assert_eq!(decode_filter(b"LZWDecode", Some(&p), &enc).unwrap(), data);
        }
        // An undefined code is an error; a missing EOD is fine.
        assert!(decode_filter(b"LZW", None, &[0x80, 0x4B, 0x00]).is_err());
        assert_eq!(decode_filter(b"LZW", None, &[0x16, 0x80]).unwrap(), [0x2D]);
    }

    /// A straightforward LZW encoder, for tests only.
    fn lzw_encode(data: &[u8], early: bool) -> Vec<u8> {
        use std::collections::HashMap;
        let mut w = BitWriter::default();
        let mut dict: HashMap<Vec<u8>, u16> = HashMap::new();
        let mut next = 258u16;
        let mut len = 9u32;
        w.put(256, len);
        let mut cur: Vec<u8> = Vec::new();
        for &b in data {
            let mut ext = cur.clone();
            ext.push(b);
            if ext.len() == 1 || dict.contains_key(&ext) {
                cur = ext;
                continue;
            }
            let code = if cur.len() == 1 {
                u16::from(cur[0])
            } else {
                dict[&cur]
            };
            w.put(code, len);
            if next < 4094 {
                dict.insert(ext, next);
                next += 1;
                // The decoder adds its entries one code later than we do.
                while len < 12 && u32::from(next) - 1 + u32::from(early) >= (1 << len) {
                    len += 1;
                }
            } else {
                w.put(256, len);
                dict.clear();
                next = 258;
                len = 9;
            }
            cur = vec![b];
        }
        if !cur.is_empty() {
            let code = if cur.len() == 1 {
                u16::from(cur[0])
            } else {
                dict[&cur]
            };
            w.put(code, len);
        }
        w.put(257, len);
        w.finish()
    }

    #[derive(Default)]
    struct BitWriter {
        out: Vec<u8>,
        acc: u32,
        bits: u32,
    }
    impl BitWriter {
        fn put(&mut self, code: u16, len: u32) {
            self.acc = (self.acc << len) | u32::from(code);
            self.bits += len;
            while self.bits >= 8 {
                self.out.push((self.acc >> (self.bits - 8)) as u8);
                self.bits -= 8;
                self.acc &= (1 << self.bits) - 1;
            }
        }
        fn finish(mut self) -> Vec<u8> {
            if self.bits > 0 {
                self.out.push((self.acc << (8 - self.bits)) as u8);
            }
            self.out
        }
    }

    #[test]
    fn run_length() {
        let enc = [2, b'a', b'b', b'c', 253, b'x', 0, b'!', 128, 5, 5];
        assert_eq!(
            decode_filter(b"RunLengthDecode", None, &enc).unwrap(),
            b"abcxxxx!"
        );
        // Truncated literal run and dangling repeat: tolerated.
        assert_eq!(decode_filter(b"RL", None, &[5, b'a', b'b']).unwrap(), b"ab");
        assert_eq!(decode_filter(b"RL", None, &[200]).unwrap(), b"");
    }

    #[test]
    fn chains_names_parms_and_image_filters() {
        let jpeg = b"\xFF\xD8\xFF\xE0 jpeg bytes";
        // An image filter last: data before it is returned.
        let d = Dict::new().with(
            "Filter",
            vec![Object::name("ASCIIHexDecode"), Object::name("DCTDecode")],
        );
        let hex: String = jpeg.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(decode(&d, hex.as_bytes()).unwrap(), jpeg);
        let d = Dict::new().with("Filter", Object::name("DCTDecode"));
        assert_eq!(decode(&d, jpeg).unwrap(), jpeg);
        // An image filter in the middle: unsupported.
        let d = Dict::new().with(
            "Filter",
            vec![Object::name("DCTDecode"), Object::name("FlateDecode")],
        );
        assert_eq!(decode(&d, jpeg).unwrap_err().kind, ErrorKind::Unsupported);
        // Unknown filter; non-name in the array; no filter at all.
        let d = Dict::new().with("Filter", Object::name("Foo"));
        assert_eq!(decode(&d, b"x").unwrap_err().kind, ErrorKind::Unsupported);
        let d = Dict::new().with("Filter", vec![Object::Int(1)]);
        assert_eq!(decode(&d, b"x").unwrap_err().kind, ErrorKind::Structure);
        let d = Dict::new().with("Filter", ObjRef::new(4, 0));
        assert_eq!(decode(&d, b"x").unwrap_err().kind, ErrorKind::Structure);
        assert_eq!(decode(&Dict::new(), b"as is").unwrap(), b"as is");
        // /DecodeParms as an array with null, applied per filter; /Crypt skipped.
        let p = parms(&[("Predictor", 12), ("Columns", 2)]);
        let png = [2u8, 1, 2, 2, 1, 1];
        let d = Dict::new()
            .with(
                "Filter",
                vec![
                    Object::name("Crypt"),
                    Object::name("A85"),
                    Object::name("Fl"),
                ],
            )
            .with(
                "DecodeParms",
                vec![Object::Dict(Dict::new()), Object::Null, Object::Dict(p)],
            );
        let z = flate_encode(&png);
        let a85 = a85_encode(&z);
        assert_eq!(decode(&d, &a85).unwrap(), [1, 2, 2, 3]);
    }

    fn a85_encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(4) {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            let mut v = u32::from_be_bytes(b);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (v % 85) as u8 + b'!';
                v /= 85;
            }
            out.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        out.extend_from_slice(b"~>");
        out
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        // A cheap stand-in for the fuzzer: pseudo-random bytes through every filter and
        // predictor combination.
        let mut x = 0x1234_5678u32;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let names: [&[u8]; 7] = [b"Fl", b"LZW", b"AHx", b"A85", b"RL", b"DCT", b"Crypt"];
        for round in 0..2000 {
            let len = (rnd() % 300) as usize;
            let data: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
            let name = names[round % names.len()];
            let p = parms(&[
                ("Predictor", [1, 2, 10, 15][round % 4]),
                ("Colors", i64::from(rnd() % 5)),
                ("BitsPerComponent", [1, 2, 4, 8, 16][(rnd() % 5) as usize]),
                ("Columns", i64::from(rnd() % 9)),
                ("EarlyChange", i64::from(rnd() % 2)),
            ]);
            let _ = decode_filter(name, Some(&p), &data);
            let _ = predict(Some(&p), data);
        }
    }
}
