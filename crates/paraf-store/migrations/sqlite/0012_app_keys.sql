-- Application keys of the external API (issue 15): a seed-004 client system holds an Ed25519
-- private key; Paraf keeps its public key.
-- `public_key`: the raw 32-byte Ed25519 public key, base64; `require_signature`: every request
-- must carry `x-signature`; `deleted_at`: deleted (kept for the token families naming it).
-- `private_key_hash` (0001) is no longer written: the shared-secret scheme it served is gone.
ALTER TABLE gateway_apps ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_apps ADD COLUMN require_signature BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE gateway_apps ADD COLUMN deleted_at INTEGER;
CREATE INDEX gateway_apps_org ON gateway_apps (org_id);
