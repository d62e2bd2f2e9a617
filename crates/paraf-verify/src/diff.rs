//! Modification analysis: what every revision appended after a signature changed, judged
//! against a whitelist (ARCHITECTURE-verify.md lists it). Each revision is compared with the one
//! before it, object by object; a change is *explained* when a rule accepts it, and whatever no
//! rule explains is reported with its object number and what changed.
//!
//! **Invariant**: only objects that are new in a revision can be explained by reachability from
//! an accepted new structure (a signature's appearance, the DSS); an object that existed before
//! and changed must be accepted by a rule about that very object.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use paraf_pdf::xref::XrefEntry;
use paraf_pdf::{Dict, Document, ObjRef, Object};

use crate::report::{Change, ModificationLevel, ModificationReport};
use crate::revision::{collect_refs, Revisions, View};

/// Views of the document at several cutoffs, built once each.
pub struct ViewCache<'d> {
    doc: &'d Document,
    map: RefCell<HashMap<usize, Rc<View<'d>>>>,
}

impl<'d> ViewCache<'d> {
    pub fn new(doc: &'d Document) -> Self {
        ViewCache {
            doc,
            map: RefCell::new(HashMap::new()),
        }
    }

    pub fn get(&self, cutoff: usize) -> Rc<View<'d>> {
        if let Some(v) = self.map.borrow().get(&cutoff) {
            return v.clone();
        }
        let v = Rc::new(View::new(self.doc, cutoff));
        self.map.borrow_mut().insert(cutoff, v.clone());
        v
    }
}

/// FieldMDP locks of a signature (ISO 32000-2 §12.8.2.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FieldLock {
    #[default]
    None,
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldLock {
    fn locks(&self, name: &str) -> bool {
        match self {
            FieldLock::None => false,
            FieldLock::All => true,
            FieldLock::Include(v) => v.iter().any(|n| n == name),
            FieldLock::Exclude(v) => !v.iter().any(|n| n == name),
        }
    }
}

/// What the analysis of one signature needs.
pub struct Input<'a, 'd> {
    pub doc: &'d Document,
    pub views: &'a ViewCache<'d>,
    pub revisions: &'a Revisions,
    /// Where the signed revision ends.
    pub signed_end: usize,
    /// DocMDP permission in force (the certification signature's `P`).
    pub docmdp: Option<u8>,
    pub lock: FieldLock,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Added,
    Modified,
    Deleted,
}

/// Analyses every revision after `input.signed_end`.
pub fn analyse(input: &Input<'_, '_>) -> ModificationReport {
    let mut report = ModificationReport::default();
    let data = input.doc.data();
    let later: Vec<_> = input
        .revisions
        .list
        .iter()
        .filter(|r| r.end > input.signed_end)
        .collect();
    report.later_revisions = later.len();
    if input.doc.xref().recovered && input.signed_end < data.len() {
        report.illegal.push(Change {
            revision: 0,
            object: None,
            what: "the cross-reference data of the file is damaged, so what changed after the signature cannot be established".into(),
        });
        report.level = ModificationLevel::Other;
        return report;
    }
    // Bytes after the last revision that no cross-reference section accounts for.
    let last_end = input
        .revisions
        .list
        .last()
        .map_or(0, |r| r.end)
        .max(input.signed_end);
    if let Some(tail) = data.get(last_end..) {
        if tail.iter().any(|c| !c.is_ascii_whitespace() && *c != 0) {
            report.illegal.push(Change {
                revision: input.revisions.list.len() + 1,
                object: None,
                what: format!(
                    "{} bytes were appended after the last revision without a cross-reference section",
                    tail.len()
                ),
            });
        }
    }
    let mut level = ModificationLevel::None;
    let mut prev_end = input.signed_end;
    for rev in &later {
        let old = input.views.get(prev_end);
        let new = input.views.get(rev.end);
        let rev_no = input.revisions.number_ending_at(rev.end).unwrap_or(0);
        let mut cx = RevDiff {
            old: &old,
            new: &new,
            rev_no,
            docmdp: input.docmdp,
            lock: &input.lock,
            changed: BTreeMap::new(),
            explained: HashSet::new(),
            sig_widgets: HashSet::new(),
            allowed: Vec::new(),
            illegal: Vec::new(),
            level: ModificationLevel::None,
        };
        cx.run(input.doc, &rev.sections);
        level = level.max(cx.level);
        report.allowed.append(&mut cx.allowed);
        report.illegal.append(&mut cx.illegal);
        prev_end = rev.end;
    }
    if let Some(last) = later.last() {
        unreferenced_then_referenced(input, last.end, &mut report);
    }
    report.level = if report.illegal.is_empty() {
        level
    } else {
        ModificationLevel::Other
    };
    report
}

