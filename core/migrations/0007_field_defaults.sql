-- Administrators may give a field a default value (JSON, as the API takes it); `null`
-- removes the definition's own default.
ALTER TABLE schema_fields ADD COLUMN default_value TEXT;
