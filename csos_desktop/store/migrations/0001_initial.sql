-- 0001: orders, their signed documents, receipts, statements, outbox, audit log, history cache.
-- Signed bytes live in BLOB columns and are never updated or deleted (triggers below):
-- what was signed is what an inspector gets back (21 CFR 1305.27, 1311.60).

CREATE TABLE orders (
    order_id        TEXT PRIMARY KEY,
    order_number    TEXT NOT NULL CHECK (length(order_number) = 9 AND substr(order_number, 3, 1) = 'X'),
    purchaser_dea   TEXT NOT NULL,
    supplier_dea    TEXT NOT NULL,
    supplier_name   TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'signed', 'submitted', 'accepted',
                        'intercepted', 'rejected', 'shipped-partial', 'shipped',
                        'received-partial', 'received', 'void', 'cancelled')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    date_signed     TEXT,
    number_auto     INTEGER NOT NULL DEFAULT 0 CHECK (number_auto IN (0, 1)),
    -- canonical csos-order/1 bytes of the unsigned order; the signed bytes are in signed_orders
    draft_document  BLOB NOT NULL,
    reissue_of      TEXT REFERENCES orders (order_id),
    -- 1305.21(b)(1): purchaser-assigned numbers are unique; void numbers are never reused
    UNIQUE (purchaser_dea, order_number)
);
CREATE INDEX orders_by_state ON orders (state, created_at);

CREATE TABLE order_lines (
    order_id      TEXT NOT NULL REFERENCES orders (order_id),
    line_no       INTEGER NOT NULL CHECK (line_no > 0),
    ndc           TEXT NOT NULL,
    item_name     TEXT NOT NULL,
    strength      TEXT NOT NULL,
    dosage_form   TEXT NOT NULL,
    package_size  INTEGER NOT NULL CHECK (package_size > 0),
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    schedule      TEXT,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_number_counters (
    purchaser_dea  TEXT NOT NULL,
    year           INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL,
    PRIMARY KEY (purchaser_dea, year)
);

CREATE TABLE signed_orders (
    order_id            TEXT PRIMARY KEY REFERENCES orders (order_id),
    document            BLOB NOT NULL,   -- the exact RFC 8785 bytes that were signed
    signature           BLOB NOT NULL,   -- detached CMS SignedData, DER
    document_sha256     TEXT NOT NULL,
    signature_sha256    TEXT NOT NULL UNIQUE,
    signed_at           TEXT NOT NULL,
    signer_subject      TEXT NOT NULL,
    signer_dea          TEXT NOT NULL,
    certificate_sha256  TEXT NOT NULL
);

CREATE TABLE receipts (
    receipt_id        TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES signed_orders (order_id),
    received_at       TEXT NOT NULL,
    document          BLOB NOT NULL,
    signature         BLOB NOT NULL,
    document_sha256   TEXT NOT NULL,
    signature_sha256  TEXT NOT NULL UNIQUE
);
CREATE INDEX receipts_by_order ON receipts (order_id, received_at);

CREATE TABLE receipt_lines (
    receipt_id         TEXT NOT NULL REFERENCES receipts (receipt_id),
    line_no            INTEGER NOT NULL,
    quantity_received  INTEGER NOT NULL CHECK (quantity_received > 0),
    date_received      TEXT NOT NULL,
    PRIMARY KEY (receipt_id, line_no)
);

-- What the distributor sent about an order it would not fill (1305.25) or voided (1305.28),
-- kept exactly as received and linked to the order.
CREATE TABLE statements (
    statement_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      TEXT NOT NULL REFERENCES orders (order_id),
    kind          TEXT NOT NULL CHECK (kind IN ('non-acceptance', 'supplier-void')),
    reason        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    body          BLOB NOT NULL,
    body_sha256   TEXT NOT NULL
);
CREATE INDEX statements_by_order ON statements (order_id);

CREATE TABLE outbox (
    outbox_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('submit-order', 'submit-receipt', 'cancel-order')),
    record_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    sent_at          TEXT,
    withdrawn_at     TEXT
);
CREATE INDEX outbox_pending ON outbox (outbox_id) WHERE sent_at IS NULL AND withdrawn_at IS NULL;

-- Append-only, hash-chained: prev_sha256 is SHA-256 of the previous entry's canonical bytes.
CREATE TABLE audit_log (
    entry_id     INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL,
    order_id     TEXT,
    details      TEXT NOT NULL,
    prev_sha256  TEXT NOT NULL
);
CREATE INDEX audit_by_order ON audit_log (order_id) WHERE order_id IS NOT NULL;

-- The newest entry and its hash, so removing entries from the end is detected too.
CREATE TABLE audit_head (
    only_row      INTEGER PRIMARY KEY CHECK (only_row = 1),
    entry_id      INTEGER NOT NULL,
    entry_sha256  TEXT NOT NULL
);

-- Order lines from the distributor's history (and our own), for SOM checks before signing.
CREATE TABLE order_history (
    order_id       TEXT NOT NULL,
    line_no        INTEGER NOT NULL,
    order_date     TEXT NOT NULL,
    purchaser_dea  TEXT NOT NULL,
    ndc            TEXT NOT NULL,
    drug_code      INTEGER NOT NULL,
    units          INTEGER NOT NULL CHECK (units >= 0),
    variant        TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL CHECK (source IN ('distributor', 'local')),
    fetched_at     TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_history_by_date ON order_history (purchaser_dea, order_date);

CREATE TRIGGER signed_orders_never_change BEFORE UPDATE ON signed_orders
BEGIN SELECT RAISE(ABORT, 'signed orders never change'); END;
CREATE TRIGGER signed_orders_are_kept BEFORE DELETE ON signed_orders
BEGIN SELECT RAISE(ABORT, 'signed orders are kept (21 CFR 1305.27)'); END;
CREATE TRIGGER receipts_never_change BEFORE UPDATE ON receipts
BEGIN SELECT RAISE(ABORT, 'signed receipts never change'); END;
CREATE TRIGGER receipts_are_kept BEFORE DELETE ON receipts
BEGIN SELECT RAISE(ABORT, 'signed receipts are kept (21 CFR 1305.27)'); END;
CREATE TRIGGER receipt_lines_never_change BEFORE UPDATE ON receipt_lines
BEGIN SELECT RAISE(ABORT, 'receipt lines never change'); END;
CREATE TRIGGER receipt_lines_are_kept BEFORE DELETE ON receipt_lines
BEGIN SELECT RAISE(ABORT, 'receipt lines are kept'); END;
CREATE TRIGGER statements_never_change BEFORE UPDATE ON statements
BEGIN SELECT RAISE(ABORT, 'statements from the distributor never change'); END;
CREATE TRIGGER statements_are_kept BEFORE DELETE ON statements
BEGIN SELECT RAISE(ABORT, 'statements from the distributor are kept (1305.25)'); END;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- Signed content of an order row never changes once signed: only state and updated_at move.
CREATE TRIGGER signed_order_rows_keep_content BEFORE UPDATE OF order_number, purchaser_dea,
    supplier_dea, draft_document, date_signed ON orders
    WHEN OLD.state <> 'draft'
BEGIN SELECT RAISE(ABORT, 'a signed order''s content never changes'); END;
CREATE TRIGGER order_lines_frozen_after_signing BEFORE UPDATE ON order_lines
    WHEN (SELECT state FROM orders WHERE order_id = OLD.order_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'a signed order''s lines never change'); END;
