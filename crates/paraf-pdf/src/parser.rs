//! Tokeniser and object parser for PDF syntax (ISO 32000-2 §7.2–7.3), tolerant of real-world files.
//!
//! Every read is bounds-checked: the input is hostile. Nesting is limited to [`MAX_DEPTH`].

use crate::error::{PdfError, Result};
use crate::object::{is_delimiter, is_whitespace, Dict, ObjRef, Object, PdfString, Stream};

/// Deepest nesting of arrays/dictionaries we accept (protects the stack).
pub const MAX_DEPTH: usize = 200;

/// A cursor over the file bytes.
#[derive(Clone)]
pub struct Lexer<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

/// Resolves an indirect `/Length` while a stream is parsed.
pub type LengthResolver<'r> = &'r dyn Fn(ObjRef) -> Option<i64>;

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Self { data, pos }
    }

    pub fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Skips white space and comments.
    pub fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_whitespace(c) {
                self.pos += 1;
            } else if c == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a regular token (keyword or number) without consuming delimiters.
    pub fn regular_token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_whitespace(c) || is_delimiter(c) {
                break;
            }
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// Consumes `kw` (after white space) if it is next; returns whether it was.
    pub fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.data[self.pos.min(self.data.len())..].starts_with(kw) {
            let after = self.data.get(self.pos + kw.len()).copied();
            if after.is_none_or(|c| is_whitespace(c) || is_delimiter(c)) {
                self.pos += kw.len();
                return true;
            }
        }
        self.pos = save;
        false
    }

    /// Reads an unsigned integer token, if the next token is one.
    pub fn uint(&mut self) -> Option<u64> {
        let save = self.pos;
        self.skip_ws();
        let t = self.regular_token();
        if !t.is_empty() && t.iter().all(u8::is_ascii_digit) && t.len() <= 19 {
            std::str::from_utf8(t).ok()?.parse().ok()
        } else {
            self.pos = save;
            None
        }
    }

    /// Parses one direct object (a reference `n g R` counts as one).
    pub fn object(&mut self) -> Result<Object> {
        self.object_depth(0)
    }

    fn object_depth(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return Err(PdfError::syntax(self.pos, "objects nested too deeply"));
        }
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(PdfError::syntax(start, "unexpected end of file"));
        };
        match c {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::String(PdfString::literal(self.literal_string()?)))
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let d = self.dict_body(depth)?;
                Ok(Object::Dict(d))
            }
            b'<' => {
                self.pos += 1;
                Ok(Object::String(PdfString::hex(self.hex_string()?)))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(PdfError::syntax(start, "unterminated array")),
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => items.push(self.object_depth(depth + 1)?),
                    }
                }
                Ok(Object::Array(items))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number_or_ref(),
            _ => {
                let t = self.regular_token();
                match t {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    b"" => Err(PdfError::syntax(
                        start,
                        format!("unexpected character {:?}", c as char),
                    )),
                    _ => Err(PdfError::syntax(
                        start,
                        format!("unexpected keyword {:?}", String::from_utf8_lossy(t)),
                    )),
                }
            }
        }
    }

    fn number_or_ref(&mut self) -> Result<Object> {
        let start = self.pos;
        let t = self.regular_token();
        let n = parse_number(t).ok_or_else(|| PdfError::syntax(start, "malformed number"))?;
        if let Object::Int(num) = n {
            if num >= 0 && num <= u32::MAX as i64 {
                let save = self.pos;
                if let Some(gen) = self.uint() {
                    if gen <= u16::MAX as u64 && self.eat_keyword(b"R") {
                        return Ok(Object::Ref(ObjRef::new(num as u32, gen as u16)));
                    }
                }
                self.pos = save;
            }
        }
        Ok(n)
    }

    fn name_body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if is_whitespace(c) || is_delimiter(c) {
                break;
            }
            self.pos += 1;
            if c == b'#' {
                let h = self.data.get(self.pos..self.pos + 2).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                });
                if let Some(b) = h {
                    self.pos += 2;
                    out.push(b);
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    fn literal_string(&mut self) -> Result<Vec<u8>> {
        let start = self.pos;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(c) = self.peek() else {
                return Err(PdfError::syntax(start, "unterminated string"));
            };
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    out.push(c);
                }
                b'\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    // An end-of-line in a string is a single \n (§7.3.4.2).
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(c),
            }
        }
    }

    fn hex_string(&mut self) -> Result<Vec<u8>> {
        let start = self.pos;
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            let Some(c) = self.peek() else {
                return Err(PdfError::syntax(start, "unterminated hex string"));
            };
            self.pos += 1;
            let v = match c {
                b'>' => break,
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                c if is_whitespace(c) => continue,
                _ => {
                    return Err(PdfError::syntax(
                        self.pos - 1,
                        "bad character in hex string",
                    ))
                }
            };
            match hi.take() {
                Some(h) => out.push(h << 4 | v),
                None => hi = Some(v),
            }
        }
        if let Some(h) = hi {
            out.push(h << 4);
        }
        Ok(out)
    }

    fn dict_body(&mut self, depth: usize) -> Result<Dict> {
        let start = self.pos;
        let mut d = Dict::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(PdfError::syntax(start, "unterminated dictionary")),
                Some(b'>') => {
                    if self.data.get(self.pos + 1) == Some(&b'>') {
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                    }
                    return Ok(d);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let k = self.name_body();
                    self.skip_ws();
                    // A key directly followed by `>>` has no value: treat as null and go on.
                    if self.peek() == Some(b'>') {
                        continue;
                    }
                    let v = self.object_depth(depth + 1)?;
                    // Duplicate keys: the first one wins, as in most readers.
                    if !d.0.iter().any(|(kk, _)| *kk == k) {
                        d.0.push((k, v));
                    }
                }
                Some(_) => {
                    return Err(PdfError::syntax(self.pos, "dictionary key is not a name"));
                }
            }
        }
    }
}

