"""Storage and outside-world adapters: the DynamoDB table, repositories, settings, event publishing."""
