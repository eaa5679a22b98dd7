"""Events out: the rules for what Kizuna tells the brand's systems, and how receivers can trust it."""
