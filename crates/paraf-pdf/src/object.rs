//! The PDF object model (ISO 32000-2 §7.3) and its serialisation.
//!
//! Objects are owned values; dictionaries keep their key order so that what we write back
//! looks like what we read. Strings are raw bytes: their text encoding is the caller's business.

use std::fmt;

/// An indirect reference `num gen R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub num: u32,
    pub gen: u16,
}

impl ObjRef {
    pub const fn new(num: u32, gen: u16) -> Self {
        Self { num, gen }
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.num, self.gen)
    }
}

/// A string object; `hex` remembers whether it was written `<…>` (only for faithful output).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PdfString {
    pub bytes: Vec<u8>,
    pub hex: bool,
}

impl PdfString {
    pub fn literal(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            hex: false,
        }
    }
    pub fn hex(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            hex: true,
        }
    }
    /// A text string (§7.9.2.2): PDFDocEncoding when it is ASCII, else UTF-16BE with a BOM.
    pub fn text(s: &str) -> Self {
        if s.is_ascii() {
            Self::literal(s.as_bytes())
        } else {
            let mut b = vec![0xFE, 0xFF];
            for u in s.encode_utf16() {
                b.extend_from_slice(&u.to_be_bytes());
            }
            Self::literal(b)
        }
    }
    /// Decodes a text string (UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding ≈ Latin-1).
    pub fn to_text(&self) -> String {
        decode_text(&self.bytes)
    }
}

/// Decodes a PDF text string (§7.9.2.2).
pub fn decode_text(b: &[u8]) -> String {
    if b.len() >= 2 && b[0] == 0xFE && b[1] == 0xFF {
        let units: Vec<u16> = b[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if b.len() >= 3 && b[..3] == [0xEF, 0xBB, 0xBF] {
        String::from_utf8_lossy(&b[3..]).into_owned()
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}

/// A dictionary with keys in insertion order. Keys are names without the leading `/`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn new() -> Self {
        Self(Vec::new())
    }
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Object> {
        self.0
            .iter_mut()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Sets `key`, replacing an existing value in place (order kept) or appending.
    pub fn set(&mut self, key: &str, value: impl Into<Object>) {
        let value = value.into();
        match self.get_mut(key) {
            Some(v) => *v = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }
    pub fn remove(&mut self, key: &str) -> Option<Object> {
        let i = self.0.iter().position(|(k, _)| k == key.as_bytes())?;
        Some(self.0.remove(i).1)
    }
    /// The value of `key` if it is a name.
    pub fn name(&self, key: &str) -> Option<&[u8]> {
        self.get(key).and_then(Object::as_name)
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Object::as_int)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.0.iter().map(|(k, v)| (k.as_slice(), v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Builder-style insert.
    pub fn with(mut self, key: &str, value: impl Into<Object>) -> Self {
        self.set(key, value);
        self
    }
}

/// A stream: its dictionary and its data exactly as stored in the file (still filtered;
/// decrypted by [`crate::Document`] when read from an encrypted file).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stream {
    pub dict: Dict,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Object {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    String(PdfString),
    Name(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Stream(Stream),
    Ref(ObjRef),
}

impl Object {
    pub fn name(n: &str) -> Self {
        Object::Name(n.as_bytes().to_vec())
    }
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            Object::Real(r) if r.fract() == 0.0 => Some(*r as i64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Int(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }
    pub fn as_dict_mut(&mut self) -> Option<&mut Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&mut s.dict),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String(s) => Some(&s.bytes),
            _ => None,
        }
    }
    pub fn as_ref(&self) -> Option<ObjRef> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }
    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Object::Stream(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Object::Null)
    }

    /// Serialises the object in PDF syntax.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Object::Real(r) => write_real(*r, out),
            Object::String(s) => write_string(s, out),
            Object::Name(n) => write_name(n, out),
            Object::Array(a) => {
                out.push(b'[');
                for (i, o) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    o.write_to(out);
                }
                out.push(b']');
            }
            Object::Dict(d) => write_dict(d, out),
            Object::Stream(s) => {
                let mut dict = s.dict.clone();
                dict.set("Length", Object::Int(s.data.len() as i64));
                write_dict(&dict, out);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&s.data);
                out.extend_from_slice(b"\nendstream");
            }
            Object::Ref(r) => out.extend_from_slice(format!("{} {} R", r.num, r.gen).as_bytes()),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }
}

