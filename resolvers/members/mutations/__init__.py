"""Member mutations, one per module."""
