-- 0014: the EPCS records an inspector asks for (21 CFR 1311.120(b)(27), 1311.150, 1311.215).
-- The monthly log of a month's controlled-substance prescriptions, made once on the first
-- start after the month ends (the month is the key: two processes starting at once make
-- it once) and kept two years from the day it was made. It is deleted only by the
-- retention purge, whose purge_permit (0003) must say a date on or after keep_until.
CREATE TABLE rx_monthly_logs (
    month        TEXT PRIMARY KEY CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
    produced_at  TEXT NOT NULL,
    keep_until   TEXT NOT NULL,
    lines        INTEGER NOT NULL CHECK (lines >= 0),
    csv          BLOB NOT NULL,
    csv_sha256   TEXT NOT NULL CHECK (length(csv_sha256) = 64)
);
CREATE TRIGGER rx_monthly_logs_never_change BEFORE UPDATE ON rx_monthly_logs
BEGIN SELECT RAISE(ABORT, 'a monthly prescription log never changes (1311.120(b)(27))'); END;
CREATE TRIGGER rx_monthly_logs_are_kept BEFORE DELETE ON rx_monthly_logs
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit WHERE OLD.keep_until <= before)
BEGIN SELECT RAISE(ABORT, 'a monthly prescription log is kept two years (1311.120(b)(27))'); END;

-- Each run of the daily audit analysis: the span of the log it read and what it found.
CREATE TABLE rx_audit_runs (
    run_id          INTEGER PRIMARY KEY,
    ran_at          TEXT NOT NULL,
    analysed_from   TEXT NOT NULL,
    analysed_until  TEXT NOT NULL,
    entries         INTEGER NOT NULL,
    alerts          INTEGER NOT NULL,
    chain_intact    INTEGER NOT NULL CHECK (chain_intact IN (0, 1))
);
CREATE TRIGGER rx_audit_runs_never_change BEFORE UPDATE ON rx_audit_runs
BEGIN SELECT RAISE(ABORT, 'a record of the daily audit analysis never changes'); END;
CREATE TRIGGER rx_audit_runs_are_kept BEFORE DELETE ON rx_audit_runs
BEGIN SELECT RAISE(ABORT, 'records of the daily audit analysis are kept'); END;

-- What the analysis found, shown until someone acknowledges it. One alert per finding:
-- overlapping runs (two processes, a re-run) find the same entries and add nothing.
CREATE TABLE rx_alerts (
    alert_id         INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES rx_audit_runs (run_id),
    kind             TEXT NOT NULL,
    at               TEXT NOT NULL,
    user_id          TEXT,
    message          TEXT NOT NULL,
    entry_ids        TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  TEXT,
    UNIQUE (kind, entry_ids)
);
CREATE TRIGGER rx_alerts_acknowledged_once BEFORE UPDATE ON rx_alerts
    WHEN OLD.acknowledged_at IS NOT NULL OR NEW.acknowledged_at IS NULL
        OR NEW.acknowledged_by IS NULL OR NEW.alert_id <> OLD.alert_id
        OR NEW.run_id <> OLD.run_id OR NEW.kind <> OLD.kind OR NEW.at <> OLD.at
        OR NEW.message <> OLD.message OR NEW.entry_ids <> OLD.entry_ids
        OR NEW.user_id IS NOT OLD.user_id
BEGIN SELECT RAISE(ABORT, 'an alert is only ever acknowledged, once'); END;
CREATE TRIGGER rx_alerts_are_kept BEFORE DELETE ON rx_alerts
BEGIN SELECT RAISE(ABORT, 'alerts are kept, acknowledged or not (1311.150(b))'); END;

-- A refused write is audited by the code that catches it (store/refusals.py), which finds
-- the refusing trigger by its message: each guard of a table now says which write it refused.
DROP TRIGGER audit_log_append_only;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry is never changed'); END;
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry is never deleted'); END;
DROP TRIGGER audit_checkpoints_append_only;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: one is never changed'); END;
DROP TRIGGER audit_checkpoints_no_delete;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: one is never deleted'); END;
