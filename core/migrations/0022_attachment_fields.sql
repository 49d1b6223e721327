-- The file field a file was uploaded through: a role that hides the field does not see the
-- file, even after the field names another one.
ALTER TABLE attachments ADD COLUMN field TEXT;
