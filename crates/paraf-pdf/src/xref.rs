//! Cross-reference sections (§7.5.4, §7.5.8): classic tables, xref streams, hybrid files,
//! `/Prev` chains, and recovery by scanning the file when they are broken.

use std::collections::{BTreeMap, HashSet};

use crate::error::{PdfError, Result};
use crate::filter;
use crate::object::{Dict, ObjRef, Object};
use crate::parser::{parse_indirect, rfind, Lexer};

/// Where an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefEntry {
    Free,
    /// At a byte offset in the file, with its generation number.
    InFile {
        offset: usize,
        gen: u16,
    },
    /// The `index`-th object of object stream `stream`.
    InStream {
        stream: u32,
        index: u32,
    },
}

/// How a cross-reference section is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    Table,
    Stream,
}

/// One cross-reference section as found in the file.
#[derive(Clone, Debug)]
pub struct XrefSection {
    /// Offset of `xref` or of the xref stream object.
    pub offset: usize,
    pub kind: XrefKind,
    pub trailer: Dict,
    /// Entries of this section only.
    pub entries: BTreeMap<u32, XrefEntry>,
}

/// The merged cross-reference data of a file.
#[derive(Clone, Debug)]
pub struct XrefTable {
    pub entries: BTreeMap<u32, XrefEntry>,
    /// The newest trailer (merged with older ones for keys it lacks: /Root, /Info, /ID, /Encrypt).
    pub trailer: Dict,
    /// Sections from newest to oldest.
    pub sections: Vec<XrefSection>,
    /// Offset given by the last `startxref`.
    pub startxref: usize,
    /// True when the table was rebuilt by scanning because the file's own was unusable.
    pub recovered: bool,
}

/// Finds the offset after the last `startxref` keyword.
pub fn find_startxref(data: &[u8]) -> Result<usize> {
    let tail_start = data.len().saturating_sub(4096);
    let pos = rfind(&data[tail_start..], b"startxref")
        .map(|p| p + tail_start)
        .ok_or_else(|| PdfError::structure("no startxref keyword at the end of the file"))?;
    let mut lx = Lexer::new(data, pos + b"startxref".len());
    let off = lx
        .uint()
        .ok_or_else(|| PdfError::syntax(pos, "startxref without an offset"))?;
    usize::try_from(off).map_err(|_| PdfError::syntax(pos, "startxref offset too large"))
}

/// Reads the xref chain starting at `startxref`.
pub fn read_chain(data: &[u8], startxref: usize) -> Result<XrefTable> {
    let mut sections = Vec::new();
    let mut visited = HashSet::new();
    let mut next = Some(startxref);
    while let Some(off) = next.take() {
        if !visited.insert(off) || visited.len() > 10_000 {
            return Err(PdfError::syntax(off, "cross-reference /Prev chain loops"));
        }
        let section = read_section(data, off)?;
        next = section
            .trailer
            .int("Prev")
            .and_then(|p| usize::try_from(p).ok());
        // Hybrid file: the table's trailer points to an xref stream with more entries.
        if section.kind == XrefKind::Table {
            if let Some(stm) = section.trailer.int("XRefStm") {
                if let Ok(stm) = usize::try_from(stm) {
                    if let Ok(mut s) = read_section(data, stm) {
                        if s.kind == XrefKind::Stream {
                            s.trailer = Dict::new(); // entries only; the table's trailer rules
                            let mut table = section;
                            // The stream's entries complete the table's (free table entries
                            // in a hybrid section are placeholders for compressed objects).
                            for (n, e) in s.entries {
                                match table.entries.get(&n) {
                                    None | Some(XrefEntry::Free) => {
                                        table.entries.insert(n, e);
                                    }
                                    _ => {}
                                }
                            }
                            sections.push(table);
                            continue;
                        }
                    }
                }
            }
        }
        sections.push(section);
    }
    let (entries, trailer) = merge_sections(&sections);
    Ok(XrefTable {
        entries,
        trailer,
        sections,
        startxref,
        recovered: false,
    })
}

