-- 0005: the pharmacy's legal workflow around an order.
-- What the distributor reports as shipped and voided per line (receipts are limited to it,
-- 1305.22(e)/(g)); the per-line quantities of a supplier's void (1305.28); signed
-- cancellations and lost-order statements (1305.28, 1305.26); the power-of-attorney registry
-- (1305.05, 1311.45). Signed bytes are kept as signed and never change.

-- The distributor's latest report per line. Shipped only grows; this is a cache of the
-- distributor's record, the record itself is the statements and the change feed.
CREATE TABLE order_fulfilment (
    order_id          TEXT NOT NULL REFERENCES orders (order_id),
    line_no           INTEGER NOT NULL CHECK (line_no > 0),
    quantity_shipped  INTEGER NOT NULL CHECK (quantity_shipped >= 0),
    quantity_voided   INTEGER NOT NULL CHECK (quantity_voided >= 0),  -- by the supplier
    reported_at       TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Per-line quantities of a supplier-void statement (statements.kind = 'supplier-void').
CREATE TABLE statement_lines (
    statement_id     INTEGER NOT NULL REFERENCES statements (statement_id),
    line_no          INTEGER NOT NULL CHECK (line_no > 0),
    quantity_voided  INTEGER NOT NULL CHECK (quantity_voided > 0),
    PRIMARY KEY (statement_id, line_no)
);

-- Documents the purchaser signs about an order besides the order and its receipts.
CREATE TABLE order_notices (
    notice_id             TEXT PRIMARY KEY,
    order_id              TEXT NOT NULL REFERENCES orders (order_id),
    kind                  TEXT NOT NULL CHECK (kind IN ('cancellation', 'lost-order')),
    created_at            TEXT NOT NULL,
    document              BLOB NOT NULL,   -- the exact RFC 8785 bytes that were signed
    signature             BLOB NOT NULL,   -- detached CMS SignedData, DER
    document_sha256       TEXT NOT NULL,
    signature_sha256      TEXT NOT NULL UNIQUE,
    -- lost-order: the replacement order with its new number (1305.26)
    replacement_order_id  TEXT REFERENCES orders (order_id),
    -- cancellation: what the distributor answered (pending until it has)
    outcome               TEXT NOT NULL DEFAULT 'pending'
                          CHECK (outcome IN ('pending', 'accepted', 'refused')),
    outcome_reason        TEXT,
    outcome_at            TEXT
);
CREATE INDEX order_notices_by_order ON order_notices (order_id, created_at);

CREATE TABLE cancellation_lines (
    notice_id           TEXT NOT NULL REFERENCES order_notices (notice_id),
    line_no             INTEGER NOT NULL CHECK (line_no > 0),
    quantity_cancelled  INTEGER NOT NULL CHECK (quantity_cancelled > 0),
    PRIMARY KEY (notice_id, line_no)
);

-- Power of attorney (1305.05). The registrant is the person who signed the most recent
-- registration application: the newest row per DEA number.
CREATE TABLE poa_registrants (
    registrant_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    dea_number          TEXT NOT NULL CHECK (length(dea_number) = 9),
    name                TEXT NOT NULL CHECK (length(name) > 0),
    certificate         BLOB NOT NULL,
    certificate_sha256  TEXT NOT NULL,
    recorded_at         TEXT NOT NULL
);
CREATE INDEX poa_registrants_by_dea ON poa_registrants (dea_number, registrant_id);

CREATE TABLE poa_grants (
    poa_id                 TEXT PRIMARY KEY,
    dea_number             TEXT NOT NULL CHECK (length(dea_number) = 9),
    holder_name            TEXT NOT NULL CHECK (length(holder_name) > 0),
    granted_on             TEXT NOT NULL,
    granted_by_sha256      TEXT NOT NULL,   -- the registrant's certificate
    document               BLOB NOT NULL,
    signature              BLOB NOT NULL,
    document_sha256        TEXT NOT NULL,
    signature_sha256       TEXT NOT NULL UNIQUE,
    revoked_at             TEXT,
    revocation_document    BLOB,
    revocation_signature   BLOB,
    revocation_reason      TEXT,
    -- 1311.45: the CSOS CA is told within 6 hours; when the request was sent
    ca_notified_at         TEXT,
    CHECK ((revoked_at IS NULL) = (revocation_document IS NULL)),
    CHECK ((revoked_at IS NULL) = (revocation_signature IS NULL)),
    CHECK (ca_notified_at IS NULL OR revoked_at IS NOT NULL)
);

CREATE TABLE poa_certificates (
    poa_id              TEXT NOT NULL REFERENCES poa_grants (poa_id),
    certificate_sha256  TEXT NOT NULL CHECK (length(certificate_sha256) = 64),
    PRIMARY KEY (poa_id, certificate_sha256)
);

-- Signed bytes never change; a revocation is written once; records are kept (1305.27).
CREATE TRIGGER order_notices_keep_signed_bytes BEFORE UPDATE OF notice_id, order_id, kind,
    created_at, document, signature, document_sha256, signature_sha256, replacement_order_id
    ON order_notices
BEGIN SELECT RAISE(ABORT, 'signed notices never change'); END;
CREATE TRIGGER order_notices_outcome_once BEFORE UPDATE OF outcome ON order_notices
    WHEN OLD.outcome <> 'pending'
BEGIN SELECT RAISE(ABORT, 'a notice''s outcome is recorded once'); END;
CREATE TRIGGER order_notices_are_kept BEFORE DELETE ON order_notices
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'signed notices are kept (21 CFR 1305.27)'); END;
CREATE TRIGGER cancellation_lines_never_change BEFORE UPDATE ON cancellation_lines
BEGIN SELECT RAISE(ABORT, 'cancellation lines never change'); END;
CREATE TRIGGER cancellation_lines_are_kept BEFORE DELETE ON cancellation_lines
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'cancellation lines are kept'); END;
CREATE TRIGGER statement_lines_never_change BEFORE UPDATE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'statement lines never change'); END;
CREATE TRIGGER statement_lines_are_kept BEFORE DELETE ON statement_lines
    WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN SELECT RAISE(ABORT, 'statement lines are kept'); END;
