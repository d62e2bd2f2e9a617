-- Envelopes: documents sent to recipients in ordered groups, with fields per document.

CREATE TABLE envelopes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    model TEXT NOT NULL,
    sender_email TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    face TEXT NOT NULL,
    metadata TEXT NOT NULL,
    options TEXT NOT NULL,
    expires_at INTEGER,
    reminder_days INTEGER,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    completed_at INTEGER
);
CREATE INDEX envelopes_org ON envelopes (org_id, id);
CREATE INDEX envelopes_status ON envelopes (status, expires_at);

CREATE TABLE envelope_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    original_blob TEXT NOT NULL,
    current_blob TEXT NOT NULL,
    pages INTEGER NOT NULL
);
CREATE INDEX envelope_documents_envelope ON envelope_documents (envelope_id, position);

CREATE TABLE recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
    position INTEGER NOT NULL,
    group_no INTEGER NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    language TEXT NOT NULL,
    mobile TEXT,
    second_factor TEXT NOT NULL,
    status TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    token_sealed TEXT,
    token_expires_at INTEGER,
    invited_at INTEGER,
    opened_at INTEGER,
    signed_at INTEGER,
    declined_at INTEGER,
    decline_reason TEXT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX recipients_envelope ON recipients (envelope_id, position);

CREATE TABLE envelope_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
    document_id INTEGER NOT NULL REFERENCES envelope_documents(id),
    recipient_id INTEGER NOT NULL REFERENCES recipients(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    page INTEGER NOT NULL,
    llx DOUBLE PRECISION NOT NULL,
    lly DOUBLE PRECISION NOT NULL,
    urx DOUBLE PRECISION NOT NULL,
    ury DOUBLE PRECISION NOT NULL,
    value TEXT
);
CREATE INDEX envelope_fields_envelope ON envelope_fields (envelope_id, id);