/// Objects present but unreferenced in the signed revision that the final revision references
/// (the "hide" shadow attacks prepare such objects before signing).
fn unreferenced_then_referenced(
    input: &Input<'_, '_>,
    final_end: usize,
    report: &mut ModificationReport,
) {
    let signed = input.views.get(input.signed_end);
    let fin = input.views.get(final_end);
    let then = signed.reachable();
    let now = fin.reachable();
    for (&n, e) in &signed.entries {
        if matches!(e, XrefEntry::Free) || then.contains(&n) || !now.contains(&n) {
            continue;
        }
        report.illegal.push(Change {
            revision: input.revisions.list.len(),
            object: Some(n),
            what: format!(
                "object {n} was in the signed revision but not used by it, and is used now: content prepared before signing was switched in afterwards"
            ),
        });
    }
}

struct RevDiff<'v, 'd> {
    old: &'v View<'d>,
    new: &'v View<'d>,
    rev_no: usize,
    docmdp: Option<u8>,
    lock: &'v FieldLock,
    changed: BTreeMap<u32, Kind>,
    explained: HashSet<u32>,
    /// Widgets of signature fields added or signed in this revision.
    sig_widgets: HashSet<u32>,
    allowed: Vec<Change>,
    illegal: Vec<Change>,
    level: ModificationLevel,
}

/// Keys of two dictionaries whose values differ (added, removed or changed).
fn changed_keys(old: &Dict, new: &Dict) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for (k, v) in new.iter() {
        match old.iter().find(|(ok, _)| *ok == k) {
            None => out.push((String::from_utf8_lossy(k).into_owned(), "added")),
            Some((_, ov)) if ov != v => {
                out.push((String::from_utf8_lossy(k).into_owned(), "changed"))
            }
            _ => {}
        }
    }
    for (k, _) in old.iter() {
        if !new.iter().any(|(nk, _)| nk == k) {
            out.push((String::from_utf8_lossy(k).into_owned(), "removed"));
        }
    }
    out
}

