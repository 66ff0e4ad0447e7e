-- 0011: NCPDP SCRIPT messages, byte-exact: each NewRx a practitioner signed (with the pharmacy
-- chosen for it) and each one a pharmacy received, with the verdict and the time it was
-- checked (21 CFR 1311.205, 1311.210, 1311.305). A received message is kept whatever it is:
-- unreadable XML, a missing 1306.05 element, a signature over other bytes, another pharmacy's.
CREATE TABLE script_messages (
    message_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    direction         TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    rx_id             TEXT,              -- NULL when a received message could not be read
    ncpdp_id          TEXT,              -- the pharmacy it is addressed to (NULL: unreadable)
    message           BLOB NOT NULL,     -- the exact bytes signed / received
    message_sha256    TEXT NOT NULL,
    at                TEXT NOT NULL,     -- signed (sent) or received (received)
    source            TEXT NOT NULL,     -- 'signing', 'server' or the file it was read from
    verdict           TEXT CHECK (verdict IN ('verified', 'not-verified', 'indicator-only')),
    verification      TEXT,              -- JSON: reasons, warnings, signer
    pharmacy_signature BLOB,             -- 1311.210(c): CMS over message, by the pharmacy
    pharmacy_signed_at TEXT,
    answer            BLOB,              -- the SCRIPT Status or Error sent back
    CHECK ((direction = 'sent') = (verdict IS NULL))
);
CREATE INDEX script_messages_rx ON script_messages (rx_id);
CREATE TRIGGER script_messages_bytes_fixed BEFORE UPDATE OF message_id, direction, rx_id,
    ncpdp_id, message, message_sha256, at, source, verdict, verification ON script_messages
BEGIN SELECT RAISE(ABORT, 'a SCRIPT message and its verdict are kept as they were'); END;
CREATE TRIGGER script_messages_signed_once BEFORE UPDATE OF pharmacy_signature,
    pharmacy_signed_at ON script_messages WHEN OLD.pharmacy_signature IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the pharmacy signed this record already'); END;
CREATE TRIGGER script_messages_answered_once BEFORE UPDATE OF answer ON script_messages
    WHEN OLD.answer IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'this message was answered already'); END;
CREATE TRIGGER script_messages_are_kept BEFORE DELETE ON script_messages
BEGIN SELECT RAISE(ABORT, 'SCRIPT messages are kept (21 CFR 1311.305)'); END;
