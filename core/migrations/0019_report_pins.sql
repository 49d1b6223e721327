-- Reports a person pinned to their dashboard, in their order.
CREATE TABLE report_pins (
    user_id   INTEGER NOT NULL,
    report_id INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (user_id, report_id)
) WITHOUT ROWID;
CREATE INDEX report_pins_report ON report_pins (report_id);
