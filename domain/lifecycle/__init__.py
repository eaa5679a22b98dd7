"""Lifecycle: what the program says to a member unprompted (anniversaries, milestones, win-back)."""
