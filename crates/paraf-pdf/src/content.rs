//! Content stream tokeniser (ISO 32000-2 §7.8.2): a flat list of operands followed by an operator.
//!
//! The same PostScript-like syntax is used by CMap files (§9.7.5, §9.10.3), which
//! [`crate::font`] reads with this tokeniser too.
//!
//! **Invariant**: [`parse_content`] never fails and never panics. Content streams in the wild are
//! often damaged; what cannot be read is skipped byte by byte, and an unterminated string or
//! array ends the stream (everything after it would have been inside it). Work is linear in the
//! input size, so hostile input cannot make it slow.
//!
//! Inline images (`BI … ID data EI`, §8.9.7) are reported as one `BI` operation whose single
//! operand is the image dictionary; the image data is skipped, never tokenised.

use crate::object::{is_delimiter, is_whitespace, Dict, Object, PdfString};
use crate::parser::{parse_number, Lexer};

/// Deepest nesting of arrays and dictionaries inside an operand.
const MAX_DEPTH: usize = 64;

/// Operands kept before an operator; a content stream never needs more than a handful
/// (a CMap's `beginbfchar` block holds at most 200 pairs, `sh`/`SCN` a few dozen).
const MAX_OPERANDS: usize = 4096;

/// One operator with the operands that preceded it, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub operator: Vec<u8>,
    pub operands: Vec<Object>,
}

impl Operation {
    /// The operand at `i` as a number.
    pub fn number(&self, i: usize) -> Option<f64> {
        self.operands.get(i).and_then(Object::as_f64)
    }
}

/// Tokenises a (decoded) content stream. Tolerant: garbage is skipped, never an error.
pub fn parse_content(data: &[u8]) -> Vec<Operation> {
    let mut p = ContentParser {
        lx: Lexer::new(data, 0),
        stop: false,
    };
    let mut ops = Vec::new();
    let mut operands: Vec<Object> = Vec::new();
    loop {
        p.lx.skip_ws();
        let Some(c) = p.lx.peek() else { break };
        match p.operand_or_keyword(c, 0) {
            Token::Operand(o) => {
                if operands.len() >= MAX_OPERANDS {
                    operands.clear();
                }
                operands.push(o);
            }
            Token::Keyword(k) if k == b"BI" => {
                let dict = p.inline_image();
                operands.clear();
                ops.push(Operation {
                    operator: b"BI".to_vec(),
                    operands: vec![Object::Dict(dict)],
                });
            }
            Token::Keyword(k) => ops.push(Operation {
                operator: k,
                operands: std::mem::take(&mut operands),
            }),
            Token::Skip => {}
        }
        if p.stop {
            break;
        }
    }
    ops
}

enum Token {
    Operand(Object),
    Keyword(Vec<u8>),
    /// Garbage that was stepped over.
    Skip,
}

struct ContentParser<'a> {
    lx: Lexer<'a>,
    /// Set when the rest of the input was swallowed by an unterminated construct.
    stop: bool,
}

