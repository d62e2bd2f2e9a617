-- Webhook endpoints: the events they subscribe to (space-separated; empty: every event) and
-- the previous secret, still signing beside the new one until `previous_secret_until`.
ALTER TABLE webhook_endpoints ADD COLUMN events TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_until INTEGER;
