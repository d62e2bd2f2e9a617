//! Signature fields in the AcroForm (§12.7, §12.8): find pre-created empty fields, create new
//! ones with their widget, and register them in the page's `/Annots` and the form's `/Fields`.

use std::collections::HashSet;

use paraf_pdf::{Dict, Document, IncrementalUpdate, ObjRef, Object, PdfString};

use crate::error::{Result, SignError, SignErrorKind};

/// Which field a signature goes into.
#[derive(Clone, Debug, Default)]
pub struct FieldTarget {
    /// An existing empty signature field of this (full or partial) name is filled; otherwise a
    /// field of this name is created. `None`: a new field named `SignatureN`.
    pub name: Option<String>,
}

/// A field found in the form.
#[derive(Clone, Debug)]
pub struct FoundField {
    pub field_ref: ObjRef,
    pub full_name: String,
    pub dict: Dict,
    /// The widget: the field itself when merged, else its first kid.
    pub widget_ref: ObjRef,
    pub widget: Dict,
}

impl FoundField {
    pub fn is_signature(&self) -> bool {
        self.dict.name("FT") == Some(b"Sig")
    }
    pub fn is_signed(&self) -> bool {
        self.dict.get("V").is_some_and(|v| !v.is_null())
    }
    /// The widget's rectangle when it is not degenerate.
    pub fn rect(&self, doc: &Document) -> Option<[f64; 4]> {
        let r = doc.rect(self.widget.get("Rect")?)?;
        let r = [
            r[0].min(r[2]),
            r[1].min(r[3]),
            r[0].max(r[2]),
            r[1].max(r[3]),
        ];
        (r[2] - r[0] > 0.5 && r[3] - r[1] > 0.5).then_some(r)
    }
    pub fn page_ref(&self) -> Option<ObjRef> {
        self.widget.get("P").and_then(Object::as_ref)
    }
}

/// All terminal fields of the form, depth-first, with full names.
pub fn all_fields(doc: &Document) -> Result<Vec<FoundField>> {
    let cat = doc.catalog()?;
    let form = match doc.resolve_key(&cat, "AcroForm")? {
        Object::Dict(d) => d,
        _ => return Ok(Vec::new()),
    };
    let fields = doc.resolve_key(&form, "Fields")?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for f in fields.as_array().unwrap_or(&[]) {
        if let Some(r) = f.as_ref() {
            walk(doc, r, "", None, &mut out, &mut seen, 0)?;
        }
    }
    Ok(out)
}

fn walk(
    doc: &Document,
    r: ObjRef,
    parent_name: &str,
    parent_ft: Option<&[u8]>,
    out: &mut Vec<FoundField>,
    seen: &mut HashSet<ObjRef>,
    depth: usize,
) -> Result<()> {
    if depth > 32 || !seen.insert(r) {
        return Ok(());
    }
    let Object::Dict(mut d) = doc.resolve(&Object::Ref(r))? else {
        return Ok(());
    };
    let partial = d
        .get("T")
        .and_then(Object::as_string)
        .map(paraf_pdf::object::decode_text);
    let full = match (&partial, parent_name.is_empty()) {
        (Some(p), true) => p.clone(),
        (Some(p), false) => format!("{parent_name}.{p}"),
        (None, _) => parent_name.to_string(),
    };
    let ft = d
        .name("FT")
        .map(<[u8]>::to_vec)
        .or(parent_ft.map(<[u8]>::to_vec));
    if let Some(ft) = &ft {
        if !d.contains("FT") {
            d.set("FT", Object::Name(ft.clone()));
        }
    }
    let kids: Vec<ObjRef> = doc
        .resolve_key(&d, "Kids")?
        .as_array()
        .unwrap_or(&[])
        .iter()
        .filter_map(Object::as_ref)
        .collect();
    // Kids that carry /T are fields; kids without are widgets of this field.
    let mut widget_kids = Vec::new();
    let mut field_kids = Vec::new();
    for k in kids {
        let kd = doc.get_dict(k)?;
        if kd.contains("T") {
            field_kids.push(k);
        } else {
            widget_kids.push((k, kd));
        }
    }
    if field_kids.is_empty() {
        let (widget_ref, widget) = match widget_kids.into_iter().next() {
            Some(w) => w,
            None => (r, d.clone()),
        };
        out.push(FoundField {
            field_ref: r,
            full_name: full,
            dict: d,
            widget_ref,
            widget,
        });
    } else {
        for k in field_kids {
            walk(doc, k, &full, ft.as_deref(), out, seen, depth + 1)?;
        }
    }
    Ok(())
}

