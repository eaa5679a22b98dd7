"""Challenge definitions (program partition), joining one, and members' progress items."""
