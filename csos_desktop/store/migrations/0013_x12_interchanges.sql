-- 0013: every X12 interchange the client wrote or received, byte for byte (an 850 as exported
-- or signed, an 855/856/997 as it arrived, readable or not). The row id of one written here is
-- its interchange control number (ISA13, GS06): never reused, as X12 asks of a sender. An 850
-- the pharmacist signed has its signature beside it: the CMS that encapsulates these bytes.
CREATE TABLE x12_interchanges (
    control_number INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT,
    transaction_set TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    document BLOB NOT NULL,
    signed BLOB,
    problem TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX x12_interchanges_order ON x12_interchanges (order_id);