fn list_keys(keys: &[(String, &'static str)]) -> String {
    keys.iter()
        .map(|(k, how)| format!("/{k} {how}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn refs_of(o: &Object) -> Vec<ObjRef> {
    let mut v = Vec::new();
    collect_refs(o, &mut v, 0);
    v
}

impl<'v, 'd> RevDiff<'v, 'd> {
    fn allow(&mut self, object: Option<u32>, what: impl Into<String>, level: ModificationLevel) {
        self.level = self.level.max(level);
        self.allowed.push(Change {
            revision: self.rev_no,
            object,
            what: what.into(),
        });
    }

    fn flag(&mut self, object: Option<u32>, what: impl Into<String>) {
        // Reported once: the leftover pass does not describe it again.
        if let Some(n) = object {
            self.explained.insert(n);
        }
        self.illegal.push(Change {
            revision: self.rev_no,
            object,
            what: what.into(),
        });
    }

    fn kind(&self, r: Option<ObjRef>) -> Option<Kind> {
        r.and_then(|r| self.changed.get(&r.num).copied())
    }

    fn run(&mut self, doc: &Document, sections: &[usize]) {
        self.collect_changes(doc, sections);
        if self.changed.is_empty() {
            return;
        }
        self.trailer_and_catalog();
        self.dss();
        let form_ok = self.form();
        self.fields(form_ok);
        self.pages();
        self.leftovers();
    }

    fn collect_changes(&mut self, doc: &Document, sections: &[usize]) {
        let mut nums: BTreeSet<u32> = BTreeSet::new();
        for s in &doc.xref().sections {
            if sections.contains(&s.offset) {
                nums.extend(s.entries.keys().copied());
            }
        }
        // Entries of older sections whose bytes lie in this revision.
        for (n, e) in &self.new.entries {
            if let XrefEntry::InFile { offset, .. } = e {
                if *offset >= self.old.cutoff && *offset < self.new.cutoff {
                    nums.insert(*n);
                }
            }
        }
        for n in nums {
            let o = self.old.get_num(n);
            let nw = self.new.get_num(n);
            let kind = match (o.is_null(), nw.is_null()) {
                (true, true) => continue,
                (true, false) => Kind::Added,
                (false, true) => Kind::Deleted,
                (false, false) if *o == *nw => continue,
                (false, false) => Kind::Modified,
            };
            if kind == Kind::Added {
                if let Object::Stream(s) = &*nw {
                    if matches!(s.dict.name("Type"), Some(b"XRef" | b"ObjStm")) {
                        continue; // file structure, not content
                    }
                }
            }
            self.changed.insert(n, kind);
        }
    }

    fn trailer_and_catalog(&mut self) {
        let (old_root, new_root) = (self.old.root_ref(), self.new.root_ref());
        if old_root != new_root {
            self.flag(
                new_root.map(|r| r.num),
                "the trailer's /Root now points to another document catalog",
            );
        }
        if self.old.trailer.get("Encrypt") != self.new.trailer.get("Encrypt") {
            self.flag(None, "the trailer's /Encrypt changed");
        }
        // The document information dictionary does not render (unless it is, in fact, an
        // object the document shows).
        let content = self.old.content_objects();
        if let Some(info) = self.new.trailer.get("Info").and_then(Object::as_ref) {
            if self.kind(Some(info)).is_some() && !content.contains(&info.num) {
                self.explained.insert(info.num);
                self.allow(
                    Some(info.num),
                    "document information dictionary updated",
                    ModificationLevel::LtaUpdates,
                );
            }
        }
        let Some(root) = new_root else { return };
        let (Some(old_cat), Some(new_cat)) = (self.old.catalog(), self.new.catalog()) else {
            self.flag(
                Some(root.num),
                "the document catalog is missing or not a dictionary",
            );
            return;
        };
        // An updated metadata stream in place (XMP does not render).
        if let Some(m) = new_cat.get("Metadata").and_then(Object::as_ref) {
            if self.kind(Some(m)) == Some(Kind::Modified)
                && old_cat.get("Metadata").and_then(Object::as_ref) == Some(m)
                && !content.contains(&m.num)
            {
                self.explained.insert(m.num);
                self.allow(
                    Some(m.num),
                    "XMP metadata updated",
                    ModificationLevel::LtaUpdates,
                );
            }
        }
        if self.kind(Some(root)).is_none() {
            return;
        }
        let mut ok = true;
        for (key, how) in changed_keys(&old_cat, &new_cat) {
            match key.as_str() {
                "DSS" | "Extensions" => {}
                "Version" => self.allow(
                    Some(root.num),
                    format!("catalog: /Version {how}"),
                    ModificationLevel::LtaUpdates,
                ),
                "AcroForm" => {} // judged with the form
                "Metadata" => {
                    if let Some(m) = new_cat.get("Metadata").and_then(Object::as_ref) {
                        if self.kind(Some(m)) == Some(Kind::Added) {
                            self.explained.insert(m.num);
                        }
                    }
                    self.allow(
                        Some(root.num),
                        "XMP metadata updated",
                        ModificationLevel::LtaUpdates,
                    );
                }
                "Perms" => {
                    ok = false;
                    self.flag(
                        Some(root.num),
                        format!(
                            "catalog: /Perms {how}: the certification (DocMDP) was tampered with"
                        ),
                    );
                }
                _ => {
                    ok = false;
                    self.flag(Some(root.num), format!("catalog: /{key} {how}"));
                }
            }
        }
        if ok {
            self.explained.insert(root.num);
        }
    }

    /// Explains new objects reachable from `o` (stopping at objects that existed before).
    fn explain_new(&mut self, o: &Object) {
        let mut stack = refs_of(o);
        let mut guard = 0usize;
        while let Some(r) = stack.pop() {
            guard += 1;
            if guard > 100_000 {
                break;
            }
            if self.kind(Some(r)) != Some(Kind::Added) || !self.explained.insert(r.num) {
                continue;
            }
            let obj = self.new.get(r);
            stack.extend(refs_of(&obj));
        }
    }

    /// The objects that made up the DSS of the signed revision (its dictionary, containers,
    /// VRI dictionary and entries): the only existing objects a DSS update may modify.
    fn old_dss_parts(&self) -> HashSet<u32> {
        let mut out = HashSet::new();
        let Some(dss_obj) = self.old.catalog().and_then(|c| c.get("DSS").cloned()) else {
            return out;
        };
        let add = |o: &Object, out: &mut HashSet<u32>| {
            if let Some(r) = o.as_ref() {
                out.insert(r.num);
            }
        };
        add(&dss_obj, &mut out);
        let Some(dss) = self.old.dict(&dss_obj) else {
            return out;
        };
        for key in ["Certs", "OCSPs", "CRLs"] {
            if let Some(a) = dss.get(key) {
                add(a, &mut out);
            }
        }
        if let Some(vri) = dss.get("VRI") {
            add(vri, &mut out);
            if let Some(vd) = self.old.dict(vri) {
                for (_, entry) in vd.iter() {
                    add(entry, &mut out);
                    if let Some(ed) = self.old.dict(entry) {
                        for k in ["Cert", "OCSP", "CRL", "TS"] {
                            if let Some(a) = ed.get(k) {
                                add(a, &mut out);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether a DSS update may account for object `r`: a new object, or one that was part of
    /// the earlier DSS and nothing the document shows (never, say, a page's content stream a
    /// DSS entry points to, now or in an earlier revision).
    fn dss_may_touch(&self, r: ObjRef, old_parts: &(HashSet<u32>, Rc<HashSet<u32>>)) -> bool {
        let (dss, content) = old_parts;
        match self.kind(Some(r)) {
            Some(Kind::Added) => true,
            Some(Kind::Modified) => dss.contains(&r.num) && !content.contains(&r.num),
            _ => false,
        }
    }

    fn dss(&mut self) {
        let Some(cat) = self.new.catalog() else {
            return;
        };
        let Some(dss_obj) = cat.get("DSS").cloned() else {
            return;
        };
        let old_parts = (self.old_dss_parts(), self.old.content_objects());
        let mut touched = false;
        if let Some(r) = dss_obj.as_ref() {
            if self.dss_may_touch(r, &old_parts) {
                self.explained.insert(r.num);
                touched = true;
            }
        }
        let Some(dss) = self.new.dict(&dss_obj) else {
            return;
        };
        let mut containers: Vec<Object> = Vec::new();
        for key in ["Certs", "OCSPs", "CRLs"] {
            if let Some(a) = dss.get(key) {
                containers.push(a.clone());
            }
        }
        if let Some(vri) = dss.get("VRI") {
            if let Some(r) = vri.as_ref() {
                if self.dss_may_touch(r, &old_parts) {
                    self.explained.insert(r.num);
                }
            }
            if let Some(vd) = self.new.dict(vri) {
                for (_, entry) in vd.iter() {
                    if let Some(r) = entry.as_ref() {
                        if self.dss_may_touch(r, &old_parts) {
                            self.explained.insert(r.num);
                        }
                    }
                    if let Some(ed) = self.new.dict(entry) {
                        for k in ["Cert", "OCSP", "CRL", "TS"] {
                            if let Some(a) = ed.get(k) {
                                containers.push(a.clone());
                            }
                        }
                    }
                }
            }
        }
        for c in containers {
            if let Some(r) = c.as_ref() {
                if self.dss_may_touch(r, &old_parts) {
                    self.explained.insert(r.num);
                    touched = true;
                }
            }
            let resolved = self.new.resolve(&c);
            let items: Vec<Object> = match &resolved {
                Object::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for it in items {
                if let Some(r) = it.as_ref() {
                    if self.kind(Some(r)) == Some(Kind::Added) {
                        self.explained.insert(r.num);
                        touched = true;
                    }
                }
            }
        }
        if touched {
            self.allow(
                dss_obj.as_ref().map(|r| r.num),
                "document security store (DSS) added or extended",
                ModificationLevel::LtaUpdates,
            );
        }
    }

    /// The AcroForm dictionary itself. Returns false when it changed in a way no rule allows.
    fn form(&mut self) -> bool {
        let (Some(old_cat), Some(new_cat)) = (self.old.catalog(), self.new.catalog()) else {
            return true;
        };
        let new_form_obj = new_cat.get("AcroForm").cloned().unwrap_or(Object::Null);
        let old_form_obj = old_cat.get("AcroForm").cloned().unwrap_or(Object::Null);
        let form_ref = new_form_obj.as_ref();
        let form_kind = self.kind(form_ref);
        let direct_changed = form_ref.is_none() && new_form_obj != old_form_obj;
        if form_kind.is_none() && !direct_changed && new_form_obj == old_form_obj {
            return true;
        }
        let old_form = self.old.dict(&old_form_obj).unwrap_or_default();
        let Some(new_form) = self.new.dict(&new_form_obj) else {
            if !old_form.is_empty() {
                self.flag(None, "the interactive form (AcroForm) was removed");
                return false;
            }
            return true;
        };
        let mut ok = true;
        let anchor = form_ref.map(|r| r.num);
        for (key, how) in changed_keys(&old_form, &new_form) {
            match key.as_str() {
                "Fields" | "SigFlags" | "DA" | "DR" => {}
                "NeedAppearances" => {
                    if new_form.get("NeedAppearances") == Some(&Object::Bool(true)) {
                        ok = false;
                        self.flag(
                            anchor,
                            "AcroForm: /NeedAppearances set: viewers would redraw every field",
                        );
                    }
                }
                _ => {
                    ok = false;
                    self.flag(anchor, format!("AcroForm: /{key} {how}"));
                }
            }
        }
        // Fields may only be appended.
        let old_fields = refs_in_array(self.old, old_form.get("Fields"));
        let new_fields = refs_in_array(self.new, new_form.get("Fields"));
        for f in &old_fields {
            if !new_fields.contains(f) {
                ok = false;
                self.flag(
                    Some(f.num),
                    format!("form field (object {}) removed from the AcroForm", f.num),
                );
            }
        }
        if let Some(r) = new_form.get("Fields").and_then(Object::as_ref) {
            if self.kind(Some(r)).is_some() && ok {
                self.explained.insert(r.num);
            }
        }
        if ok {
            if let Some(r) = form_ref {
                if form_kind.is_some() {
                    self.explained.insert(r.num);
                }
            }
        }
        ok
    }

    fn fields(&mut self, _form_ok: bool) {
        let Some(new_cat) = self.new.catalog() else {
            return;
        };
        let Some(new_form) = self
            .new
            .dict(new_cat.get("AcroForm").unwrap_or(&Object::Null))
        else {
            return;
        };
        let old_field_set: HashSet<u32> = self
            .old
            .catalog()
            .and_then(|c| self.old.dict(c.get("AcroForm").unwrap_or(&Object::Null)))
            .map(|f| {
                terminal_fields(self.old, &f)
                    .into_iter()
                    .filter_map(|t| t.field_ref.map(|r| r.num))
                    .collect()
            })
            .unwrap_or_default();
        for t in terminal_fields(self.new, &new_form) {
            if t.ft.as_deref() == Some(b"Sig") {
                self.signature_field(&t, &old_field_set);
            } else {
                self.form_field(&t);
            }
        }
    }

    fn appearance(&mut self, widget: &Dict) {
        if let Some(ap) = widget.get("AP") {
            let ap = ap.clone();
            if let Some(r) = ap.as_ref() {
                if self.kind(Some(r)) == Some(Kind::Added) {
                    self.explained.insert(r.num);
                }
            }
            let resolved = self.new.resolve(&ap);
            self.explain_new(&resolved);
        }
    }

    fn signature_field(&mut self, t: &Terminal, _old_fields: &HashSet<u32>) {
        let name = t.name.clone();
        let value = t.dict.get("V").cloned().unwrap_or(Object::Null);
        let vdict = self.new.dict(&value);
        let is_ts = vdict.as_ref().is_some_and(|d| {
            d.name("Type") == Some(b"DocTimeStamp") || d.name("SubFilter") == Some(b"ETSI.RFC3161")
        });
        let level = if is_ts {
            ModificationLevel::LtaUpdates
        } else {
            ModificationLevel::FormFilling
        };
        let what_sig = if is_ts {
            "document timestamp"
        } else {
            "signature"
        };
        let field_kind = self.kind(t.field_ref);
        let widget_changed = t.widgets.iter().any(|(r, _)| self.kind(*r).is_some());
        let value_kind = self.kind(value.as_ref());
        if field_kind.is_none() && !widget_changed && value_kind.is_none() {
            return;
        }
        let fnum = t.field_ref.map(|r| r.num);
        let p1 = self.docmdp == Some(1) && !is_ts;
        let mut ok = true;
        match field_kind {
            Some(Kind::Added) => {
                if p1 {
                    ok = false;
                    self.flag(fnum, format!("a new signature field {name:?} was added to a document certified with no changes allowed (DocMDP P=1)"));
                } else {
                    self.allow(fnum, format!("new {what_sig} field {name:?}"), level);
                }
            }
            Some(Kind::Modified) => {
                let old = t
                    .field_ref
                    .map(|r| self.old.get(r))
                    .and_then(|o| o.as_dict().cloned())
                    .unwrap_or_default();
                let was_signed = old.get("V").is_some_and(|v| !v.is_null());
                let keys = changed_keys(&old, &t.dict);
                let bad: Vec<_> = keys
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "V" | "AP"))
                    .cloned()
                    .collect();
                if was_signed && keys.iter().any(|(k, _)| k == "V") {
                    ok = false;
                    self.flag(
                        fnum,
                        format!("signature field {name:?}: its existing signature was replaced"),
                    );
                } else if !bad.is_empty() {
                    ok = false;
                    self.flag(
                        fnum,
                        format!("signature field {name:?}: {}", list_keys(&bad)),
                    );
                } else if p1 && keys.iter().any(|(k, _)| k == "V") {
                    ok = false;
                    self.flag(fnum, format!("signature field {name:?} was signed on a document certified with no changes allowed (DocMDP P=1)"));
                } else if keys.iter().any(|(k, _)| k == "V") {
                    self.allow(
                        fnum,
                        format!("empty {what_sig} field {name:?} signed"),
                        level,
                    );
                } else if keys.is_empty() {
                } else {
                    self.allow(
                        fnum,
                        format!("appearance of signature field {name:?} updated"),
                        level,
                    );
                }
            }
            Some(Kind::Deleted) => {
                ok = false;
                self.flag(fnum, format!("signature field {name:?} deleted"));
            }
            None => {}
        }
        if ok {
            if let Some(r) = t.field_ref {
                if field_kind.is_some() {
                    self.explained.insert(r.num);
                }
            }
        }
        // The signature dictionary: only a new one is acceptable.
        if let Some(vr) = value.as_ref() {
            if value_kind == Some(Kind::Added) && ok {
                self.explained.insert(vr.num);
            }
        }
        // Widgets.
        for (wr, wd) in &t.widgets {
            let wkind = self.kind(*wr);
            let wnum = wr.map(|r| r.num);
            let merged = *wr == t.field_ref;
            match wkind {
                Some(Kind::Added) => {
                    if let Some(n) = wnum {
                        if ok {
                            self.explained.insert(n);
                        }
                    }
                }
                Some(Kind::Modified) if !merged => {
                    let old = wr
                        .map(|r| self.old.get(r))
                        .and_then(|o| o.as_dict().cloned())
                        .unwrap_or_default();
                    let bad: Vec<_> = changed_keys(&old, wd)
                        .into_iter()
                        .filter(|(k, _)| k != "AP")
                        .collect();
                    if bad.is_empty() {
                        if let Some(n) = wnum {
                            self.explained.insert(n);
                        }
                    } else {
                        self.flag(
                            wnum,
                            format!("widget of signature field {name:?}: {}", list_keys(&bad)),
                        );
                    }
                }
                _ => {}
            }
            if ok && (field_kind.is_some() || wkind.is_some()) {
                if let Some(n) = wnum {
                    self.sig_widgets.insert(n);
                }
                self.appearance(wd);
            }
        }
    }

    fn form_field(&mut self, t: &Terminal) {
        let name = t.name.clone();
        let field_kind = self.kind(t.field_ref);
        let changed_widgets: Vec<(Option<ObjRef>, Dict)> = t
            .widgets
            .iter()
            .filter(|(r, _)| self.kind(*r).is_some() && *r != t.field_ref)
            .cloned()
            .collect();
        if field_kind.is_none() && changed_widgets.is_empty() {
            return;
        }
        let fnum = t.field_ref.map(|r| r.num);
        if field_kind == Some(Kind::Added) {
            self.flag(fnum, format!("form field {name:?} added after signing"));
            return;
        }
        let permitted = matches!(self.docmdp, Some(2 | 3)) && !self.lock.locks(&name);
        let why_not = match self.docmdp {
            None => "the document is not certified, so no form filling was permitted after signing",
            Some(1) => "the document is certified with no changes allowed (DocMDP P=1)",
            _ => "the field is locked by a signature (FieldMDP)",
        };
        let allowed_keys = |k: &str| matches!(k, "V" | "AP" | "AS");
        let mut ok = true;
        let mut what = Vec::new();
        if field_kind == Some(Kind::Modified) {
            let old = t
                .field_ref
                .map(|r| self.old.get(r))
                .and_then(|o| o.as_dict().cloned())
                .unwrap_or_default();
            let keys = changed_keys(&old, &t.dict);
            if keys.iter().any(|(k, _)| !allowed_keys(k)) {
                ok = false;
            }
            what.extend(keys);
        }
        for (wr, wd) in &changed_widgets {
            let old = wr
                .map(|r| self.old.get(r))
                .and_then(|o| o.as_dict().cloned())
                .unwrap_or_default();
            let keys = changed_keys(&old, wd);
            if keys.iter().any(|(k, _)| !matches!(k.as_str(), "AP" | "AS")) {
                ok = false;
            }
            what.extend(keys);
        }
        if ok && permitted {
            if let Some(r) = t.field_ref {
                self.explained.insert(r.num);
                let v = self.new.get(r);
                if let Some(d) = v.as_dict() {
                    if let Some(val) = d.get("V") {
                        let val = val.clone();
                        self.explain_new(&val);
                    }
                }
            }
            for (wr, wd) in &t.widgets {
                if let Some(r) = wr {
                    if self.kind(Some(*r)).is_some() {
                        self.explained.insert(r.num);
                    }
                }
                self.appearance(wd);
            }
            self.allow(
                fnum,
                format!("form field {name:?} filled ({})", list_keys(&what)),
                ModificationLevel::FormFilling,
            );
        } else if !permitted {
            self.flag(
                fnum,
                format!(
                    "form field {name:?} changed after signing ({}): {why_not}",
                    list_keys(&what)
                ),
            );
        } else {
            self.flag(fnum, format!("form field {name:?}: {}", list_keys(&what)));
        }
    }

    fn pages(&mut self) {
        let old_pages = self.old.page_refs();
        let new_pages = self.new.page_refs();
        let old_set: HashSet<ObjRef> = old_pages.iter().copied().collect();
        let new_set: HashSet<ObjRef> = new_pages.iter().copied().collect();
        for (i, p) in old_pages.iter().enumerate() {
            if !new_set.contains(p) {
                self.flag(
                    Some(p.num),
                    format!("page {} (object {}) was removed", i + 1, p.num),
                );
            }
        }
        if old_pages.len() != new_pages.len() || old_pages != new_pages {
            for (i, p) in new_pages.iter().enumerate() {
                if !old_set.contains(p) {
                    self.flag(
                        Some(p.num),
                        format!("page {} (object {}) was added", i + 1, p.num),
                    );
                }
            }
        }
        for (i, p) in new_pages.iter().enumerate() {
            if !old_set.contains(p) {
                continue;
            }
            let page_no = i + 1;
            let page_kind = self.kind(Some(*p));
            let new_page = self.new.get(*p).as_dict().cloned().unwrap_or_default();
            let old_page = self.old.get(*p).as_dict().cloned().unwrap_or_default();
            let annots_ref = new_page.get("Annots").and_then(Object::as_ref);
            let annots_kind = self.kind(annots_ref);
            let mut page_ok = true;
            if page_kind.is_some() {
                let keys = changed_keys(&old_page, &new_page);
                let bad: Vec<_> = keys
                    .iter()
                    .filter(|(k, _)| k != "Annots")
                    .cloned()
                    .collect();
                if !bad.is_empty() {
                    page_ok = false;
                    self.flag(Some(p.num), format!("page {page_no}: {}", list_keys(&bad)));
                }
            }
            let old_annots = refs_in_array(self.old, old_page.get("Annots"));
            let new_annots = refs_in_array(self.new, new_page.get("Annots"));
            let mut annots_ok = true;
            if old_annots != new_annots {
                for a in &old_annots {
                    if !new_annots.contains(a) {
                        if self.docmdp == Some(3) {
                            self.allow(
                                Some(a.num),
                                format!("page {page_no}: annotation (object {}) removed", a.num),
                                ModificationLevel::Annotations,
                            );
                        } else {
                            annots_ok = false;
                            self.flag(
                                Some(a.num),
                                format!("page {page_no}: annotation (object {}) removed", a.num),
                            );
                        }
                    }
                }
                for a in &new_annots {
                    if old_annots.contains(a) || self.sig_widgets.contains(&a.num) {
                        continue;
                    }
                    let ad = self.new.get(*a).as_dict().cloned().unwrap_or_default();
                    let subtype = ad
                        .name("Subtype")
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .unwrap_or_else(|| "?".into());
                    if self.docmdp == Some(3) && subtype != "Widget" {
                        self.explained.insert(a.num);
                        self.appearance(&ad);
                        if let Some(pop) = ad.get("Popup").cloned() {
                            self.explain_new(&pop);
                        }
                        self.allow(Some(a.num), format!("page {page_no}: /{subtype} annotation added (DocMDP P=3 permits annotations)"), ModificationLevel::Annotations);
                    } else {
                        annots_ok = false;
                        self.flag(
                            Some(a.num),
                            format!("page {page_no}: a /{subtype} annotation (object {}) was added over the signed content", a.num),
                        );
                    }
                }
            }
            if annots_ok {
                if let Some(r) = annots_ref {
                    if annots_kind.is_some() {
                        self.explained.insert(r.num);
                    }
                }
                if page_ok && page_kind.is_some() {
                    self.explained.insert(p.num);
                }
            }
            // Existing annotations modified: only with P=3 (widgets are judged with their field).
            for a in &new_annots {
                if self.kind(Some(*a)) != Some(Kind::Modified) || self.explained.contains(&a.num) {
                    continue;
                }
                let ad = self.new.get(*a).as_dict().cloned().unwrap_or_default();
                if self.docmdp == Some(3) && ad.name("Subtype") != Some(b"Widget") {
                    self.explained.insert(a.num);
                    self.appearance(&ad);
                    self.allow(Some(a.num), format!("page {page_no}: annotation (object {}) modified (DocMDP P=3 permits annotations)", a.num), ModificationLevel::Annotations);
                }
            }
        }
    }

    fn leftovers(&mut self) {
        let reachable = self.new.reachable();
        let items: Vec<(u32, Kind)> = self
            .changed
            .iter()
            .filter(|(n, _)| !self.explained.contains(n))
            .map(|(n, k)| (*n, *k))
            .collect();
        for (n, kind) in items {
            match kind {
                Kind::Added if !reachable.contains(&n) => {} // unused new object: shows nothing
                Kind::Deleted if !self.old.reachable().contains(&n) => {}
                _ => {
                    let what = self.describe(n, kind);
                    self.flag(Some(n), what);
                }
            }
        }
    }

    fn describe(&self, n: u32, kind: Kind) -> String {
        let new = self.new.get_num(n);
        let old = self.old.get_num(n);
        let shown = if new.is_null() { &old } else { &new };
        let what = describe_object(shown);
        match kind {
            Kind::Added => format!("object {n} ({what}) added and used by the document"),
            Kind::Deleted => format!("object {n} ({what}) deleted"),
            Kind::Modified => {
                let detail = match (&*old, &*new) {
                    (Object::Stream(a), Object::Stream(b)) => {
                        let keys = changed_keys(&a.dict, &b.dict);
                        if a.data != b.data && keys.is_empty() {
                            "its data changed".to_string()
                        } else if a.data != b.data {
                            format!("its data changed, {}", list_keys(&keys))
                        } else {
                            list_keys(&keys)
                        }
                    }
                    (a, b) => match (a.as_dict(), b.as_dict()) {
                        (Some(da), Some(db)) => list_keys(&changed_keys(da, db)),
                        _ => "its value changed".to_string(),
                    },
                };
                format!("object {n} ({what}) modified: {detail}")
            }
        }
    }
}

fn describe_object(o: &Object) -> String {
    let Some(d) = o.as_dict() else {
        return match o {
            Object::Array(_) => "array".into(),
            Object::Null => "null".into(),
            _ => "value".into(),
        };
    };
    let t = d
        .name("Type")
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let st = d
        .name("Subtype")
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let is_stream = matches!(o, Object::Stream(_));
    match (t.as_deref(), st.as_deref()) {
        (Some("Sig"), _) => "signature dictionary".into(),
        (Some("DocTimeStamp"), _) => "document timestamp dictionary".into(),
        (Some("Page"), _) => "page".into(),
        (Some("Pages"), _) => "page tree node".into(),
        (Some("Font"), _)
        | (_, Some("Type1" | "TrueType" | "Type0" | "Type3" | "CIDFontType2")) => "font".into(),
        (Some("FontDescriptor"), _) => "font descriptor".into(),
        (Some("Annot"), Some(s)) | (None, Some(s)) if !is_stream => format!("/{s} annotation"),
        (_, Some("Form")) => "form XObject".into(),
        (_, Some("Image")) => "image".into(),
        (Some(t), _) => format!("/{t}"),
        (None, _) if is_stream => {
            if d.contains("Length1") || d.contains("Length2") {
                "font program".into()
            } else {
                "content stream".into()
            }
        }
        _ => "dictionary".into(),
    }
}

/// The references listed in an array (direct or indirect).
fn refs_in_array(view: &View<'_>, o: Option<&Object>) -> Vec<ObjRef> {
    let Some(o) = o else { return Vec::new() };
    match view.resolve(o) {
        Object::Array(a) => a.iter().filter_map(Object::as_ref).collect(),
        _ => Vec::new(),
    }
}

/// A terminal form field with its widgets.
struct Terminal {
    field_ref: Option<ObjRef>,
    name: String,
    ft: Option<Vec<u8>>,
    dict: Dict,
    widgets: Vec<(Option<ObjRef>, Dict)>,
}

fn terminal_fields(view: &View<'_>, form: &Dict) -> Vec<Terminal> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let fields = view.resolve_key(form, "Fields");
    let mut stack = crate::sigdict::field_stack(&fields);
    while let Some((f, parent, parent_ft, depth)) = stack.pop() {
        if depth > 32 || out.len() > 100_000 {
            continue;
        }
        let fref = f.as_ref();
        if let Some(r) = fref {
            if !seen.insert(r) {
                continue;
            }
        }
        let Some(d) = view.dict(&f) else { continue };
        let partial = d.get("T").and_then(|t| {
            view.resolve(t)
                .as_string()
                .map(paraf_pdf::object::decode_text)
        });
        let full = match (&partial, parent.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent}.{p}"),
            (None, _) => parent.clone(),
        };
        let ft = d.name("FT").map(<[u8]>::to_vec).or(parent_ft);
        let kids = view.resolve_key(&d, "Kids");
        let kids: Vec<Object> = kids.as_array().unwrap_or(&[]).to_vec();
        let mut field_kids = Vec::new();
        let mut widgets = Vec::new();
        for k in kids {
            let Some(kd) = view.dict(&k) else { continue };
            if kd.contains("T") {
                field_kids.push(k);
            } else {
                widgets.push((k.as_ref(), kd));
            }
        }
        if field_kids.is_empty() {
            if widgets.is_empty() {
                widgets.push((fref, d.clone()));
            }
            out.push(Terminal {
                field_ref: fref,
                name: full,
                ft,
                dict: d,
                widgets,
            });
        } else {
            for k in field_kids.into_iter().rev() {
                stack.push((k, full.clone(), ft.clone(), depth + 1));
            }
        }
    }
    out
}
