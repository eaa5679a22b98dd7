"""Partner brands: what a member agrees to share with one, and how a partner names a member."""