/// Finds a field by full name, or by partial name when that is unambiguous.
pub fn find_field(doc: &Document, name: &str) -> Result<Option<FoundField>> {
    let fields = all_fields(doc)?;
    if let Some(f) = fields.iter().find(|f| f.full_name == name) {
        return Ok(Some(f.clone()));
    }
    let mut partial = fields
        .into_iter()
        .filter(|f| f.full_name.rsplit('.').next() == Some(name));
    Ok(match (partial.next(), partial.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    })
}

/// Signature dictionaries of all signed fields, ordered by where their signed range ends
/// (oldest signature first).
pub fn signature_dicts(doc: &Document) -> Result<Vec<Dict>> {
    let mut out = Vec::new();
    for f in all_fields(doc)? {
        if !f.is_signature() {
            continue;
        }
        if let Some(v) = f.dict.get("V") {
            if let Object::Dict(d) = doc.resolve(v)? {
                out.push(d);
            }
        }
    }
    out.sort_by_key(|d| {
        d.get("ByteRange")
            .and_then(Object::as_array)
            .and_then(|a| Some(a.get(2)?.as_int()? + a.get(3)?.as_int()?))
            .unwrap_or(0)
    });
    Ok(out)
}

/// Refuses to add a signature to a document certified with "no changes allowed".
pub fn check_modifications_allowed(doc: &Document) -> Result<()> {
    let cat = doc.catalog()?;
    let perms = doc.resolve_key(&cat, "Perms")?;
    let Some(perms) = perms.as_dict() else {
        return Ok(());
    };
    let Object::Dict(sig) = doc.resolve_key(perms, "DocMDP")? else {
        return Ok(());
    };
    let refs = doc.resolve_key(&sig, "Reference")?;
    for r in refs.as_array().unwrap_or(&[]) {
        let Object::Dict(sr) = doc.resolve(r)? else {
            continue;
        };
        if sr.name("TransformMethod") != Some(b"DocMDP") {
            continue;
        }
        let Object::Dict(tp) = doc.resolve_key(&sr, "TransformParams")? else {
            continue;
        };
        if doc.resolve_key(&tp, "P")?.as_int() == Some(1) {
            return Err(SignError::new(
                SignErrorKind::NotPermitted,
                "the document is certified with no changes allowed (DocMDP P=1): it cannot be signed again",
            ));
        }
    }
    Ok(())
}

/// A visible widget: page, rectangle in user space, appearance XObject.
pub type VisibleWidget = (ObjRef, [f64; 4], ObjRef);