/// Merges sections given newest first: an object's newest entry wins, and the trailer keeps
/// the newest value of each key (minus the keys that only describe a section itself).
pub fn merge_sections<'a>(
    sections: impl IntoIterator<Item = &'a XrefSection>,
) -> (BTreeMap<u32, XrefEntry>, Dict) {
    let mut entries = BTreeMap::new();
    let mut trailer = Dict::new();
    for s in sections {
        for (n, e) in &s.entries {
            entries.entry(*n).or_insert(*e);
        }
        for (k, v) in s.trailer.iter() {
            let section_only = matches!(
                k,
                b"Prev"
                    | b"XRefStm"
                    | b"Type"
                    | b"W"
                    | b"Index"
                    | b"Filter"
                    | b"DecodeParms"
                    | b"Length"
            );
            if !section_only && !trailer.0.iter().any(|(kk, _)| kk == k) {
                trailer.0.push((k.to_vec(), v.clone()));
            }
        }
    }
    (entries, trailer)
}

/// Reads the section (table or stream) at `off`.
pub fn read_section(data: &[u8], off: usize) -> Result<XrefSection> {
    let mut lx = Lexer::new(data, off);
    if lx.eat_keyword(b"xref") {
        return read_table(off, lx);
    }
    let obj = parse_indirect(data, off, &|_| None)?;
    let Object::Stream(stream) = obj.object else {
        return Err(PdfError::syntax(
            off,
            "startxref does not point to a cross-reference section",
        ));
    };
    if stream.dict.name("Type") != Some(b"XRef") {
        return Err(PdfError::syntax(
            off,
            "startxref points to an object that is not an xref stream",
        ));
    }
    let decoded = filter::decode(&stream.dict, &stream.data)?;
    let entries = parse_xref_stream(&stream.dict, &decoded, off)?;
    Ok(XrefSection {
        offset: off,
        kind: XrefKind::Stream,
        trailer: stream.dict,
        entries,
    })
}

fn read_table(off: usize, mut lx: Lexer<'_>) -> Result<XrefSection> {
    let mut entries = BTreeMap::new();
    loop {
        lx.skip_ws();
        if lx.eat_keyword(b"trailer") {
            break;
        }
        let Some(first) = lx.uint() else {
            return Err(PdfError::syntax(lx.pos, "malformed xref subsection header"));
        };
        let count = lx
            .uint()
            .ok_or_else(|| PdfError::syntax(lx.pos, "malformed xref subsection header"))?;
        if count > 10_000_000 {
            return Err(PdfError::syntax(lx.pos, "xref subsection too large"));
        }
        for i in 0..count {
            let (Some(o), Some(g)) = (lx.uint(), lx.uint()) else {
                return Err(PdfError::syntax(lx.pos, "malformed xref entry"));
            };
            lx.skip_ws();
            let kind = lx.regular_token();
            let num = first.saturating_add(i);
            let Ok(num) = u32::try_from(num) else {
                continue;
            };
            // A table that starts at 1 instead of 0 is a known writer bug: tolerated as is.
            let e = match kind {
                b"n" => XrefEntry::InFile {
                    offset: usize::try_from(o).unwrap_or(usize::MAX),
                    gen: u16::try_from(g).unwrap_or(u16::MAX),
                },
                b"f" => XrefEntry::Free,
                _ => return Err(PdfError::syntax(lx.pos, "xref entry is neither n nor f")),
            };
            entries.entry(num).or_insert(e);
        }
    }
    let trailer = match lx.object()? {
        Object::Dict(d) => d,
        _ => return Err(PdfError::syntax(off, "trailer is not a dictionary")),
    };
    Ok(XrefSection {
        offset: off,
        kind: XrefKind::Table,
        trailer,
        entries,
    })
}

