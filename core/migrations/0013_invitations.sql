-- Invitations: one-time links with which a user sets their own password (only the token's
-- hash is kept); and which notifications have been sent by e-mail.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX invitations_user ON invitations (user_id);

ALTER TABLE notifications ADD COLUMN mailed_at TEXT;
CREATE INDEX notifications_unmailed ON notifications (mailed_at, id);