/// Parses a PDF number token (integer or real; tolerates `--5`, `5.`, `.5`, `1.2.3`→1.2).
pub fn parse_number(t: &[u8]) -> Option<Object> {
    if t.is_empty() {
        return None;
    }
    let s = std::str::from_utf8(t).ok()?;
    if let Ok(i) = s.parse::<i64>() {
        return Some(Object::Int(i));
    }
    let trimmed = s.trim_start_matches(['-', '+']);
    let neg = s[..s.len() - trimmed.len()].contains('-');
    // keep the first '.' only
    let mut seen_dot = false;
    let cleaned: String = trimmed
        .chars()
        .filter(|c| {
            if *c == '.' {
                if seen_dot {
                    return false;
                }
                seen_dot = true;
            }
            c.is_ascii_digit() || *c == '.'
        })
        .collect();
    if cleaned.is_empty() || cleaned == "." {
        return if trimmed.is_empty() {
            Some(Object::Int(0))
        } else {
            None
        };
    }
    let v: f64 = cleaned.parse().ok()?;
    Some(Object::Real(if neg { -v } else { v }))
}

/// An indirect object read at a byte offset, with where its parts are in the file.
pub struct IndirectObject {
    pub id: ObjRef,
    pub object: Object,
    /// Offset just past `endobj` (or past the object if `endobj` is missing).
    pub end: usize,
}

/// Where object `num` (the `index`th entry of an object stream's header, as the xref says)
/// starts in the stream's data: the header's `(number, offset)` pairs, the stream's `/First`.
/// Looks the number up when the index does not match (a wrong xref).
pub fn objstm_position(
    offsets: &[(u32, usize)],
    first: usize,
    num: u32,
    index: u32,
) -> Option<usize> {
    offsets
        .get(index as usize)
        .filter(|(n, _)| *n == num)
        .or_else(|| offsets.iter().find(|(n, _)| *n == num))
        .map(|(_, off)| first.saturating_add(*off))
}

/// The integer of the direct object `num gen obj <int>` at `offset` (how an indirect
/// `/Length` is read before its stream).
pub fn int_object_at(data: &[u8], offset: usize) -> Option<i64> {
    let mut lx = Lexer::new(data, offset);
    lx.uint()?;
    lx.uint()?;
    if !lx.eat_keyword(b"obj") {
        return None;
    }
    lx.object().ok()?.as_int()
}

/// Parses `num gen obj … endobj` starting at `offset`.
pub fn parse_indirect(
    data: &[u8],
    offset: usize,
    length_of: LengthResolver<'_>,
) -> Result<IndirectObject> {
    if offset >= data.len() {
        return Err(PdfError::syntax(offset, "object offset beyond end of file"));
    }
    let mut lx = Lexer::new(data, offset);
    let num = lx
        .uint()
        .ok_or_else(|| PdfError::syntax(offset, "expected object number"))?;
    let gen = lx
        .uint()
        .ok_or_else(|| PdfError::syntax(offset, "expected generation number"))?;
    if !lx.eat_keyword(b"obj") {
        return Err(PdfError::syntax(offset, "expected `obj`"));
    }
    if num > u32::MAX as u64 || gen > u16::MAX as u64 {
        return Err(PdfError::syntax(offset, "object number out of range"));
    }
    let id = ObjRef::new(num as u32, gen as u16);
    let mut object = lx.object()?;
    if let Object::Dict(dict) = &object {
        let save = lx.pos;
        if lx.eat_keyword(b"stream") {
            let stream = read_stream_body(&mut lx, dict.clone(), length_of)?;
            object = Object::Stream(stream);
        } else {
            lx.pos = save;
        }
    }
    if !lx.eat_keyword(b"endobj") {
        // Tolerated: many writers forget it; the object is complete anyway.
    }
    Ok(IndirectObject {
        id,
        object,
        end: lx.pos,
    })
}

