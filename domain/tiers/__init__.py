"""Tiers: the ladder, qualification, a member's tier and what happens at period end."""
