"""Tier storage: qualification in the profile, the tier job, history, staff settings."""
