"""SUCCESSFUL_REFERRALS: at least `count` friends referred successfully."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class SuccessfulReferrals(CountOf):
    kind = "SUCCESSFUL_REFERRALS"
    description = "At least `count` successful referrals."
    events = frozenset({"referral.succeeded"})
    counter = counters.REFERRALS


CRITERION = SuccessfulReferrals()
