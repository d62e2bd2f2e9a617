//! The one minimal-PDF builder of the test suites: object bodies numbered from 1, optional raw
//! streams after them, a classic cross-reference table. Fixtures ([`pages`], [`simple_pdf`],
//! [`empty_page`]) are built on it.

/// A PDF from object bodies (numbered from 1; object 1 is the catalog) plus raw stream objects
/// `(dictionary, data)` numbered after them; `trailer_extra` is added to the trailer
/// dictionary (e.g. `/Info << /Title (Uji) >>`).
pub fn build(objs: &[&str], streams: &[(String, Vec<u8>)], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    for (j, (d, data)) in streams.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nstream\n", objs.len() + j + 1, d).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }
    let n = offsets.len() + 1;
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {n}\n0000000000 65535 f\r\n").as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    let extra = if trailer_extra.is_empty() {
        String::new()
    } else {
        format!(" {trailer_extra}")
    };
    out.extend_from_slice(
        format!("trailer\n<< /Size {n} /Root 1 0 R{extra} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

/// [`build`] with object bodies only.
pub fn build_pdf(objs: &[&str]) -> Vec<u8> {
    build(objs, &[], "")
}

/// One A4 page per entry; each page's content stream is that entry (PDF operators), with
/// Helvetica (WinAnsi) as `/F1`.
pub fn pages_with_content(contents: &[String]) -> Vec<u8> {
    let n = contents.len().max(1);
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    for (i, content) in contents.iter().enumerate() {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            content.len() + 1,
            content
        ));
    }
    build_pdf(&objs.iter().map(String::as_str).collect::<Vec<_>>())
}

/// One A4 page per entry, each showing that text in Helvetica 14 near the top.
pub fn pages(texts: &[&str]) -> Vec<u8> {
    let contents: Vec<String> = texts
        .iter()
        .map(|t| format!("BT /F1 14 Tf 72 770 Td ({t}) Tj ET\n"))
        .collect();
    pages_with_content(&contents)
}

/// `pages` pages titled "Perjanjian Kerja Sama - halaman N", each followed by the line
/// `second_line` (e.g. a tag to place a signature on).
pub fn numbered_pages(pages: usize, second_line: &str) -> Vec<u8> {
    let contents: Vec<String> = (0..pages.max(1))
        .map(|i| {
            format!(
                "BT /F1 14 Tf 72 770 Td (Perjanjian Kerja Sama - halaman {}) Tj ET\n{second_line}",
                i + 1
            )
        })
        .collect();
    pages_with_content(&contents)
}

/// A one-page PDF with a title.
pub fn simple_pdf() -> Vec<u8> {
    pages(&["Perjanjian Kerja Sama"])
}

/// One empty page of `width`×`height` points.
pub fn empty_page(width: f64, height: f64) -> Vec<u8> {
    build_pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        &format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Resources << >> /Contents 4 0 R >>"
        ),
        "<< /Length 0 >>\nstream\n\nendstream",
    ])
}

/// A 4×2 RGB PNG (a signature specimen).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xf0, 0xca, 0xea,
    0x34, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x50, 0x70, 0x58, 0x00,
    0x47, 0x0c, 0xc8, 0x1c, 0x00, 0x64, 0x1a, 0x08, 0x01, 0x8a, 0xc4, 0x74, 0xd3, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The first position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_readable_classic_xref() {
        let pdf = pages(&["a", "b"]);
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let xref = find(&pdf, b"\nxref\n").unwrap() + 1;
        let start = find(&pdf, b"startxref\n").unwrap() + 10;
        let end = start + pdf[start..].iter().position(|b| *b == b'\n').unwrap();
        let at: usize = std::str::from_utf8(&pdf[start..end])
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(at, xref);
        // Every entry points at its "n 0 obj".
        let table = std::str::from_utf8(&pdf[xref..start]).unwrap();
        for (i, line) in table.lines().skip(3).take(7).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
    }
}