impl ContentParser<'_> {
    /// Reads the token at the cursor (white space already skipped; `c` is the next byte).
    /// Always consumes at least one byte unless at the end.
    fn operand_or_keyword(&mut self, c: u8, depth: usize) -> Token {
        match c {
            b'/' | b'(' => match self.lx.object() {
                Ok(o) => Token::Operand(o),
                Err(_) => {
                    // Only an unterminated literal string fails here: it ran to the end.
                    self.finish();
                    Token::Skip
                }
            },
            b'<' if self.lx.data.get(self.lx.pos + 1) == Some(&b'<') => {
                self.lx.pos += 2;
                match self.dict_body(depth) {
                    Some(d) => Token::Operand(Object::Dict(d)),
                    None => Token::Skip,
                }
            }
            b'<' => {
                self.lx.pos += 1;
                Token::Operand(Object::String(PdfString::hex(self.hex_string())))
            }
            b'[' => {
                self.lx.pos += 1;
                match self.array_body(depth) {
                    Some(a) => Token::Operand(Object::Array(a)),
                    None => Token::Skip,
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let t = self.lx.regular_token();
                match parse_number(t) {
                    Some(n) => Token::Operand(n),
                    None if t.is_empty() => {
                        self.lx.pos += 1;
                        Token::Skip
                    }
                    None => Token::Skip,
                }
            }
            _ if is_delimiter(c) => {
                // `)`, `>`, `]`, `{`, `}` out of place (or PostScript procedures in a CMap).
                self.lx.pos += 1;
                Token::Skip
            }
            _ => {
                let t = self.lx.regular_token();
                match t {
                    b"" => {
                        self.lx.pos += 1;
                        Token::Skip
                    }
                    b"true" => Token::Operand(Object::Bool(true)),
                    b"false" => Token::Operand(Object::Bool(false)),
                    b"null" => Token::Operand(Object::Null),
                    _ => Token::Keyword(t.to_vec()),
                }
            }
        }
    }

    fn finish(&mut self) {
        self.lx.pos = self.lx.data.len();
        self.stop = true;
    }

    /// After `<`: hex digits up to `>`; other characters are ignored.
    fn hex_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        while let Some(c) = self.lx.peek() {
            self.lx.pos += 1;
            let v = match c {
                b'>' => break,
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => continue,
            };
            match hi.take() {
                Some(h) => out.push(h << 4 | v),
                None => hi = Some(v),
            }
        }
        if let Some(h) = hi {
            out.push(h << 4);
        }
        out
    }

    /// After `[`: operands up to `]`; keywords inside are dropped. `None` when unterminated
    /// (the input is then consumed) or nested too deeply.
    fn array_body(&mut self, depth: usize) -> Option<Vec<Object>> {
        if depth >= MAX_DEPTH {
            self.finish();
            return None;
        }
        let mut items = Vec::new();
        loop {
            self.lx.skip_ws();
            let Some(c) = self.lx.peek() else {
                self.finish();
                return None;
            };
            if c == b']' {
                self.lx.pos += 1;
                return Some(items);
            }
            match self.operand_or_keyword(c, depth + 1) {
                Token::Operand(o) => items.push(o),
                Token::Keyword(_) | Token::Skip => {}
            }
            if self.stop {
                return None;
            }
        }
    }

    /// After `<<`: name/value pairs up to `>>`. `None` when unterminated or too deep.
    fn dict_body(&mut self, depth: usize) -> Option<Dict> {
        if depth >= MAX_DEPTH {
            self.finish();
            return None;
        }
        let mut d = Dict::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            self.lx.skip_ws();
            let Some(c) = self.lx.peek() else {
                self.finish();
                return None;
            };
            if c == b'>' {
                self.lx.pos += 1;
                if self.lx.peek() == Some(b'>') {
                    self.lx.pos += 1;
                }
                return Some(d);
            }
            let value = match self.operand_or_keyword(c, depth + 1) {
                Token::Operand(o) => o,
                Token::Keyword(_) | Token::Skip => continue,
            };
            if self.stop {
                return None;
            }
            match key.take() {
                Some(k) => {
                    if !d.0.iter().any(|(kk, _)| *kk == k) {
                        d.0.push((k, value));
                    }
                }
                None => {
                    // A value without a key is dropped.
                    if let Object::Name(n) = value {
                        key = Some(n);
                    }
                }
            }
        }
    }

    /// After `BI`: the image dictionary up to `ID`, then the data skipped up to `EI`.
    fn inline_image(&mut self) -> Dict {
        let mut d = Dict::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            self.lx.skip_ws();
            let Some(c) = self.lx.peek() else {
                return d;
            };
            match self.operand_or_keyword(c, 0) {
                Token::Keyword(k) if k == b"ID" => break,
                Token::Keyword(k) if k == b"EI" => return d,
                Token::Keyword(_) | Token::Skip => {}
                Token::Operand(o) => match key.take() {
                    Some(k) => d.0.push((k, o)),
                    None => {
                        if let Object::Name(n) = o {
                            key = Some(n);
                        }
                    }
                },
            }
            if self.stop {
                return d;
            }
        }
        // One white-space byte separates `ID` from the data.
        if self.lx.peek().is_some_and(is_whitespace) {
            self.lx.pos += 1;
        }
        self.skip_image_data(&d);
        d
    }

    /// Moves past the inline image data and its `EI`.
    ///
    /// With a declared length (`/L`, `/Length`, PDF 2.0) that lands on `EI`, trust it. Otherwise
    /// look for `EI` between white space followed by what looks like content (printable bytes):
    /// binary image data may contain ` EI ` by chance, so a candidate followed by binary garbage
    /// is rejected.
    fn skip_image_data(&mut self, d: &Dict) {
        let data = self.lx.data;
        let start = self.lx.pos;
        let declared = d
            .get("L")
            .or_else(|| d.get("Length"))
            .and_then(Object::as_int)
            .filter(|n| *n >= 0)
            .and_then(|n| usize::try_from(n).ok());
        if let Some(n) = declared {
            let mut probe = Lexer::new(data, start.saturating_add(n).min(data.len()));
            if probe.eat_keyword(b"EI") {
                self.lx.pos = probe.pos;
                return;
            }
        }
        let mut i = start;
        while let Some(rel) = data.get(i..).and_then(|rest| find2(rest, b'E', b'I')) {
            let at = i + rel;
            let before_ok = at == start
                || data
                    .get(at.wrapping_sub(1))
                    .is_some_and(|c| is_whitespace(*c));
            let after = data.get(at + 2).copied();
            let after_ok = after.is_none_or(|c| is_whitespace(c) || is_delimiter(c));
            if before_ok && after_ok && looks_like_content(data.get(at + 2..).unwrap_or(&[])) {
                self.lx.pos = at + 2;
                return;
            }
            i = at + 1;
        }
        self.finish();
    }
}

fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    hay.windows(2).position(|w| w == [a, b])
}

/// Whether what follows a candidate `EI` is plausibly more content: the next bytes (up to 32)
/// are printable ASCII or white space.
fn looks_like_content(rest: &[u8]) -> bool {
    rest.iter()
        .take(32)
        .all(|&c| c.is_ascii_graphic() || is_whitespace(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(s: &[u8]) -> Vec<(String, Vec<Object>)> {
        parse_content(s)
            .into_iter()
            .map(|o| {
                (
                    String::from_utf8_lossy(&o.operator).into_owned(),
                    o.operands,
                )
            })
            .collect()
    }

    #[test]
    fn operands_then_operator() {
        let got = ops(b"BT /F1 12 Tf 72 700.5 Td (Hi \\(x\\)) Tj [(A) -20 <4243>] TJ ET");
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "Td", "Tj", "TJ", "ET"]);
        assert_eq!(got[1].1, vec![Object::name("F1"), Object::Int(12)]);
        assert_eq!(got[2].1, vec![Object::Int(72), Object::Real(700.5)]);
        assert_eq!(got[3].1[0].as_string(), Some(&b"Hi (x)"[..]));
        let tj = got[4].1[0].as_array().unwrap();
        assert_eq!(tj[1], Object::Int(-20));
        assert_eq!(tj[2].as_string(), Some(&b"BC"[..]));
    }

    #[test]
    fn inline_image_data_is_skipped() {
        let got = ops(b"q BI /W 2 /H 1 /BPC 8 /CS /G ID \x00EI\xff EI Q BT (x) Tj ET");
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["q", "BI", "Q", "BT", "Tj", "ET"]);
        let d = got[1].1[0].as_dict().unwrap();
        assert_eq!(d.int("W"), Some(2));
    }

    #[test]
    fn inline_image_with_declared_length() {
        let got = ops(b"BI /W 1 /H 1 /L 4 ID  EI EI Tj");
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["BI", "Tj"]);
    }

    #[test]
    fn garbage_is_skipped() {
        let got = ops(b") ] } >> 1 2 re ( unterminated Tj");
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["re"]);
        assert!(ops(b"[1 2 (x) Tj").is_empty());
        assert_eq!(ops(b"<<>> <zz41> Tj")[0].1.len(), 2);
    }

    /// Random bytes, and random bytes from the syntax's own alphabet: never a panic.
    #[test]
    fn random_input_never_panics() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"()<>[]{}/%\\ \n0123456789.-+BIDETJjfmq'\"";
        for round in 0..3000 {
            let len = (next() % 200) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 {
                        r as u8
                    } else {
                        alphabet[(r as usize) % alphabet.len()]
                    }
                })
                .collect();
            let _ = parse_content(&data);
        }
    }

    #[test]
    fn deep_nesting_stops_cleanly() {
        let s = "[".repeat(10_000);
        assert!(parse_content(s.as_bytes()).is_empty());
        let s = "<<".repeat(10_000);
        assert!(parse_content(s.as_bytes()).is_empty());
    }
}
