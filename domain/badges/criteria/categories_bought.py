"""CATEGORIES_BOUGHT: orders from at least `count` distinct product categories."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class CategoriesBought(CountOf):
    kind = "CATEGORIES_BOUGHT"
    description = "Orders from at least `count` distinct categories."
    events = frozenset({"points.earned"})
    counter = counters.CATEGORIES


CRITERION = CategoriesBought()
