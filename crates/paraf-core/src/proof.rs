//! The proof of a completed envelope: its evidence as JSON (the envelope's uuid, the SHA-256 of
//! every final document, each signer with what they did and from where, the envelope's
//! hash-chained audit records) and a certificate PDF showing the same, with the JSON attached,
//! sealed by the organisation seal at B-LTA. [`Core::check_with_certificate`] is the other
//! half: a document and a certificate → do they belong together, and is the certificate ours.

use paraf_domain::{
    AuditRecord, BlobId, DomainError, Entity, Envelope, EnvelopeProof, OrgId, Recipient, Timestamp,
};
use paraf_sign::pages::{Attachment, NewPage, TextBlock, A4};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::signing::{sign_file_with, FileJob, Look};
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// The name of the JSON attached inside the certificate PDF.
pub const PROOF_ATTACHMENT: &str = "certificat.json";
/// The `type` of the proof JSON.
pub const PROOF_TYPE: &str = "paraf.envelope-proof";
/// At most this many audit records go into a proof.
const MAX_AUDIT: u32 = 5_000;

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `dd/mm/yyyy HH:MM:SS` in UTC: how GesDocs shows certificate dates.
pub fn proof_date(t: Timestamp) -> String {
    t.format("%d/%m/%Y %H:%M:%S").to_string()
}

/// RFC 3339 in UTC, to the second.
fn rfc3339_at(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn rfc3339(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(rfc3339_at(t)))
}

fn signer_evidence(r: &Recipient, e: &Envelope) -> Value {
    json!({
        "position": r.position,
        "group": r.group,
        "email": r.email.as_str(),
        "first_name": r.first_name,
        "last_name": r.last_name,
        "status": r.status.as_str(),
        "signed_at": rfc3339(r.signed_at),
        "declined_at": rfc3339(r.declined_at),
        "ip": r.ip,
        "user_agent": r.user_agent,
        "invited_at": rfc3339(r.invited_at),
        "opened_at": rfc3339(r.opened_at),
        "second_factor": r.second_factor.as_str(),
        "code_verified_at": rfc3339(r.verified_at),
        "signature_model": e.header.model.as_str(),
    })
}

fn audit_evidence(a: &AuditRecord) -> Value {
    json!({
        "seq": a.seq,
        "at": rfc3339_at(a.at),
        "actor": a.actor,
        "action": a.action,
        "ip": a.ip,
        "user_agent": a.user_agent,
        "details": serde_json::from_str::<Value>(&a.details).unwrap_or(Value::Null),
        "prev_hash": a.prev_hash,
        "hash": a.hash,
    })
}

/// Cuts `s` into lines of at most `width` characters (at spaces when it can).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The certificate's labels in `lang` (French or English).
struct Labels {
    title: &'static str,
    envelope: &'static str,
    subject: &'static str,
    organisation: &'static str,
    requester: &'static str,
    created: &'static str,
    completed: &'static str,
    documents: &'static str,
    signers: &'static str,
    signed: &'static str,
    code: &'static str,
    browser: &'static str,
    trail: &'static str,
    attached: &'static str,
}

fn labels(lang: &str) -> Labels {
    if lang == "fr" {
        Labels {
            title: "Certificat de preuve",
            envelope: "Enveloppe",
            subject: "Objet",
            organisation: "Organisation",
            requester: "Demandeur",
            created: "Créée le",
            completed: "Terminée le",
            documents: "Documents (empreinte SHA-256 du document final)",
            signers: "Signataires",
            signed: "signé le",
            code: "code vérifié le",
            browser: "navigateur",
            trail: "Journal d'audit chaîné (SHA-256)",
            attached: "Les mêmes données au format JSON sont jointes à ce PDF (certificat.json).",
        }
    } else {
        Labels {
            title: "Certificate of evidence",
            envelope: "Envelope",
            subject: "Subject",
            organisation: "Organisation",
            requester: "Requested by",
            created: "Created",
            completed: "Completed",
            documents: "Documents (SHA-256 of the final document)",
            signers: "Signers",
            signed: "signed",
            code: "code verified",
            browser: "browser",
            trail: "Hash-chained audit trail (SHA-256)",
            attached: "The same data as JSON is attached to this PDF (certificat.json).",
        }
    }
}

