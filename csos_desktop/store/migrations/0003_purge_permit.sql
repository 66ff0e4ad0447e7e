-- Records older than two years may be purged (21 CFR 1305.27, 1311.60), but only by the
-- purge command, after a verified archive holds them: the keep-forever triggers now yield
-- to a row in purge_permit, which exists only inside the purge's own transaction.
CREATE TABLE purge_permit (
    only_row  INTEGER PRIMARY KEY CHECK (only_row = 1),
    before    TEXT NOT NULL
);

DROP TRIGGER signed_orders_are_kept;
CREATE TRIGGER signed_orders_are_kept BEFORE DELETE ON signed_orders
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'signed orders are kept (21 CFR 1305.27)'); END;

DROP TRIGGER receipts_are_kept;
CREATE TRIGGER receipts_are_kept BEFORE DELETE ON receipts
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'signed receipts are kept (21 CFR 1305.27)'); END;

DROP TRIGGER receipt_lines_are_kept;
CREATE TRIGGER receipt_lines_are_kept BEFORE DELETE ON receipt_lines
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'receipt lines are kept'); END;

DROP TRIGGER statements_are_kept;
CREATE TRIGGER statements_are_kept BEFORE DELETE ON statements
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'statements from the distributor are kept (1305.25)'); END;

-- Orders themselves had no delete guard; they get one now, with the same permit.
CREATE TRIGGER orders_are_kept BEFORE DELETE ON orders
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'orders are kept (21 CFR 1305.27); use csos archive purge'); END;
