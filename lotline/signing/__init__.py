"""Signed evidence: the organisation's PAdES signature on every issued PDF (`pades`), the key
pair to try it out (`keys`), and Part 11 approvals by an officer (`approval`)."""
