-- 0002: controlled-substance e-prescriptions (21 CFR 1311 subpart C).
-- Users and the two-person grant of signing permission (1311.125 / 1311.130), prescription
-- drafts, signed prescriptions kept byte for byte (1311.120(b): no change after signing),
-- and the 'prescription' kind in the outbox. Every change is logged in audit_log.

-- Who uses the prescribing side. A registrant is a user with a DEA number: practitioners
-- always, an access administrator when they are one (e.g. the practice's medical director).
CREATE TABLE rx_users (
    user_id     TEXT PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 64),
    full_name   TEXT NOT NULL CHECK (length(full_name) > 0),
    role        TEXT NOT NULL CHECK (role IN ('practitioner', 'agent', 'access-admin')),
    dea_number  TEXT CHECK (dea_number IS NULL OR length(dea_number) = 9),
    created_at  TEXT NOT NULL,
    created_by  TEXT REFERENCES rx_users (user_id),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    deactivated_at  TEXT,
    deactivated_by  TEXT REFERENCES rx_users (user_id),
    CHECK (role <> 'practitioner' OR dea_number IS NOT NULL),
    CHECK (role <> 'agent' OR dea_number IS NULL)
);
-- One person per registration: permission is tied to the DEA number on the certificate.
CREATE UNIQUE INDEX rx_users_one_per_dea ON rx_users (dea_number) WHERE dea_number IS NOT NULL;

-- Permission to sign, proposed by one person and approved by a second (1311.125(c)).
CREATE TABLE rx_grants (
    grant_id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                TEXT NOT NULL REFERENCES rx_users (user_id),
    dea_number             TEXT NOT NULL,   -- the registration the permission is tied to
    state                  TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'revoked')),
    proposed_by            TEXT NOT NULL REFERENCES rx_users (user_id),
    proposed_at            TEXT NOT NULL,
    registration_verified  INTEGER NOT NULL CHECK (registration_verified = 1),  -- 1311.125(b)
    approved_by            TEXT REFERENCES rx_users (user_id),
    approved_at            TEXT,
    revoked_by             TEXT REFERENCES rx_users (user_id),
    revoked_at             TEXT,
    revoke_reason          TEXT,
    -- The two-person rule, held by the database too, not only by the code.
    CHECK (approved_by IS NULL OR approved_by <> proposed_by),
    CHECK (state <> 'active' OR (approved_by IS NOT NULL AND approved_at IS NOT NULL)),
    CHECK (state <> 'revoked' OR (revoked_by IS NOT NULL AND revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX rx_grants_one_open_per_user ON rx_grants (user_id)
    WHERE state IN ('proposed', 'active');

CREATE TABLE prescriptions (
    rx_id             TEXT PRIMARY KEY,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'signed', 'void')),
    patient_key       TEXT NOT NULL,   -- SHA-256 of the patient's canonical name + address
    patient_name      TEXT NOT NULL,
    practitioner_dea  TEXT NOT NULL,
    drug              TEXT NOT NULL,
    schedule          TEXT NOT NULL,
    draft_document    BLOB NOT NULL,   -- canonical csos-rx/1 bytes of the unsigned prescription
    draft_sha256      TEXT NOT NULL,
    prepared_by       TEXT NOT NULL REFERENCES rx_users (user_id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX prescriptions_queue ON prescriptions (practitioner_dea, patient_key, created_at)
    WHERE state = 'draft';

CREATE TABLE signed_prescriptions (
    rx_id               TEXT PRIMARY KEY REFERENCES prescriptions (rx_id),
    document            BLOB NOT NULL,   -- the exact RFC 8785 bytes that were signed
    signature           BLOB NOT NULL,   -- detached CMS SignedData, DER
    document_sha256     TEXT NOT NULL,
    signature_sha256    TEXT NOT NULL UNIQUE,
    signed_at           TEXT NOT NULL,
    signed_by           TEXT NOT NULL REFERENCES rx_users (user_id),
    signer_subject      TEXT NOT NULL,
    signer_dea          TEXT NOT NULL,
    certificate_sha256  TEXT NOT NULL
);

-- SQLite cannot widen a CHECK in place: rebuild the outbox with the 'prescription' kind.
CREATE TABLE outbox_0002 (
    outbox_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('submit-order', 'submit-receipt',
                         'cancel-order', 'prescription')),
    record_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    sent_at          TEXT,
    withdrawn_at     TEXT
);
INSERT INTO outbox_0002 SELECT outbox_id, kind, record_id, idempotency_key, created_at,
    attempts, last_error, sent_at, withdrawn_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_0002 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (outbox_id) WHERE sent_at IS NULL AND withdrawn_at IS NULL;

CREATE TRIGGER signed_prescriptions_never_change BEFORE UPDATE ON signed_prescriptions
BEGIN SELECT RAISE(ABORT, 'signed prescriptions never change (21 CFR 1311.120(b))'); END;
CREATE TRIGGER signed_prescriptions_are_kept BEFORE DELETE ON signed_prescriptions
BEGIN SELECT RAISE(ABORT, 'signed prescriptions are kept'); END;
CREATE TRIGGER prescriptions_frozen_after_signing BEFORE UPDATE ON prescriptions
    WHEN OLD.state <> 'draft'
BEGIN SELECT RAISE(ABORT, 'a signed or void prescription never changes (1311.120(b))'); END;
CREATE TRIGGER prescriptions_are_kept BEFORE DELETE ON prescriptions
BEGIN SELECT RAISE(ABORT, 'prescriptions are kept; a draft no longer wanted stays on record'); END;
-- A grant moves proposed -> active -> revoked (or proposed -> revoked), never back.
CREATE TRIGGER rx_grants_forward_only BEFORE UPDATE OF state ON rx_grants
    WHEN OLD.state = 'revoked' OR (OLD.state = 'active' AND NEW.state <> 'revoked')
BEGIN SELECT RAISE(ABORT, 'a signing permission moves forward only; grant a new one'); END;
CREATE TRIGGER rx_grants_who_is_fixed BEFORE UPDATE OF user_id, dea_number, proposed_by,
    proposed_at ON rx_grants
BEGIN SELECT RAISE(ABORT, 'who a permission is for and who proposed it never change'); END;
CREATE TRIGGER rx_grants_are_kept BEFORE DELETE ON rx_grants
BEGIN SELECT RAISE(ABORT, 'permission records are kept'); END;
CREATE TRIGGER rx_users_are_kept BEFORE DELETE ON rx_users
BEGIN SELECT RAISE(ABORT, 'user records are kept (the audit log names them)'); END;
CREATE TRIGGER rx_users_stay_inactive BEFORE UPDATE OF active ON rx_users
    WHEN OLD.active = 0
BEGIN SELECT RAISE(ABORT, 'a deactivated user stays deactivated; add a new user'); END;
CREATE TRIGGER rx_users_identity_fixed BEFORE UPDATE OF user_id, role, dea_number ON rx_users
BEGIN SELECT RAISE(ABORT, 'a user''s role and DEA number never change; add a new user'); END;
