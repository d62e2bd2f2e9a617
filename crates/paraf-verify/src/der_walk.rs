//! A minimal DER TLV reader over borrowed bytes, for the few places where the exact bytes of
//! a structure matter (the signed attributes are verified as they were encoded, not re-encoded).

/// One tag-length-value.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub full: &'a [u8],
}

/// Reads one TLV from the start of `buf`; returns it and the rest.
pub fn read(buf: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *buf.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in the structures we walk
    }
    let first = *buf.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None; // indefinite or absurd lengths
        }
        let bytes = buf.get(2..2 + n)?;
        (
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize),
            2 + n,
        )
    };
    let end = header.checked_add(len)?;
    let full = buf.get(..end)?;
    Some((
        Tlv {
            tag,
            content: full.get(header..)?,
            full,
        },
        buf.get(end..)?,
    ))
}

/// The children of a constructed value.
pub fn children(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = read(content)?;
        out.push(t);
        content = rest;
        if out.len() > 100_000 {
            return None;
        }
    }
    Some(out)
}

/// Length of the DER value at the start of `buf` (to strip the zero padding after a CMS blob).
pub fn outer_len(buf: &[u8]) -> Option<usize> {
    read(buf).map(|(t, _)| t.full.len())
}

/// The raw `signedAttrs` of the first SignerInfo of a ContentInfo(SignedData), re-tagged as the
/// `SET OF` that was signed (RFC 5652 §5.4), and the raw signature value.
pub fn signed_attrs_and_signature(ci: &[u8]) -> Option<(Option<Vec<u8>>, Vec<u8>)> {
    let (ci, _) = read(ci)?;
    let kids = children(ci.content)?;
    let wrapper = kids.get(1)?;
    let (sd, _) = read(wrapper.content)?;
    let sd_kids = children(sd.content)?;
    let infos = sd_kids.last()?;
    if infos.tag != 0x31 {
        return None;
    }
    let (si, _) = read(infos.content)?;
    let si_kids = children(si.content)?;
    let mut attrs = None;
    let mut sig = None;
    for (i, k) in si_kids.iter().enumerate() {
        if i >= 3 && k.tag == 0xa0 && attrs.is_none() && sig.is_none() {
            let mut v = k.full.to_vec();
            if let Some(first) = v.first_mut() {
                *first = 0x31;
            }
            attrs = Some(v);
        } else if i >= 3 && k.tag == 0x04 && sig.is_none() {
            sig = Some(k.content.to_vec());
        }
    }
    Some((attrs, sig?))
}

/// Bit length of an RSA modulus from an `RSAPublicKey` DER.
pub fn rsa_modulus_bits(key: &[u8]) -> Option<usize> {
    let (seq, _) = read(key)?;
    let (n, _) = read(seq.content)?;
    let bytes = n.content.iter().skip_while(|&&b| b == 0).count();
    Some(bytes * 8)
}

/// Most nesting the BER converter follows (hostile input).
const MAX_BER_DEPTH: usize = 64;

/// Converts BER (indefinite lengths, constructed OCTET STRINGs) to DER lengths, keeping every
/// definite-length value that needs no change byte for byte (the signed attributes stay as
/// they were signed). Returns `None` on malformed input.
pub fn ber_to_der(buf: &[u8]) -> Option<Vec<u8>> {
    let (out, _) = convert(buf, 0)?;
    Some(out)
}

/// Reads a tag (possibly multi-byte) and returns (tag bytes, constructed, rest).
fn read_tag(buf: &[u8]) -> Option<(&[u8], bool, &[u8])> {
    let first = *buf.first()?;
    let mut n = 1;
    if first & 0x1f == 0x1f {
        loop {
            let b = *buf.get(n)?;
            n += 1;
            if b & 0x80 == 0 || n > 6 {
                break;
            }
        }
    }
    Some((buf.get(..n)?, first & 0x20 != 0, buf.get(n..)?))
}

/// Reads a length: `Some(None)` is indefinite.
fn read_len(buf: &[u8]) -> Option<(Option<usize>, &[u8])> {
    let first = *buf.first()?;
    if first < 0x80 {
        return Some((Some(first as usize), buf.get(1..)?));
    }
    if first == 0x80 {
        return Some((None, buf.get(1..)?));
    }
    let n = (first & 0x7f) as usize;
    if n > 4 {
        return None;
    }
    let bytes = buf.get(1..1 + n)?;
    Some((
        Some(bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize)),
        buf.get(1 + n..)?,
    ))
}

