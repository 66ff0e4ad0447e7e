-- 0005: a distributor's statement may come signed (csos-statement/1 + detached CMS, by the
-- distributor's CSOS certificate). The signature is kept byte-exact next to the statement,
-- so the pharmacy can prove what its supplier said (1305.25). Older rows: NULL (unsigned
-- text). The statements_never_change trigger covers the new column too.
ALTER TABLE statements ADD COLUMN signature BLOB;
