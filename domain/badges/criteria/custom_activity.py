"""CUSTOM_ACTIVITY: at least `count` credits of the action rule `action` (a review, an unboxing post)."""
from domain.badges.criteria.base import CountOf, Spec
from domain.progress import counters


class CustomActivity(CountOf):
    kind = "CUSTOM_ACTIVITY"
    description = "At least `count` credits of the action `action`."
    events = frozenset({"points.earned"})
    needs = ("count", "action")

    def track(self, spec: Spec) -> str:
        return counters.activity_track(spec.action or "")


CRITERION = CustomActivity()