fn parse_xref_stream(dict: &Dict, data: &[u8], off: usize) -> Result<BTreeMap<u32, XrefEntry>> {
    let w: Vec<usize> = dict
        .get("W")
        .and_then(Object::as_array)
        .ok_or_else(|| PdfError::syntax(off, "xref stream without /W"))?
        .iter()
        .map(|o| {
            o.as_int()
                .and_then(|i| usize::try_from(i).ok())
                .unwrap_or(0)
        })
        .collect();
    if w.len() != 3 || w.iter().any(|&x| x > 8) {
        return Err(PdfError::syntax(
            off,
            "xref stream /W is not three small widths",
        ));
    }
    let size = dict.int("Size").unwrap_or(0);
    let index: Vec<i64> = match dict.get("Index").and_then(Object::as_array) {
        Some(a) => a.iter().filter_map(Object::as_int).collect(),
        None => vec![0, size],
    };
    let row = w[0] + w[1] + w[2];
    if row == 0 {
        return Err(PdfError::syntax(off, "xref stream rows are empty"));
    }
    let mut entries = BTreeMap::new();
    let mut rows = data.chunks_exact(row);
    for pair in index.chunks(2) {
        let [first, count] = pair else { break };
        for i in 0..(*count).max(0) {
            let Some(r) = rows.next() else {
                return Ok(entries);
            };
            let field = |k: usize| -> u64 {
                let start: usize = w[..k].iter().sum();
                r[start..start + w[k]]
                    .iter()
                    .fold(0u64, |acc, &b| acc << 8 | b as u64)
            };
            let t = if w[0] == 0 { 1 } else { field(0) };
            let Ok(num) = u32::try_from(first.saturating_add(i)) else {
                continue;
            };
            let e = match t {
                0 => XrefEntry::Free,
                1 => XrefEntry::InFile {
                    offset: usize::try_from(field(1)).unwrap_or(usize::MAX),
                    gen: u16::try_from(field(2)).unwrap_or(0),
                },
                2 => XrefEntry::InStream {
                    stream: u32::try_from(field(1)).unwrap_or(u32::MAX),
                    index: u32::try_from(field(2)).unwrap_or(u32::MAX),
                },
                _ => continue, // unknown types are null references (§7.5.8.3)
            };
            entries.entry(num).or_insert(e);
        }
    }
    Ok(entries)
}

/// Rebuilds the cross-reference data by scanning for `n g obj` and `trailer`.
pub fn recover(data: &[u8]) -> Result<XrefTable> {
    let mut entries = BTreeMap::new();
    let mut trailer: Option<Dict> = None;
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        // An object header starts a line (or follows white space) with a digit.
        if c.is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_alphanumeric()) {
            let mut lx = Lexer::new(data, i);
            if let (Some(n), Some(g)) = (lx.uint(), lx.uint()) {
                if lx.eat_keyword(b"obj") {
                    if let (Ok(n), Ok(g)) = (u32::try_from(n), u16::try_from(g)) {
                        entries.insert(n, XrefEntry::InFile { offset: i, gen: g });
                    }
                    i = lx.pos;
                    continue;
                }
            }
        } else if c == b't' && data[i..].starts_with(b"trailer") {
            let mut lx = Lexer::new(data, i + 7);
            if let Ok(Object::Dict(d)) = lx.object() {
                if d.contains("Root") {
                    trailer = Some(d);
                }
            }
        }
        i += 1;
    }
    if entries.is_empty() {
        return Err(PdfError::new(
            crate::error::ErrorKind::NotPdf,
            "no PDF objects found in the file",
        ));
    }
    let trailer = trailer.unwrap_or_default();
    Ok(XrefTable {
        entries,
        trailer,
        sections: Vec::new(),
        startxref: 0,
        recovered: true,
    })
}

/// The number one past the highest object number in use.
pub fn next_object_number(table: &XrefTable) -> u32 {
    let from_entries = table
        .entries
        .keys()
        .next_back()
        .map_or(1, |n| n.saturating_add(1));
    let from_size = table
        .trailer
        .int("Size")
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0);
    from_entries.max(from_size).max(1)
}

/// Convenience for callers that only want to know if `r` is listed.
pub fn lookup(table: &XrefTable, r: ObjRef) -> Option<XrefEntry> {
    table.entries.get(&r.num).copied()
}
