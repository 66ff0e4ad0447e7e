-- 0012: a signing permission names the practitioner's certificate and when their DEA
-- registration ends, and a revocation is entered by one person and executed by a second.
-- 21 CFR 1311.125(c): "after one individual ... enters data that grants permission ... or
-- revokes such authorization, a second individual ... must use his two-factor
-- authentication credential ... The second individual must be a DEA registrant."
-- Permissions granted before 0010 name no certificate (NULL): signing refuses them, so
-- they are granted anew with the certificate.
ALTER TABLE rx_grants ADD COLUMN certificate_sha256 TEXT;
ALTER TABLE rx_grants ADD COLUMN registration_expires TEXT;
-- A revocation entered and not yet executed: signing stops at once (it can only stop it).
ALTER TABLE rx_grants ADD COLUMN revoke_entered_by TEXT REFERENCES rx_users (user_id);
ALTER TABLE rx_grants ADD COLUMN revoke_entered_at TEXT;
-- 1311.125(d): revoked by the application itself on the event (token loss, lapsed
-- registration, user deactivated), recorded as such rather than as a person's act.
ALTER TABLE rx_grants ADD COLUMN revoked_on_event TEXT;

CREATE TRIGGER rx_grants_name_a_certificate BEFORE INSERT ON rx_grants
    WHEN NEW.certificate_sha256 IS NULL OR length(NEW.certificate_sha256) <> 64
        OR NEW.registration_expires IS NULL
BEGIN SELECT RAISE(ABORT, 'a signing permission names the certificate and the registration''s end'); END;
CREATE TRIGGER rx_grants_certificate_fixed BEFORE UPDATE OF certificate_sha256,
    registration_expires ON rx_grants
BEGIN SELECT RAISE(ABORT, 'the certificate a permission names never changes; grant a new one'); END;
-- A person's revocation is executed by someone other than the one who entered it.
CREATE TRIGGER rx_grants_revoked_by_two BEFORE UPDATE OF state ON rx_grants
    WHEN OLD.state = 'active' AND NEW.state = 'revoked' AND NEW.revoked_on_event IS NULL
        AND (NEW.revoke_entered_by IS NULL OR NEW.revoke_entered_by = NEW.revoked_by)
BEGIN SELECT RAISE(ABORT, 'a revocation is entered by one person and executed by a second'); END;
