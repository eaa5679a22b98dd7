"""Badges: definitions staff make, criteria over a member's counters, awarded once per member."""
