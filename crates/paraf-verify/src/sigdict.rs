//! Finding the signatures of a document (signature fields of the AcroForm and their `/V`) and
//! reading a signature dictionary *by position*: where its `/Contents` string and `/ByteRange`
//! array really are in the file, which is what the byte range must be checked against.

use std::collections::HashSet;

use paraf_pdf::parser::Lexer;
use paraf_pdf::{Dict, Document, ObjRef, Object};

/// A signature value found through a signature field.
#[derive(Clone, Debug)]
pub struct FoundSig {
    pub field_name: Option<String>,
    pub other_fields: Vec<String>,
    pub sig_ref: Option<ObjRef>,
    /// The signature dictionary as the final revision has it (decrypted).
    pub dict: Dict,
}

/// Signature fields with a value, depth-first through `/Fields` and `/Kids`.
pub fn find_signatures(doc: &Document) -> Vec<FoundSig> {
    let mut out: Vec<FoundSig> = Vec::new();
    let Ok(cat) = doc.catalog() else { return out };
    let Ok(Object::Dict(form)) = doc.resolve_key(&cat, "AcroForm") else {
        return out;
    };
    let Ok(fields) = doc.resolve_key(&form, "Fields") else {
        return out;
    };
    let mut seen = HashSet::new();
    let mut stack = field_stack(&fields);
    while let Some((f, parent, parent_ft, depth)) = stack.pop() {
        if depth > 32 || seen.len() > 100_000 {
            continue;
        }
        if let Object::Ref(r) = f {
            if !seen.insert(r) {
                continue;
            }
        }
        let Ok(Object::Dict(d)) = doc.resolve(&f) else {
            continue;
        };
        let partial = d
            .get("T")
            .and_then(|t| doc.resolve(t).ok())
            .and_then(|t| t.as_string().map(paraf_pdf::object::decode_text));
        let full = match (&partial, parent.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent}.{p}"),
            (None, _) => parent.clone(),
        };
        let ft = d.name("FT").map(<[u8]>::to_vec).or(parent_ft);
        if let Ok(Object::Array(kids)) = doc.resolve_key(&d, "Kids") {
            for k in kids.iter().rev() {
                stack.push((k.clone(), full.clone(), ft.clone(), depth + 1));
            }
        }
        if ft.as_deref() != Some(b"Sig") {
            continue;
        }
        let Some(v) = d.get("V") else { continue };
        let sig_ref = v.as_ref();
        let Ok(value) = doc.resolve(v) else { continue };
        let Some(sd) = value.as_dict() else { continue };
        let name = (!full.is_empty()).then_some(full);
        if let Some(existing) = out
            .iter_mut()
            .find(|s| s.sig_ref.is_some() && s.sig_ref == sig_ref)
        {
            if let Some(n) = name {
                existing.other_fields.push(n);
            }
            continue;
        }
        out.push(FoundSig {
            field_name: name,
            other_fields: Vec::new(),
            sig_ref,
            dict: sd.clone(),
        });
    }
    out
}

/// A signature dictionary as it stands in the file bytes.
#[derive(Clone, Debug, Default)]
pub struct RawSigDict {
    /// `/ByteRange` as written there.
    pub byte_range: Option<Vec<i64>>,
    /// Span of the `/Contents` value, `<` to `>` inclusive: `[start, end)`.
    pub contents_span: Option<(usize, usize)>,
    /// The `/Contents` bytes (decoded hex).
    pub contents: Vec<u8>,
    pub contents_is_hex: bool,
    /// Keys that appear more than once (signature wrapping puts a second `/ByteRange` in).
    pub duplicate_keys: Vec<String>,
    /// Offset just past the dictionary.
    pub end: usize,
}

/// Parses object `num` at `offset` and records where `/Contents` and `/ByteRange` are.
pub fn parse_at(data: &[u8], offset: usize, num: u32) -> Result<RawSigDict, String> {
    let mut lx = Lexer::new(data, offset);
    let n = lx
        .uint()
        .ok_or("no object number at the signature's offset")?;
    lx.uint()
        .ok_or("no generation number at the signature's offset")?;
    if n != u64::from(num) || !lx.eat_keyword(b"obj") {
        return Err(format!(
            "the cross-reference offset {offset} of the signature object {num} does not point to it"
        ));
    }
    lx.skip_ws();
    if data.get(lx.pos..lx.pos + 2) != Some(b"<<") {
        return Err(format!("signature object {num} is not a dictionary"));
    }
    lx.pos += 2;
    let mut out = RawSigDict::default();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    loop {
        lx.skip_ws();
        match (lx.peek(), data.get(lx.pos + 1)) {
            (Some(b'>'), Some(b'>')) => {
                lx.pos += 2;
                break;
            }
            (Some(b'/'), _) => {}
            (None, _) => return Err(format!("signature object {num} is unterminated")),
            _ => {
                return Err(format!(
                    "signature object {num}: a key is not a name at byte {}",
                    lx.pos
                ))
            }
        }
        let key = match lx.object() {
            Ok(Object::Name(k)) => k,
            _ => {
                return Err(format!(
                    "signature object {num}: bad key at byte {}",
                    lx.pos
                ))
            }
        };
        lx.skip_ws();
        let start = lx.pos;
        let value = lx
            .object()
            .map_err(|e| format!("signature object {num}: {e}"))?;
        let end = lx.pos;
        if keys.contains(&key) {
            out.duplicate_keys
                .push(String::from_utf8_lossy(&key).into_owned());
            continue;
        }
        keys.push(key.clone());
        match key.as_slice() {
            b"Contents" => {
                if let Object::String(s) = &value {
                    out.contents_is_hex = s.hex;
                    out.contents = s.bytes.clone();
                    out.contents_span = Some((start, end));
                }
            }
            b"ByteRange" => {
                out.byte_range = value
                    .as_array()
                    .map(|a| a.iter().map(|x| x.as_int().unwrap_or(-1)).collect());
            }
            _ => {}
        }
    }
    out.end = lx.pos;
    Ok(out)
}

/// A form field on the walk through the field tree: the object, its parent's full name, the
/// field type inherited from the parent, and the depth.
pub(crate) type FieldStep = (Object, String, Option<Vec<u8>>, usize);

/// The walk's start: the AcroForm's `/Fields`, first field on top.
pub(crate) fn field_stack(fields: &Object) -> Vec<FieldStep> {
    fields
        .as_array()
        .unwrap_or(&[])
        .iter()
        .rev()
        .map(|f| (f.clone(), String::new(), None, 0))
        .collect()
}
