"""Members' posts (unboxing and other UGC): URLs, moderation states, rewards and the community feed."""
