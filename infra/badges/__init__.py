"""Badge definitions (program partition), awards (member partition) and the backfill job."""