/// Puts signature `sig_ref` into a field (filling or creating it) and returns the field's name.
/// `certify` adds the catalog's `/Perms /DocMDP` entry pointing to the signature.
pub fn attach_signature(
    up: &mut IncrementalUpdate<'_>,
    target: &FieldTarget,
    sig_ref: ObjRef,
    visible: Option<VisibleWidget>,
    certify: Option<ObjRef>,
) -> Result<String> {
    let doc = up.document();
    let cat_ref = doc.catalog_ref()?;
    let mut cat = doc.catalog()?;
    let mut cat_changed = false;
    let existing = match &target.name {
        Some(n) => find_field(doc, n)?,
        None => None,
    };
    let name = if let Some(f) = existing {
        if !f.is_signature() {
            return Err(SignError::invalid(format!(
                "the field {:?} is not a signature field",
                f.full_name
            )));
        }
        if f.is_signed() {
            return Err(SignError::invalid(format!(
                "the field {:?} is already signed",
                f.full_name
            )));
        }
        let mut field = f.dict.clone();
        field.set("V", Object::Ref(sig_ref));
        if f.widget_ref == f.field_ref {
            if let Some((_, _, ap)) = visible {
                field.set("AP", Dict::new().with("N", Object::Ref(ap)));
            }
        } else if let Some((_, _, ap)) = visible {
            let mut w = f.widget.clone();
            w.set("AP", Dict::new().with("N", Object::Ref(ap)));
            up.put(f.widget_ref, w);
        }
        up.put(f.field_ref, field);
        ensure_sig_flags(up, &mut cat, &mut cat_changed, &[], false)?;
        f.full_name
    } else {
        let doc = up.document();
        let name = match &target.name {
            Some(n) if !n.is_empty() && !n.contains('.') => n.clone(),
            Some(n) => {
                return Err(SignError::invalid(format!(
                    "{n:?} is not a valid field name (it must be non-empty and contain no '.')"
                )))
            }
            None => unique_name(doc)?,
        };
        let pages = doc.pages()?;
        let (page_ref, rect, ap) = match visible {
            Some((p, r, ap)) => (p, r, Some(ap)),
            None => (
                pages.first().map(|p| p.id).ok_or_else(|| {
                    SignError::new(SignErrorKind::Pdf, "the document has no pages")
                })?,
                [0.0; 4],
                None,
            ),
        };
        let field_ref = up.alloc();
        let mut w = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Sig"))
            // `put` encrypts strings for encrypted documents.
            .with("T", PdfString::text(&name))
            .with("V", Object::Ref(sig_ref))
            .with("F", 132i64)
            .with(
                "Rect",
                rect.iter().map(|&v| Object::Real(v)).collect::<Vec<_>>(),
            )
            .with("P", Object::Ref(page_ref));
        if let Some(ap) = ap {
            w.set("AP", Dict::new().with("N", Object::Ref(ap)));
        }
        up.put(field_ref, w);
        add_to_page_annots(up, page_ref, &[field_ref])?;
        ensure_sig_flags(up, &mut cat, &mut cat_changed, &[field_ref], false)?;
        name
    };
    if let Some(sig) = certify {
        let mut perms = match up.document().resolve_key(&cat, "Perms")? {
            Object::Dict(d) => d,
            _ => Dict::new(),
        };
        perms.set("DocMDP", Object::Ref(sig));
        cat.set("Perms", perms);
        cat_changed = true;
    }
    if cat_changed {
        up.put(cat_ref, cat);
    }
    Ok(name)
}

/// An empty signature field to create: its name, page (1-based) and `/Rect` in user space.
#[derive(Clone, Debug, PartialEq)]
pub struct EmptyField {
    pub name: String,
    pub page: usize,
    pub rect: [f64; 4],
    pub kind: crate::form::EmptyKind,
}

/// Appends one incremental update adding `new_pages` after the last page (a summary page) and
/// creating every field of `fields` empty (a widget with no value), so that each later
/// signature only fills its own field. Names must be new, free of `.`, and unique; pages must
/// exist (the new pages count: a document of 3 pages plus one new page has a page 4). Returns
/// the whole updated file.
pub fn add_empty_signature_fields(
    doc: &Document,
    new_pages: &[crate::pages::NewPage],
    fields: &[EmptyField],
) -> Result<Vec<u8>> {
    check_modifications_allowed(doc)?;
    let mut names: HashSet<String> = all_fields(doc)?.into_iter().map(|f| f.full_name).collect();
    let mut up = IncrementalUpdate::new(doc);
    let mut pages: Vec<ObjRef> = doc.pages()?.iter().map(|p| p.id).collect();
    pages.extend(crate::pages::append_pages(&mut up, new_pages)?);
    let mut per_page: Vec<(ObjRef, Vec<ObjRef>)> = Vec::new();
    let mut all = Vec::new();
    for f in fields {
        if f.name.is_empty() || f.name.contains('.') || !names.insert(f.name.clone()) {
            return Err(SignError::invalid(format!(
                "{:?} is not a new, valid field name",
                f.name
            )));
        }
        let page = f
            .page
            .checked_sub(1)
            .and_then(|i| pages.get(i))
            .copied()
            .ok_or_else(|| SignError::invalid(format!("page {} does not exist", f.page)))?;
        let field_ref = up.alloc();
        let w = crate::form::empty_field(&mut up, f.kind, &f.name, f.rect, page);
        up.put(field_ref, w);
        all.push(field_ref);
        match per_page.iter_mut().find(|(p, _)| *p == page) {
            Some((_, v)) => v.push(field_ref),
            None => per_page.push((page, vec![field_ref])),
        }
    }
    for (page, refs) in &per_page {
        add_to_page_annots(&mut up, *page, refs)?;
    }
    let cat_ref = doc.catalog_ref()?;
    let mut cat = doc.catalog()?;
    let mut cat_changed = false;
    let fillable = fields
        .iter()
        .any(|f| f.kind != crate::form::EmptyKind::Signature);
    ensure_sig_flags(&mut up, &mut cat, &mut cat_changed, &all, fillable)?;
    if cat_changed {
        up.put(cat_ref, cat);
    }
    Ok(up.finish_file()?)
}

