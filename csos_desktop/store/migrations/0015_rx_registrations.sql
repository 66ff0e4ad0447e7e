-- 0015: a practitioner may hold several DEA registrations (one per State they practise
-- in), and the registration is selected for each prescription (21 CFR 1311.120(b)(7),
-- 1311.135(b)). A signing permission records which registrations were verified
-- (1311.125(b)); signing under any other is refused.
-- rx_users.dea_number stays as the registration the user was added with (it never
-- changes); every registration, that one included, is a row here.
CREATE TABLE rx_registrations (
    dea_number  TEXT PRIMARY KEY CHECK (length(dea_number) = 9),  -- one person, forever
    user_id     TEXT NOT NULL REFERENCES rx_users (user_id),
    -- The State of the registration and the day it ends. NULL only on the rows this
    -- migration made from a user record, which named neither.
    state       TEXT CHECK (state IS NULL OR length(state) = 2),
    expires     TEXT,
    added_at    TEXT NOT NULL,
    added_by    TEXT REFERENCES rx_users (user_id),
    removed_at  TEXT,
    removed_by  TEXT REFERENCES rx_users (user_id),
    CHECK (removed_at IS NULL OR removed_by IS NOT NULL)
);
CREATE INDEX rx_registrations_of_user ON rx_registrations (user_id);
-- The number every existing registrant was added with; its end is the one their latest
-- permission named, when they had one.
INSERT INTO rx_registrations (dea_number, user_id, state, expires, added_at, added_by)
SELECT u.dea_number, u.user_id, NULL,
       (SELECT g.registration_expires FROM rx_grants g WHERE g.user_id = u.user_id
        ORDER BY g.grant_id DESC LIMIT 1),
       u.created_at, u.created_by
FROM rx_users u WHERE u.dea_number IS NOT NULL;

CREATE TRIGGER rx_registrations_are_kept BEFORE DELETE ON rx_registrations
BEGIN SELECT RAISE(ABORT, 'registration records are kept; a removed one is marked removed'); END;
CREATE TRIGGER rx_registrations_fixed BEFORE UPDATE OF dea_number, user_id, state, expires,
    added_at, added_by ON rx_registrations
BEGIN SELECT RAISE(ABORT, 'a registration record never changes; remove it and add it anew'); END;
CREATE TRIGGER rx_registrations_removed_once BEFORE UPDATE OF removed_at, removed_by
    ON rx_registrations WHEN OLD.removed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a removed registration stays removed'); END;

-- Which registrations a permission's proposer verified (1311.125(b)).
CREATE TABLE rx_grant_registrations (
    grant_id    INTEGER NOT NULL REFERENCES rx_grants (grant_id),
    dea_number  TEXT NOT NULL REFERENCES rx_registrations (dea_number),
    PRIMARY KEY (grant_id, dea_number)
);
INSERT INTO rx_grant_registrations (grant_id, dea_number)
SELECT g.grant_id, g.dea_number FROM rx_grants g
WHERE g.dea_number IN (SELECT dea_number FROM rx_registrations);
CREATE TRIGGER rx_grant_registrations_fixed BEFORE UPDATE ON rx_grant_registrations
BEGIN SELECT RAISE(ABORT, 'what a permission verified never changes; grant a new one'); END;
CREATE TRIGGER rx_grant_registrations_kept BEFORE DELETE ON rx_grant_registrations
BEGIN SELECT RAISE(ABORT, 'permission records are kept'); END;
