"""A post named by its global `id` or its own id, as every post mutation takes it."""
from __future__ import annotations

from resolvers.nodes import key_for


def post_key(post_id: str) -> str:
    return key_for(post_id, "Post", "postId")
