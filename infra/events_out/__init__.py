"""Events out: what leaves Kizuna for the brand's webhook endpoints and marketing tools."""
