-- Workflows an administrator defines per entity type, and the approvals their transitions ask.
CREATE TABLE workflows (
    entity      TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    updated_by  INTEGER,
    updated_at  TEXT NOT NULL
);

CREATE TABLE approvals (
    id            INTEGER PRIMARY KEY,
    entity        TEXT NOT NULL,
    record_id     INTEGER NOT NULL,
    transition    TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL,
    requested_by  INTEGER,
    requested_at  TEXT NOT NULL,
    decided_at    TEXT
);
CREATE INDEX approvals_record ON approvals (entity, record_id);
CREATE INDEX approvals_status ON approvals (status);

CREATE TABLE approval_decisions (
    id           INTEGER PRIMARY KEY,
    approval_id  INTEGER NOT NULL REFERENCES approvals (id),
    step         INTEGER NOT NULL,
    user_id      INTEGER,
    decision     TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL
);
CREATE INDEX approval_decisions_approval ON approval_decisions (approval_id);

-- Who the current step of each pending approval waits for (resolved when the step begins):
-- each approver (`for_user` = `user_id`), and the delegate of one who is away (`user_id` the
-- delegate, `for_user` the approver they stand in for; valid while the delegation is).
CREATE TABLE approval_waiting (
    approval_id  INTEGER NOT NULL REFERENCES approvals (id),
    user_id      INTEGER NOT NULL,
    for_user     INTEGER NOT NULL,
    PRIMARY KEY (approval_id, user_id, for_user)
);
CREATE INDEX approval_waiting_user ON approval_waiting (user_id, approval_id);
CREATE INDEX approval_waiting_for ON approval_waiting (for_user);

-- A person away names who decides their approvals until a date.
CREATE TABLE delegations (
    user_id      INTEGER PRIMARY KEY,
    delegate_id  INTEGER NOT NULL,
    until        TEXT NOT NULL
);
