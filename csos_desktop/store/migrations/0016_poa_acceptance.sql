-- 0016: the attorney-in-fact's acceptance of a power of attorney (21 CFR 1305.05(c)),
-- signed on their own token: the affirmation's signed bytes, the CMS signature, the
-- certificate that signed it (one the power of attorney names) and when. A grant without
-- it is pending: its holder signs no schedule I/II order until they accept.
ALTER TABLE poa_grants ADD COLUMN accepted_at TEXT;
ALTER TABLE poa_grants ADD COLUMN acceptance_document BLOB;
ALTER TABLE poa_grants ADD COLUMN acceptance_signature BLOB;
ALTER TABLE poa_grants ADD COLUMN acceptance_certificate_sha256 TEXT;

CREATE TRIGGER poa_grants_accepted_once BEFORE UPDATE OF accepted_at, acceptance_document,
    acceptance_signature, acceptance_certificate_sha256 ON poa_grants
    WHEN OLD.accepted_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a power of attorney is accepted once; its acceptance never changes'); END;
CREATE TRIGGER poa_grants_accepted_whole BEFORE UPDATE OF accepted_at ON poa_grants
    WHEN NEW.accepted_at IS NOT NULL AND (NEW.acceptance_document IS NULL
        OR NEW.acceptance_signature IS NULL OR NEW.acceptance_certificate_sha256 IS NULL)
BEGIN SELECT RAISE(ABORT, 'an acceptance is kept with its signed bytes and signature'); END;
