"""Webhooks: the signed deliveries that could not be processed, for staff to see and fix."""
