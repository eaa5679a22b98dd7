"""GraphQL types, queries and mutations, one folder per domain, merged into one schema."""
