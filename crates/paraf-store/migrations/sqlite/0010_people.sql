-- People (issue 14): a user's profile as the API faces show it, their capabilities, password
-- links, paired devices, push tokens, read notifications and signature appearances.
-- `username`: the login name (unique in the organisation when set); `language`: it/en/es/fr/id;
-- `capabilities`: a JSON list when set for this user, NULL = the role's; `profile`: a face's own
-- data about the user (JSON object); `disabled_at`: when the user was disabled.
ALTER TABLE users ADD COLUMN username TEXT;
ALTER TABLE users ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN created_by INTEGER;
ALTER TABLE users ADD COLUMN capabilities TEXT;
ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
CREATE UNIQUE INDEX users_org_username ON users (org_id, username);
-- Envelopes sent to a user (their DSTs, their notifications).
CREATE INDEX recipients_email ON recipients (email);
-- Single-use links and tokens that set a password (`welcome` for a user made without one,
-- `reset` for a lost password, `change` asked by a signed-in user); only the SHA-256 is kept.
CREATE TABLE password_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX password_tokens_user ON password_tokens (org_id, user_id);
-- A user's pending device challenge (one at a time; only the SHA-256 is kept).
CREATE TABLE device_challenges (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    challenge_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL
);
-- Trusted devices: a device paired to a user, with the API token it signs in with.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    api_token_id INTEGER REFERENCES api_tokens(id),
    registered_at INTEGER NOT NULL,
    UNIQUE (org_id, device_id)
);
CREATE INDEX devices_user ON devices (org_id, user_id);
-- Push tokens of trusted devices (sealed: a push token lets anyone message the device).
CREATE TABLE push_tokens (
    device_row INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    token_sealed TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Envelopes whose notifications a user has consumed.
CREATE TABLE notification_reads (
    user_id INTEGER NOT NULL REFERENCES users(id),
    envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, envelope_id)
);
-- Signature appearances (the image a visible signature shows), one per owner
-- (`user:N` for the user's own signatures, `identity:N` for an identity's).
CREATE TABLE appearances (
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    owner TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    blob_id TEXT NOT NULL,
    mime TEXT NOT NULL,
    filename TEXT NOT NULL,
    title TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, owner)
);
-- What the development push sender (the default) would have sent each device: the payload
-- and the device, never its push token.
CREATE TABLE push_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_outbox_user ON push_outbox (org_id, user_id, id);