/// After the `stream` keyword: EOL, then `/Length` bytes, then `endstream`.
fn read_stream_body(
    lx: &mut Lexer<'_>,
    dict: Dict,
    length_of: LengthResolver<'_>,
) -> Result<Stream> {
    let data = lx.data;
    // The keyword is followed by CRLF or LF (a lone CR is tolerated).
    match data.get(lx.pos) {
        Some(b'\r') if data.get(lx.pos + 1) == Some(&b'\n') => lx.pos += 2,
        Some(b'\n') | Some(b'\r') => lx.pos += 1,
        _ => {}
    }
    let start = lx.pos;
    let declared = match dict.get("Length") {
        Some(Object::Int(n)) => Some(*n),
        Some(Object::Ref(r)) => length_of(*r),
        _ => None,
    };
    if let Some(len) = declared {
        if len >= 0 {
            let end = start.saturating_add(len as usize);
            if end <= data.len() {
                let mut probe = Lexer::new(data, end);
                if probe.eat_keyword(b"endstream") {
                    lx.pos = probe.pos;
                    return Ok(Stream {
                        dict,
                        data: data[start..end].to_vec(),
                    });
                }
            }
        }
    }
    // Wrong or missing /Length: find `endstream` and trim the EOL before it.
    let rel = find(&data[start..], b"endstream")
        .ok_or_else(|| PdfError::syntax(start, "stream without endstream"))?;
    let mut end = start + rel;
    if end > start && data[end - 1] == b'\n' {
        end -= 1;
    }
    if end > start && data[end - 1] == b'\r' {
        end -= 1;
    }
    lx.pos = start + rel + b"endstream".len();
    Ok(Stream {
        dict,
        data: data[start..end].to_vec(),
    })
}

/// First position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Last position of `needle` in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Object {
        Lexer::new(s.as_bytes(), 0).object().unwrap()
    }

    #[test]
    fn parses_nested_structures_and_refs() {
        let o = parse("<</A [1 2.5 -3 (x\\)y) <414> /N#20x 4 0 R true null] /B<</C 7 0 R>>>>");
        let d = o.as_dict().unwrap();
        let a = d.get("A").unwrap().as_array().unwrap();
        assert_eq!(a[0], Object::Int(1));
        assert_eq!(a[1], Object::Real(2.5));
        assert_eq!(a[2], Object::Int(-3));
        assert_eq!(a[3].as_string().unwrap(), b"x)y");
        assert_eq!(a[4].as_string().unwrap(), &[0x41, 0x40]);
        assert_eq!(a[5].as_name().unwrap(), b"N x");
        assert_eq!(a[6], Object::Ref(ObjRef::new(4, 0)));
        assert_eq!(a[7], Object::Bool(true));
        let b = d.get("B").unwrap().as_dict().unwrap();
        assert_eq!(b.get("C").unwrap().as_ref(), Some(ObjRef::new(7, 0)));
    }

    #[test]
    fn octal_and_line_continuations_in_strings() {
        let o = parse("(a\\101\\7b\\\nc\r\nd)");
        assert_eq!(o.as_string().unwrap(), b"aA\x07bc\nd");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = "[".repeat(100_000);
        assert!(Lexer::new(s.as_bytes(), 0).object().is_err());
    }

    #[test]
    fn stream_with_wrong_length_is_recovered() {
        let f = b"3 0 obj <</Length 999>> stream\nhello\nendstream endobj";
        let o = parse_indirect(f, 0, &|_| None).unwrap();
        assert_eq!(o.object.as_stream().unwrap().data, b"hello");
    }

    #[test]
    fn indirect_length_is_resolved() {
        let f = b"3 0 obj <</Length 4 0 R>> stream\r\nhel\nendstream endobj";
        let o = parse_indirect(f, 0, &|r| (r.num == 4).then_some(3)).unwrap();
        assert_eq!(o.object.as_stream().unwrap().data, b"hel");
    }
}
