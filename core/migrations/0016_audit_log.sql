-- The administrators' audit log: sign-ins, schema, roles, users and plugins — who, when, from
-- where, what. Rows are only ever added: the triggers refuse every change and deletion.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    INTEGER,
    -- The actor's username when it happened (kept if the user is renamed or removed).
    actor_name TEXT NOT NULL DEFAULT '',
    address  TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE TRIGGER audit_log_never_updated BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is never edited'); END;
CREATE TRIGGER audit_log_never_deleted BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is never edited'); END;
