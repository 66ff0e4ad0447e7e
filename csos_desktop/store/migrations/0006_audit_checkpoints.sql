-- Signed checkpoints of the audit chain: each signing session signs the newest
-- entry's hash on the pharmacist's token. The chain alone is unkeyed: whoever can write
-- the file could drop the triggers and re-hash every entry. A checkpoint's signature
-- cannot be redone without the token and its PIN, so `csos audit verify` catches that.
-- `document` and `signature` are kept exactly as signed.
CREATE TABLE audit_checkpoints (
    checkpoint_id  INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL,
    entry_sha256   TEXT NOT NULL,
    signed_at      TEXT NOT NULL,
    signer_subject TEXT NOT NULL,
    document       BLOB NOT NULL,
    signature      BLOB NOT NULL
);

CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