/// Converts one TLV at the start of `buf`; returns it and the number of bytes consumed.
fn convert(buf: &[u8], depth: usize) -> Option<(Vec<u8>, usize)> {
    if depth > MAX_BER_DEPTH {
        return None;
    }
    let (tag, constructed, rest) = read_tag(buf)?;
    let (len, mut body) = read_len(rest)?;
    let header_len = buf.len() - body.len();
    let is_octets = tag == [0x24];
    match len {
        Some(l) if !constructed => {
            let total = header_len.checked_add(l)?;
            Some((buf.get(..total)?.to_vec(), total))
        }
        Some(l) => {
            let total = header_len.checked_add(l)?;
            let content = body.get(..l)?;
            let (mut children, mut changed) = convert_children(content, depth, None)?;
            changed |= certificate_set(tag, depth, &mut children);
            if !changed && !is_octets {
                return Some((buf.get(..total)?.to_vec(), total));
            }
            Some((emit(tag, is_octets, &children), total))
        }
        None => {
            if !constructed {
                return None;
            }
            let mut children = Vec::new();
            let mut consumed = header_len;
            loop {
                if body.get(..2) == Some(&[0, 0]) {
                    consumed += 2;
                    break;
                }
                let (c, n) = convert(body, depth + 1)?;
                children.push(c);
                body = body.get(n..)?;
                consumed += n;
            }
            certificate_set(tag, depth, &mut children);
            Some((emit(tag, is_octets, &children), consumed))
        }
    }
}

/// The `certificates [0]` and `crls [1]` SETs of a SignedData (depth 3: ContentInfo, its
/// `[0]`, the SignedData, then these) in DER order without repeats: some signers (NSS, as
/// pdfsig uses it) put a certificate in twice, which a SET OF may not hold in DER. Only these
/// two sets are touched: anything else is copied as it is (certificates keep their bytes).
/// Returns whether the children changed.
fn certificate_set(tag: &[u8], depth: usize, children: &mut Vec<Vec<u8>>) -> bool {
    if depth != 3 || !(tag == [0xa0] || tag == [0xa1]) {
        return false;
    }
    let before = children.clone();
    children.sort();
    children.dedup();
    *children != before
}

fn convert_children(
    mut content: &[u8],
    depth: usize,
    _: Option<()>,
) -> Option<(Vec<Vec<u8>>, bool)> {
    let mut out = Vec::new();
    let mut changed = false;
    while !content.is_empty() {
        let (c, n) = convert(content, depth + 1)?;
        if c.as_slice() != content.get(..n)? {
            changed = true;
        }
        out.push(c);
        content = content.get(n..)?;
    }
    Some((out, changed))
}

/// Emits a constructed value from converted children; a constructed OCTET STRING becomes a
/// primitive one holding the concatenated pieces.
fn emit(tag: &[u8], is_octets: bool, children: &[Vec<u8>]) -> Vec<u8> {
    let mut content = Vec::new();
    if is_octets {
        for c in children {
            if let Some((t, _)) = read(c) {
                content.extend_from_slice(t.content);
            }
        }
        let mut out = vec![0x04];
        paraf_pki::cms::push_der_length(&mut out, content.len());
        out.extend_from_slice(&content);
        return out;
    }
    for c in children {
        content.extend_from_slice(c);
    }
    let mut out = tag.to_vec();
    paraf_pki::cms::push_der_length(&mut out, content.len());
    out.extend_from_slice(&content);
    out
}

#[cfg(test)]
mod ber_tests {
    use super::*;

    /// A ContentInfo of indefinite lengths whose SignedData holds one "certificate" twice
    /// (as NSS writes it), and a `[0]` deeper down with a repeat that must stay.
    #[test]
    fn a_repeated_certificate_is_dropped_only_from_the_certificate_set() {
        let cert = [0x30, 0x03, 0x02, 0x01, 0x07];
        let deeper = [0xa0, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01, 0x01];
        let mut sd = vec![0x30, 0x80, 0x02, 0x01, 0x01, 0xa0, 0x0a];
        sd.extend_from_slice(&cert);
        sd.extend_from_slice(&cert);
        sd.extend_from_slice(&[0x31, 0x08]);
        sd.extend_from_slice(&deeper);
        sd.extend_from_slice(&[0x00, 0x00]);
        let mut ci = vec![0x30, 0x80, 0x06, 0x01, 0x2a, 0xa0, 0x80];
        ci.extend_from_slice(&sd);
        ci.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]);
        let der = ber_to_der(&ci).unwrap();
        let (outer, rest) = read(&der).unwrap();
        assert!(rest.is_empty());
        let (_, after_oid) = read(outer.content).unwrap();
        let (explicit, _) = read(after_oid).unwrap();
        let (signed_data, _) = read(explicit.content).unwrap();
        let (_, after_version) = read(signed_data.content).unwrap();
        let (certs, after_certs) = read(after_version).unwrap();
        assert_eq!(certs.tag, 0xa0);
        assert_eq!(certs.content, &cert[..], "one copy left");
        let (set, _) = read(after_certs).unwrap();
        assert_eq!(set.content, &deeper[..], "deeper repeats untouched");
    }
}
