-- Application keys of the external API (issue 15); see the SQLite twin for the comments.
ALTER TABLE gateway_apps ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_apps ADD COLUMN require_signature BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE gateway_apps ADD COLUMN deleted_at BIGINT;
CREATE INDEX gateway_apps_org ON gateway_apps (org_id);
