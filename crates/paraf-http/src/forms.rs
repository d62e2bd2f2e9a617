//! Form bodies as PHP and Laravel clients send them: `signers[0][email]=…` fields (in
//! `multipart/form-data` or `application/x-www-form-urlencoded`) read into the JSON a JSON
//! client would have sent, and multipart files kept apart by field name.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::state::AppState;

/// Highest list index accepted in a bracketed key (`signers[100][…]`): larger ones are
/// dropped rather than allocating a huge list.
pub const MAX_INDEX: usize = 100;

/// A file of a multipart body.
pub struct Upload {
    /// The client's file name (or `<field>.bin`).
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The files of a request, by field name.
pub type Files = HashMap<String, Upload>;

/// Why a form could not be read (each dialect words it in its own shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub status: StatusCode,
    pub detail: String,
}

/// Puts `value` at the path of a bracketed key (`signers[0][email]`) in `root`.
pub fn put_bracketed(root: &mut Value, key: &str, value: Value) {
    let mut parts: Vec<&str> = Vec::new();
    let (head, rest) = key.split_once('[').map_or((key, ""), |(h, r)| (h, r));
    parts.push(head);
    for p in rest.split('[') {
        let p = p.trim_end_matches(']');
        if !p.is_empty() || !rest.is_empty() {
            parts.push(p);
        }
    }
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let next_is_index = parts.get(i + 1).is_some_and(|n| n.parse::<usize>().is_ok());
        let fresh = || if next_is_index { json!([]) } else { json!({}) };
        cur = match cur {
            Value::Array(a) => {
                let Ok(n) = part.parse::<usize>() else { return };
                if n > MAX_INDEX {
                    return;
                }
                while a.len() <= n {
                    a.push(Value::Null);
                }
                if last {
                    a[n] = value;
                    return;
                }
                if a[n].is_null() {
                    a[n] = fresh();
                }
                &mut a[n]
            }
            Value::Object(m) => {
                if last {
                    m.insert((*part).to_string(), value);
                    return;
                }
                m.entry((*part).to_string()).or_insert_with(fresh)
            }
            _ => return,
        };
    }
}

/// Text fields (`name=value`) to JSON; the fields named in `json_fields` are read as JSON
/// text when they parse (`metadata={"id": 1}`).
pub fn bracketed_to_json(pairs: Vec<(String, String)>, json_fields: &[&str]) -> Value {
    let mut root = json!({});
    for (k, v) in pairs {
        let value = if json_fields.contains(&k.as_str()) {
            serde_json::from_str(&v).unwrap_or(Value::String(v))
        } else {
            Value::String(v)
        };
        put_bracketed(&mut root, &k, value);
    }
    root
}

fn unreadable(status: StatusCode, why: impl std::fmt::Display) -> FormError {
    FormError {
        status,
        detail: why.to_string(),
    }
}

/// Reads a `multipart/form-data` body: the parts named in `file_fields` (with a file name
/// or content) are files, every other part a text field.
pub async fn read_multipart(
    req: Request,
    state: &AppState,
    file_fields: &[&str],
) -> Result<(Vec<(String, String)>, Files), FormError> {
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| unreadable(e.status(), e.body_text()))?;
    let mut pairs = Vec::new();
    let mut files = Files::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| unreadable(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?;
        if file_fields.contains(&name.as_str()) && (file_name.is_some() || !bytes.is_empty()) {
            let up = Upload {
                name: file_name.unwrap_or_else(|| format!("{name}.bin")),
                bytes: bytes.to_vec(),
            };
            files.insert(name, up);
        } else {
            pairs.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((pairs, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_fields_become_json() {
        let v = bracketed_to_json(
            vec![
                ("signers[0][email]".into(), "a@x.fr".into()),
                ("signers[0][first_name]".into(), "A".into()),
                ("signers[1][email]".into(), "b@x.fr".into()),
                ("expires_at".into(), "2030-01-01T10:00".into()),
                ("metadata".into(), r#"{"custom_id": "ABC123"}"#.into()),
                ("signers[9999][email]".into(), "huge@x.fr".into()),
            ],
            &["metadata"],
        );
        assert_eq!(
            v,
            json!({"signers": [{"email": "a@x.fr", "first_name": "A"}, {"email": "b@x.fr"}],
                   "expires_at": "2030-01-01T10:00", "metadata": {"custom_id": "ABC123"}})
        );
    }
}
