-- Crash safety (issue 16).
-- `jobs.dedup_key`: a job queued at most once under this key (a recovery repeating what a
-- crashed process began gets the first job back instead of a second one).
ALTER TABLE jobs ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX jobs_dedup_key ON jobs (dedup_key);
-- `envelopes.announced_at`: when the completion of a completed envelope was announced (its
-- audit record and webhook events queued). A completed envelope not announced after its
-- sealing lease belongs to a process that died in between: the housekeeping announces it.
ALTER TABLE envelopes ADD COLUMN announced_at BIGINT;
UPDATE envelopes SET announced_at = completed_at WHERE status = 'completed';
CREATE INDEX envelopes_unannounced ON envelopes (completed_at)
    WHERE status = 'completed' AND announced_at IS NULL;
