-- Credits of an organisation (GesDocs: one per signature request). NULL: unlimited (the
-- organisations an operator makes); self-registered accounts start with `signup_credits`.
ALTER TABLE organisations ADD COLUMN credits INTEGER;