CREATE TRIGGER poa_grants_keep_signed_bytes BEFORE UPDATE OF poa_id, dea_number, holder_name,
    granted_on, granted_by_sha256, document, signature, document_sha256, signature_sha256
    ON poa_grants
BEGIN SELECT RAISE(ABORT, 'a signed power of attorney never changes'); END;
CREATE TRIGGER poa_grants_revoked_once BEFORE UPDATE OF revoked_at, revocation_document,
    revocation_signature, revocation_reason ON poa_grants
    WHEN OLD.revoked_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a power of attorney is revoked once'); END;
CREATE TRIGGER poa_grants_are_kept BEFORE DELETE ON poa_grants
BEGIN SELECT RAISE(ABORT, 'powers of attorney are kept with the order records (1305.05)'); END;
CREATE TRIGGER poa_certificates_never_change BEFORE UPDATE ON poa_certificates
BEGIN SELECT RAISE(ABORT, 'a power of attorney''s certificates never change'); END;
CREATE TRIGGER poa_certificates_are_kept BEFORE DELETE ON poa_certificates
BEGIN SELECT RAISE(ABORT, 'powers of attorney are kept'); END;
CREATE TRIGGER poa_registrants_never_change BEFORE UPDATE ON poa_registrants
BEGIN SELECT RAISE(ABORT, 'registrant records never change; record a new registrant'); END;
CREATE TRIGGER poa_registrants_are_kept BEFORE DELETE ON poa_registrants
BEGIN SELECT RAISE(ABORT, 'registrant records are kept'); END;
