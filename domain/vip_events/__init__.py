"""VIP events: eligibility, registrations and the waitlist, check-in, no-shows and cancellation."""