/// Lines per certificate page (9 pt).
const LINES_PER_PAGE: usize = 60;
const WRAP: usize = 100;

/// The certificate's pages: a title, then the evidence as lines, paginated.
fn certificate_pages(proof: &Value, lang: &str) -> Vec<NewPage> {
    let l = labels(lang);
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut lines: Vec<String> = vec![
        format!("{}: {}", l.envelope, s(&proof["uuid"])),
        format!("{}: {}", l.subject, s(&proof["title"])),
        format!("{}: {}", l.organisation, s(&proof["organisation"])),
        format!("{}: {}", l.requester, s(&proof["requester"])),
        format!("{}: {}", l.created, s(&proof["created_at"])),
        format!("{}: {}", l.completed, s(&proof["completed_at"])),
        String::new(),
        l.documents.to_string(),
    ];
    for d in proof["documents"].as_array().into_iter().flatten() {
        lines.push(format!("  {}. {}", d["position"], s(&d["name"])));
        lines.push(format!("     {}", s(&d["sha256"])));
    }
    lines.push(String::new());
    lines.push(l.signers.to_string());
    for r in proof["signers"].as_array().into_iter().flatten() {
        lines.push(format!(
            "  {}. {} {} <{}> — {}",
            r["position"],
            s(&r["first_name"]),
            s(&r["last_name"]),
            s(&r["email"]),
            s(&r["status"])
        ));
        if !r["signed_at"].is_null() {
            lines.push(format!("     {} {}", l.signed, s(&r["signed_at"])));
        }
        if !r["code_verified_at"].is_null() {
            lines.push(format!(
                "     {} {} ({})",
                l.code,
                s(&r["code_verified_at"]),
                s(&r["second_factor"])
            ));
        }
        let from = format!(
            "     IP {} — {} {}",
            s(&r["ip"]),
            l.browser,
            s(&r["user_agent"])
        );
        lines.extend(wrap(&from, WRAP));
    }
    lines.push(String::new());
    lines.push(l.trail.to_string());
    for a in proof["audit"].as_array().into_iter().flatten() {
        let row = format!(
            "  #{} {} {} {} {}",
            a["seq"],
            s(&a["at"]),
            s(&a["action"]),
            s(&a["actor"]),
            a["ip"].as_str().unwrap_or("")
        );
        lines.extend(wrap(&row, WRAP));
        lines.push(format!("     {}", s(&a["hash"])));
    }
    lines.push(String::new());
    lines.push(l.attached.to_string());

    let mut pages = Vec::new();
    for chunk in lines.chunks(LINES_PER_PAGE) {
        let mut p = NewPage::a4();
        let margin = 48.0;
        p.texts.push(TextBlock {
            rect: [margin, 774.0, A4.0 - margin, 804.0],
            lines: vec![l.title.to_string()],
        });
        // 9 pt lines: 1.2 × 9 per line plus the appearance's padding.
        let height = chunk.len() as f64 * 10.8 + 8.0;
        p.texts.push(TextBlock {
            rect: [margin, 760.0 - height, A4.0 - margin, 760.0],
            lines: chunk.to_vec(),
        });
        pages.push(p);
    }
    pages
}

/// What [`Core::check_with_certificate`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofCheck {
    pub outcome: ProofOutcome,
    pub hash_from_cert: Option<String>,
    pub hash_of_doc: String,
    pub uuid_from_cert: Option<String>,
    pub date_from_cert: Option<String>,
    pub date_in_db: Option<String>,
}

/// The verdict of a document + certificate check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofOutcome {
    /// The certificate is ours, intact, and names this document.
    Valid,
    /// The certificate is not a PDF carrying a proof.
    NotACertificate,
    /// The certificate's seal is missing, broken or not from this server's CA.
    CertificateNotAuthentic,
    /// No envelope of the organisation has the certificate's uuid, or it was not completed at
    /// the certificate's date.
    UnknownEnvelope,
    /// The document is not the one the certificate speaks about.
    HashMismatch,
}

