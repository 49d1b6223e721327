-- Administrators may replace a select field's options (e.g. a pipeline's stages).
ALTER TABLE schema_fields ADD COLUMN options TEXT;
