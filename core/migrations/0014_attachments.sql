-- Files attached to records, kept in the database beside them: a backup holds them, and every
-- host of a shared database serves them. The content type is sniffed from the bytes.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    entity       TEXT NOT NULL,
    record_id    INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_by   INTEGER,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_record ON attachments (entity, record_id, id);
