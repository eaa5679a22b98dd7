"""Challenges: time-boxed goals over the same criteria as badges, counted inside their window."""
