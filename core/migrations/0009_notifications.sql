-- A person's notifications: what happened (a code with parameters, rendered in their language
-- when read), where to look, and whether they have read it.
CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    params    TEXT NOT NULL DEFAULT '{}',
    link      TEXT NOT NULL DEFAULT '',
    read_at   TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