impl Core {
    /// Builds, seals and stores the proof of `e`, whose documents are final, completed at `at`.
    pub(crate) async fn make_proof(&self, e: &Envelope, at: Timestamp) -> Result<EnvelopeProof> {
        let org = self.store.organisation(e.org).await?;
        let recipients = self.store.recipients(e.id).await?;
        let files = self.envelope_files(e).await?;
        let audit = self
            .store
            .audit_of_target(e.org, &format!("envelope:{}", e.uuid), MAX_AUDIT)
            .await?;
        let documents: Vec<Value> = files
            .iter()
            .map(|(d, bytes)| {
                json!({"position": d.position, "name": d.name, "pages": d.pages,
                       "sha256": sha256_hex(bytes), "size": bytes.len()})
            })
            .collect();
        let proof = json!({
            "type": PROOF_TYPE,
            "version": 1,
            "uuid": e.uuid,
            "title": e.header.title,
            "organisation": org.name.as_str(),
            "requester": e.header.sender_email.as_str(),
            "created_at": rfc3339_at(e.created_at),
            "sent_at": rfc3339(e.sent_at),
            "completed_at": rfc3339_at(at),
            "completed_at_text": proof_date(at),
            "document_hash": documents.first().map_or(Value::Null, |d| d["sha256"].clone()),
            "documents": documents,
            "signers": recipients.iter().map(|r| signer_evidence(r, e)).collect::<Vec<_>>(),
            "audit": audit.iter().map(audit_evidence).collect::<Vec<_>>(),
            "metadata": e.header.metadata,
        });
        let json_bytes = serde_json::to_vec_pretty(&proof).map_err(CoreError::internal)?;
        let lang = recipients.first().map_or("en", |r| r.language.as_str());
        let pages = certificate_pages(&proof, lang);
        let title = format!("{} — {}", labels(lang).title, e.uuid);
        let seal = self.organisation_seal(e).await?;
        let pki = self.pki.clone();
        let when: std::time::SystemTime = at.into();
        let attachment = Attachment {
            name: PROOF_ATTACHMENT.into(),
            bytes: json_bytes.clone(),
        };
        let pdf = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let base = paraf_sign::pages::empty_document(&title);
            let doc = paraf_pdf::Document::load(base, None).map_err(CoreError::internal)?;
            let with_pages = paraf_sign::pages::add_pages(&doc, &pages, Some(&attachment))
                .map_err(CoreError::internal)?;
            let ca = pki.current().map_err(CoreError::internal)?;
            let job = FileJob {
                pdf: with_pages,
                field: "certificate".into(),
                pdf_password: None,
                look: Look::Invisible,
                reason: Some("Certificate of evidence".into()),
                location: None,
                field_name: None,
            };
            let sealed = sign_file_with(&ca, seal.as_ref(), job, when, paraf_sign::Level::BLT, "")?;
            let doc = paraf_pdf::Document::load(sealed, None).map_err(CoreError::internal)?;
            paraf_sign::document_timestamp(&doc, ca.tsa()).map_err(CoreError::internal)
        })
        .await
        .map_err(CoreError::internal)??;
        let put = |b: Vec<u8>| async move {
            self.blobs
                .put(&b)
                .await
                .map_err(CoreError::internal)
                .map(|id: BlobId| id)
        };
        let p = EnvelopeProof {
            pdf: put(pdf).await?,
            json: put(json_bytes).await?,
        };
        self.store.set_envelope_proof(e.id, &p).await?;
        Ok(p)
    }

    /// The proof of a completed envelope: the certificate PDF and JSON bytes.
    pub async fn envelope_proof(&self, e: &Envelope) -> Result<(Vec<u8>, Vec<u8>)> {
        let p = e
            .proof
            .as_ref()
            .ok_or(CoreError::Domain(DomainError::not_found(Entity::Blob)))?;
        Ok((
            self.stored_file(&p.pdf).await?,
            self.stored_file(&p.json).await?,
        ))
    }

    /// Checks that `document` is the one `certificate` (a proof certificate PDF) speaks about,
    /// that the certificate is sealed by this server's CA and intact, and that it names a
    /// completed envelope of `org` with the same completion date.
    pub async fn check_with_certificate(
        &self,
        org: OrgId,
        document: &[u8],
        certificate: Vec<u8>,
        actor: &Actor,
    ) -> Result<ProofCheck> {
        let mut check = ProofCheck {
            outcome: ProofOutcome::NotACertificate,
            hash_from_cert: None,
            hash_of_doc: sha256_hex(document),
            uuid_from_cert: None,
            date_from_cert: None,
            date_in_db: None,
        };
        let verified = match self.verify_pdf(certificate, None).await {
            Ok(v) => v,
            Err(crate::verification::VerificationError::Unreadable { .. }) => return Ok(check),
            Err(crate::verification::VerificationError::Core(e)) => return Err(e),
        };
        let proof = tokio::task::spawn_blocking(move || {
            let doc = paraf_pdf::Document::load(verified.pdf, None).ok()?;
            let bytes = paraf_sign::pages::attachment(&doc, PROOF_ATTACHMENT).ok()??;
            let v: Value = serde_json::from_slice(&bytes).ok()?;
            Some((v, verified.report))
        })
        .await
        .map_err(CoreError::internal)?;
        let Some((proof, report)) = proof else {
            return Ok(check);
        };
        if proof["type"] != PROOF_TYPE {
            return Ok(check);
        }
        let text = |k: &str| proof[k].as_str().map(str::to_string);
        check.uuid_from_cert = text("uuid");
        check.hash_from_cert = text("document_hash");
        check.date_from_cert = text("completed_at_text");
        let hashes: Vec<&str> = proof["documents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["sha256"].as_str())
            .collect();
        let named = hashes.iter().any(|h| **h == check.hash_of_doc);
        if named {
            check.hash_from_cert = Some(check.hash_of_doc.clone());
        }
        // Ours is never changed after its seal: the last signature or timestamp covers the
        // whole file.
        let intact = report.indication == paraf_verify::Indication::TotalPassed
            && report
                .signatures
                .last()
                .is_some_and(|s| s.covers_whole_file)
            && report
                .signatures
                .iter()
                .all(|s| s.indication == paraf_verify::Indication::TotalPassed);
        check.outcome = if !intact {
            ProofOutcome::CertificateNotAuthentic
        } else {
            let envelope = match &check.uuid_from_cert {
                Some(u) => match self.store.envelope_by_uuid(Some(org), u).await {
                    Ok(e) => Some(e),
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(e.into()),
                },
                None => None,
            };
            check.date_in_db = envelope
                .as_ref()
                .and_then(|e| e.completed_at)
                .map(proof_date);
            match envelope {
                Some(e) if check.date_in_db == check.date_from_cert => {
                    // A completed document renewed since (`ltv refresh`) is a version this
                    // server wrote for the envelope after its completion: its record vouches.
                    let renewed = !named
                        && match e.completed_at {
                            Some(at) => {
                                self.store
                                    .is_archive_version(e.id, &check.hash_of_doc, at)
                                    .await?
                            }
                            None => false,
                        };
                    if renewed {
                        check.hash_from_cert = Some(check.hash_of_doc.clone());
                    }
                    if named || renewed {
                        ProofOutcome::Valid
                    } else {
                        ProofOutcome::HashMismatch
                    }
                }
                _ => ProofOutcome::UnknownEnvelope,
            }
        };
        let event = self.audit_event(
            org,
            actor,
            AuditAction::ProofChecked,
            check
                .uuid_from_cert
                .clone()
                .map(|u| format!("envelope:{u}")),
            json!({"outcome": format!("{:?}", check.outcome), "hash_of_doc": check.hash_of_doc}),
        );
        self.record_later(event);
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_wrapped_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("", 3), vec![""]);
    }
}
