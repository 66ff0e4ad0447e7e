"""ASC X12 004010 documents of a CSOS order: the 850 and what comes back (pure, no I/O)."""
