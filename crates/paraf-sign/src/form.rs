//! Fillable form fields of envelopes (ISO 32000-2 §12.7.5): text fields (`/FT /Tx`, also used
//! for dates) and check boxes (`/FT /Btn`), created empty with the signature fields before
//! anybody signs, and filled by a signer in an update of their own just before their
//! signature (so their signature covers what they wrote). Appearances are always written here
//! (the embedded font for text, paths for the check mark): viewers need not regenerate them.

use std::fmt::Write as _;

use paraf_pdf::{Dict, Document, IncrementalUpdate, ObjRef, Object, PdfString, Stream};

use crate::appearance::{build_appearance, AppearanceSpec};
use crate::error::{Result, SignError, SignErrorKind};
use crate::fields::{all_fields, check_modifications_allowed};

/// What an empty field is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EmptyKind {
    /// A signature field (`/FT /Sig`).
    #[default]
    Signature,
    /// A one-line text field (`/FT /Tx`): text and dates.
    Text,
    /// A check box (`/FT /Btn`, on state `/Yes`).
    Checkbox,
}

/// A value to fill in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FillValue {
    Text(String),
    Checkbox(bool),
}

/// A closed form XObject of `w`×`h` with `content`.
fn form_xobject(up: &mut IncrementalUpdate<'_>, w: f64, h: f64, content: String) -> ObjRef {
    let r = up.alloc();
    up.put(
        r,
        Stream {
            dict: Dict::new()
                .with("Type", Object::name("XObject"))
                .with("Subtype", Object::name("Form"))
                .with("BBox", crate::appearance::bbox(w, h)),
            data: content.into_bytes(),
        },
    );
    r
}

/// The check box's two appearances: a frame, and a frame with a check mark.
fn checkbox_appearances(up: &mut IncrementalUpdate<'_>, w: f64, h: f64) -> Dict {
    let mut frame = String::new();
    let _ = writeln!(
        frame,
        "q 0.4 G 0.75 w 0.5 0.5 {:.2} {:.2} re S Q",
        w - 1.0,
        h - 1.0
    );
    let mut on = frame.clone();
    let _ = writeln!(
        on,
        "q 0 G {:.2} w 1 J 1 j {:.2} {:.2} m {:.2} {:.2} l {:.2} {:.2} l S Q",
        (w.min(h) * 0.12).max(1.0),
        w * 0.2,
        h * 0.5,
        w * 0.42,
        h * 0.25,
        w * 0.8,
        h * 0.78
    );
    let yes = form_xobject(up, w, h, on);
    let off = form_xobject(up, w, h, frame);
    Dict::new().with(
        "N",
        Dict::new()
            .with("Yes", Object::Ref(yes))
            .with("Off", Object::Ref(off)),
    )
}

/// The field dictionary (merged with its widget) of a new empty field of `kind`.
pub(crate) fn empty_field(
    up: &mut IncrementalUpdate<'_>,
    kind: EmptyKind,
    name: &str,
    rect: [f64; 4],
    page: ObjRef,
) -> Dict {
    let w = Dict::new()
        .with("Type", Object::name("Annot"))
        .with("Subtype", Object::name("Widget"))
        .with("T", PdfString::text(name))
        .with("F", 4i64)
        .with(
            "Rect",
            rect.iter().map(|&v| Object::Real(v)).collect::<Vec<_>>(),
        )
        .with("P", Object::Ref(page));
    let (width, height) = ((rect[2] - rect[0]).abs(), (rect[3] - rect[1]).abs());
    match kind {
        EmptyKind::Signature => w.with("FT", Object::name("Sig")),
        EmptyKind::Text => {
            let blank = form_xobject(up, width, height, String::new());
            w.with("FT", Object::name("Tx"))
                .with("DA", PdfString::text("/Helv 10 Tf 0 g"))
                .with("AP", Dict::new().with("N", Object::Ref(blank)))
        }
        EmptyKind::Checkbox => {
            let ap = checkbox_appearances(up, width, height);
            w.with("FT", Object::name("Btn"))
                .with("V", Object::name("Off"))
                .with("AS", Object::name("Off"))
                .with("MK", Dict::new().with("CA", PdfString::text("4")))
                .with("DA", PdfString::text("/ZaDb 0 Tf 0 g"))
                .with("AP", ap)
        }
    }
}

/// The default resources text fields name in `/DA` (Helvetica as `/Helv`, ZapfDingbats as
/// `/ZaDb`), for a form without `/DR`.
pub(crate) fn default_resources() -> Dict {
    let font = |base: &str| {
        Dict::new()
            .with("Type", Object::name("Font"))
            .with("Subtype", Object::name("Type1"))
            .with("BaseFont", Object::name(base))
    };
    Dict::new().with(
        "Font",
        Dict::new()
            .with(
                "Helv",
                font("Helvetica").with("Encoding", Object::name("WinAnsiEncoding")),
            )
            .with("ZaDb", font("ZapfDingbats")),
    )
}

/// Appends one incremental update filling each named field with its value: a text field gets
/// `/V` and an appearance showing the text; a check box `/V` and `/AS` `/Yes` or `/Off`.
/// Every name must be an existing text field or check box. Returns the whole updated file.
pub fn fill_fields(doc: &Document, values: &[(String, FillValue)]) -> Result<Vec<u8>> {
    check_modifications_allowed(doc)?;
    let fields = all_fields(doc)?;
    let mut up = IncrementalUpdate::new(doc);
    for (name, value) in values {
        let f = fields
            .iter()
            .find(|f| &f.full_name == name)
            .ok_or_else(|| SignError::invalid(format!("the document has no field {name:?}")))?;
        let kind = f.dict.name("FT").unwrap_or_default().to_vec();
        let mut dict = f.dict.clone();
        match (kind.as_slice(), value) {
            (b"Tx", FillValue::Text(text)) => {
                dict.set("V", PdfString::text(text));
                let rect = f.rect(doc).unwrap_or([0.0, 0.0, 1.0, 1.0]);
                let spec = AppearanceSpec {
                    width: (rect[2] - rect[0]).max(1.0),
                    height: (rect[3] - rect[1]).max(1.0),
                    lines: vec![text.clone()],
                    ..Default::default()
                };
                let ap = build_appearance(&mut up, &spec)
                    .map_err(|e| SignError::new(SignErrorKind::Appearance, e.to_string()))?;
                let mut widget = if f.widget_ref == f.field_ref {
                    dict.clone()
                } else {
                    f.widget.clone()
                };
                widget.set("AP", Dict::new().with("N", Object::Ref(ap)));
                if f.widget_ref == f.field_ref {
                    dict = widget;
                } else {
                    up.put(f.widget_ref, widget);
                }
            }
            (b"Btn", FillValue::Checkbox(on)) => {
                let state = Object::name(if *on { "Yes" } else { "Off" });
                dict.set("V", state.clone());
                if f.widget_ref == f.field_ref {
                    dict.set("AS", state);
                } else {
                    let mut widget = f.widget.clone();
                    widget.set("AS", state);
                    up.put(f.widget_ref, widget);
                }
            }
            _ => {
                return Err(SignError::invalid(format!(
                    "{name:?} is not a field that takes this value"
                )))
            }
        }
        up.put(f.field_ref, dict);
    }
    Ok(up.finish_file()?)
}
