"""VIP_EVENTS_ATTENDED: at least `count` VIP events attended."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class VipEventsAttended(CountOf):
    kind = "VIP_EVENTS_ATTENDED"
    description = "At least `count` VIP events attended."
    events = frozenset({"vip_event.attended"})
    counter = counters.VIP_EVENTS


CRITERION = VipEventsAttended()
