-- 0008: the distributor's signed shipment and void statements are kept too, each with the
-- verdict of checking it. 'verified': its CMS, chain, signer (the order's
-- supplier, by DEA-number hash) and order binding held when it arrived; 'rejected': it
-- failed, and is kept byte for byte as received with the reason, never as the supplier's
-- word; 'unsigned': text from the distributor's record, as before.
-- SQLite cannot change a CHECK in place: the table is rebuilt keeping every row, its id and
-- its exact bytes. statement_lines references it, so it is rebuilt alongside (with foreign
-- keys on, a parent with children cannot be dropped).
CREATE TABLE statements_0008 (
    statement_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      TEXT NOT NULL REFERENCES orders (order_id),
    kind          TEXT NOT NULL CHECK (kind IN ('non-acceptance', 'supplier-void', 'shipment')),
    reason        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    body          BLOB NOT NULL,
    body_sha256   TEXT NOT NULL,
    signature     BLOB,
    verification  TEXT NOT NULL CHECK (verification IN ('unsigned', 'verified', 'rejected')),
    rejection     TEXT,
    CHECK ((verification = 'unsigned') = (signature IS NULL)),
    CHECK ((verification = 'rejected') = (rejection IS NOT NULL))
);
-- Rows signed before 0008 were kept only after they verified (sync/worker.py).
INSERT INTO statements_0008 (statement_id, order_id, kind, reason, received_at, media_type,
    body, body_sha256, signature, verification, rejection)
SELECT statement_id, order_id, kind, reason, received_at, media_type, body, body_sha256,
    signature, CASE WHEN signature IS NULL THEN 'unsigned' ELSE 'verified' END, NULL
FROM statements ORDER BY statement_id;

CREATE TABLE statement_lines_0008 (
    statement_id     INTEGER NOT NULL REFERENCES statements_0008 (statement_id),
    line_no          INTEGER NOT NULL CHECK (line_no > 0),
    quantity_voided  INTEGER NOT NULL CHECK (quantity_voided > 0),
    PRIMARY KEY (statement_id, line_no)
);
INSERT INTO statement_lines_0008 SELECT statement_id, line_no, quantity_voided
FROM statement_lines;

DROP TABLE statement_lines;
DROP TABLE statements;
-- Renaming also points statement_lines_0008's reference at the new name.
ALTER TABLE statements_0008 RENAME TO statements;
ALTER TABLE statement_lines_0008 RENAME TO statement_lines;

CREATE INDEX statements_by_order ON statements (order_id);
CREATE TRIGGER statements_never_change BEFORE UPDATE ON statements
BEGIN SELECT RAISE(ABORT, 'statements from the distributor never change'); END;
CREATE TRIGGER statements_are_kept BEFORE DELETE ON statements
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'statements from the distributor are kept (1305.25)'); END;
CREATE TRIGGER statement_lines_never_change BEFORE UPDATE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'statement lines never change'); END;
CREATE TRIGGER statement_lines_are_kept BEFORE DELETE ON statement_lines
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'statement lines are kept'); END;
