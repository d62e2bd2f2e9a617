//! QR codes (ISO/IEC 18004) of a verification URL, drawn as filled rectangles.
//!
//! Error correction level M (15 %) is used when the URL fits, else L; the code is drawn black
//! on a white square that includes the four-module quiet zone the standard requires, so it
//! scans on any page background.

use std::fmt::Write as _;

use qrcode::{types::QrError, Color, EcLevel, QrCode};

use super::{AppearanceError, N};

/// Modules of white border on each side (ISO/IEC 18004 §6.3.8).
pub(super) const QUIET_ZONE: usize = 4;

/// The module matrix of a QR code, row by row from the top; `true` is dark.
pub(super) struct QrMatrix {
    pub(super) width: usize,
    dark: Vec<bool>,
}

pub(super) fn encode(url: &str) -> Result<QrMatrix, AppearanceError> {
    let code = match QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M) {
        Err(QrError::DataTooLong) => {
            QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L)
        }
        other => other,
    }
    .map_err(|e| match e {
        QrError::DataTooLong => AppearanceError::QrTooLong,
        other => AppearanceError::Qr(other.to_string()),
    })?;
    Ok(QrMatrix {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

impl QrMatrix {
    /// Modules across, quiet zone included.
    pub(super) fn side_modules(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Draws the code into the square of side `side` whose lower-left corner is (`x`, `y`).
    /// Horizontal runs of dark modules become one rectangle each, all filled as one path so
    /// that anti-aliasing leaves no seams between them.
    pub(super) fn draw(&self, x: f64, y: f64, side: f64, out: &mut String) {
        let m = side / self.side_modules() as f64;
        let q = QUIET_ZONE as f64 * m;
        let _ = writeln!(out, "q 1 g {} {} {} {} re f", N(x), N(y), N(side), N(side));
        // Module space: origin at the top-left module, one unit per module, y downwards.
        let _ = writeln!(
            out,
            "{} 0 0 {} {} {} cm 0 g",
            N(m),
            N(-m),
            N(x + q),
            N(y + side - q)
        );
        for (row, cells) in self.dark.chunks(self.width.max(1)).enumerate() {
            let mut col = 0;
            while col < cells.len() {
                if !cells[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < cells.len() && cells[col] {
                    col += 1;
                }
                let _ = writeln!(out, "{start} {row} {} 1 re", col - start);
            }
        }
        out.push_str("f Q\n");
    }
}