fn unique_name(doc: &Document) -> Result<String> {
    let names: HashSet<String> = all_fields(doc)?.into_iter().map(|f| f.full_name).collect();
    Ok((1..)
        .map(|i| format!("Signature{i}"))
        .find(|n| !names.contains(n))
        .unwrap_or_else(|| "Signature".into()))
}

fn add_to_page_annots(
    up: &mut IncrementalUpdate<'_>,
    page_ref: ObjRef,
    annots: &[ObjRef],
) -> Result<()> {
    let mut page = up.get_dict(page_ref)?;
    if append_refs(up, &mut page, "Annots", annots)? {
        up.put(page_ref, page);
    }
    Ok(())
}

/// Appends `refs` to the array `holder[key]`: in place when the array is an indirect object
/// (then `holder` is unchanged), else in `holder`, creating the array when absent. Returns
/// whether `holder` changed (the caller writes it).
pub(crate) fn append_refs(
    up: &mut IncrementalUpdate<'_>,
    holder: &mut Dict,
    key: &str,
    refs: &[ObjRef],
) -> Result<bool> {
    let refs = refs.iter().map(|r| Object::Ref(*r));
    match holder.get(key).cloned() {
        Some(Object::Ref(arr_ref)) => {
            let mut arr = match up.document().get(arr_ref)? {
                Object::Array(a) => a,
                _ => Vec::new(),
            };
            arr.extend(refs);
            up.put(arr_ref, arr);
            Ok(false)
        }
        Some(Object::Array(mut arr)) => {
            arr.extend(refs);
            holder.set(key, arr);
            Ok(true)
        }
        _ => {
            holder.set(key, refs.collect::<Vec<_>>());
            Ok(true)
        }
    }
}

/// Makes sure the AcroForm exists with `/SigFlags 3` and lists `new_fields`; with
/// `fillable` fields among them, that it has default resources for their `/DA`.
fn ensure_sig_flags(
    up: &mut IncrementalUpdate<'_>,
    cat: &mut Dict,
    cat_changed: &mut bool,
    new_fields: &[ObjRef],
    fillable: bool,
) -> Result<()> {
    let doc = up.document();
    let (form_ref, mut form) = match cat.get("AcroForm").cloned() {
        Some(Object::Ref(r)) => match doc.get(r)? {
            Object::Dict(d) => (Some(r), d),
            _ => (Some(r), Dict::new()),
        },
        Some(Object::Dict(d)) => (None, d),
        _ => (None, Dict::new()),
    };
    let mut form_changed = false;
    if form.int("SigFlags") != Some(3) {
        form.set("SigFlags", 3i64);
        form_changed = true;
    }
    if !new_fields.is_empty() && append_refs(up, &mut form, "Fields", new_fields)? {
        form_changed = true;
    }
    if fillable && !form.contains("DR") {
        form.set("DR", crate::form::default_resources());
        if !form.contains("DA") {
            form.set("DA", PdfString::text("/Helv 0 Tf 0 g"));
        }
        form_changed = true;
    }
    if form_changed {
        match form_ref {
            Some(r) => up.put(r, form),
            None => {
                let r = up.alloc();
                up.put(r, form);
                cat.set("AcroForm", Object::Ref(r));
                *cat_changed = true;
            }
        }
    }
    Ok(())
}
