-- 0009: when the store recorded each receipt's signature, as signed_orders.signed_at does for
-- orders. The CMS signing-time is the signer's own claim; this is the pharmacy's evidence that
-- the signature did not exist earlier, so archive verification validates a receipt's chain at
-- the later of the two (a back-dated receipt cannot slip before its certificate's revocation).
-- Receipts kept before 0009 have none (NULL): their claim is all there is.
ALTER TABLE receipts ADD COLUMN signed_at TEXT;