/// Writes a real number without exponent, trimmed of trailing zeros.
pub fn write_real(r: f64, out: &mut Vec<u8>) {
    if !r.is_finite() {
        out.push(b'0');
        return;
    }
    let mut s = format!("{r:.4}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_dict(d: &Dict, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_name(k, out);
        out.push(b' ');
        v.write_to(out);
    }
    out.extend_from_slice(b">>");
}

fn write_name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &c in n {
        if c.is_ascii_graphic() && !is_delimiter(c) && c != b'#' {
            out.push(c);
        } else {
            out.extend_from_slice(format!("#{c:02X}").as_bytes());
        }
    }
}

fn write_string(s: &PdfString, out: &mut Vec<u8>) {
    if s.hex {
        out.push(b'<');
        out.extend_from_slice(hex_upper(&s.bytes).as_bytes());
        out.push(b'>');
        return;
    }
    out.push(b'(');
    for &c in &s.bytes {
        match c {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(c),
        }
    }
    out.push(b')');
}

pub(crate) fn hex_upper(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(b.len() * 2);
    for &c in b {
        s.push(H[(c >> 4) as usize] as char);
        s.push(H[(c & 15) as usize] as char);
    }
    s
}

/// PDF white-space characters (§7.2.3).
pub fn is_whitespace(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

/// PDF delimiter characters (§7.2.3).
pub fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

impl From<i64> for Object {
    fn from(i: i64) -> Self {
        Object::Int(i)
    }
}
impl From<i32> for Object {
    fn from(i: i32) -> Self {
        Object::Int(i as i64)
    }
}
impl From<u32> for Object {
    fn from(i: u32) -> Self {
        Object::Int(i as i64)
    }
}
impl From<usize> for Object {
    fn from(i: usize) -> Self {
        Object::Int(i as i64)
    }
}
impl From<f64> for Object {
    fn from(r: f64) -> Self {
        Object::Real(r)
    }
}
impl From<bool> for Object {
    fn from(b: bool) -> Self {
        Object::Bool(b)
    }
}
impl From<ObjRef> for Object {
    fn from(r: ObjRef) -> Self {
        Object::Ref(r)
    }
}
impl From<Dict> for Object {
    fn from(d: Dict) -> Self {
        Object::Dict(d)
    }
}
impl From<PdfString> for Object {
    fn from(s: PdfString) -> Self {
        Object::String(s)
    }
}
impl From<Vec<Object>> for Object {
    fn from(a: Vec<Object>) -> Self {
        Object::Array(a)
    }
}
impl From<Stream> for Object {
    fn from(s: Stream) -> Self {
        Object::Stream(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_names_strings_and_reals() {
        let d = Dict::new()
            .with("Type", Object::name("Sig"))
            .with("Name", PdfString::literal(b"a(b)\\c".to_vec()))
            .with("N", Object::Real(1.50))
            .with("Odd Name", Object::name("A B#"));
        assert_eq!(
            String::from_utf8(Object::Dict(d).to_bytes()).unwrap(),
            r"<</Type /Sig/Name (a\(b\)\\c)/N 1.5/Odd#20Name /A#20B#23>>"
        );
    }

    #[test]
    fn text_strings_roundtrip_non_latin() {
        let s = PdfString::text("Budi Śantoso 王");
        assert_eq!(&s.bytes[..2], &[0xFE, 0xFF]);
        assert_eq!(s.to_text(), "Budi Śantoso 王");
    }
}
