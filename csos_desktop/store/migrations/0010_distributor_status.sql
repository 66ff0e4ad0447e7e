-- 0010: the last status the distributor reported for an order, kept beside the order's own
-- state. The state only moves forward; a report that is behind what the pharmacy recorded
-- (e.g. "shipped" after a receipt for part of the order) is kept here, not applied.
ALTER TABLE orders ADD COLUMN distributor_status TEXT;
