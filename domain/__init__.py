"""The loyalty program's rules as plain Python: no storage, transport or GraphQL here."""
