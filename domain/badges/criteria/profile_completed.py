"""PROFILE_COMPLETED: the member completed their profile."""
from domain.badges.criteria.base import Criterion, Spec
from domain.progress import counters


class ProfileCompleted(Criterion):
    kind = "PROFILE_COMPLETED"
    description = "The profile is complete."
    events = frozenset({"member.profile_completed"})

    def track(self, spec: Spec) -> str:
        return counters.PROFILE


CRITERION = ProfileCompleted()
