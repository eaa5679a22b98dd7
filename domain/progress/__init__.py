"""What a member has done, counted once per event: counters, streaks and the dates thresholds were crossed."""
