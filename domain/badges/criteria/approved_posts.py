"""APPROVED_POSTS: at least `count` community posts approved."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class ApprovedPosts(CountOf):
    kind = "APPROVED_POSTS"
    description = "At least `count` approved posts."
    events = frozenset({"post.approved"})
    counter = counters.POSTS


CRITERION = ApprovedPosts()
