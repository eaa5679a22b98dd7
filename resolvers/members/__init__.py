"""Members: enrollment, profile, and staff look-ups."""
