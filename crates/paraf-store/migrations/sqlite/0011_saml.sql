-- SAML single sign-on (issue 14): an organisation's identity-provider settings and the
-- assertions already used.
-- `config_sealed`: the settings (IdP entity and certificates, our entity id, the relay secret)
-- as JSON sealed with the master key, because the relay secret authenticates logins.
CREATE TABLE saml_configurations (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id),
    config_sealed TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
-- One row per accepted assertion ID until it expires, so an assertion is never used twice.
CREATE TABLE saml_replays (
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    assertion_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_replays_expiry ON saml_replays (expires_at);
