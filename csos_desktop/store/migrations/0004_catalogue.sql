-- The product catalogue imported from the FDA NDC Directory (controlled products only).
-- An import replaces the whole catalogue in one transaction, with its audit entry.
CREATE TABLE catalogue_products (
    ndc            TEXT PRIMARY KEY CHECK (length(ndc) = 11),
    item_name      TEXT NOT NULL,
    strength       TEXT NOT NULL,
    dosage_form    TEXT NOT NULL,
    package_size   INTEGER NOT NULL CHECK (package_size > 0),
    package_unit   TEXT NOT NULL,
    drug_code      INTEGER NOT NULL,
    schedule       TEXT NOT NULL
);
CREATE TABLE catalogue_imports (
    import_id          INTEGER PRIMARY KEY,
    imported_at        TEXT NOT NULL,
    source             TEXT NOT NULL,
    product_sha256     TEXT NOT NULL,
    package_sha256     TEXT NOT NULL,
    products           INTEGER NOT NULL,
    skipped            INTEGER NOT NULL
);
