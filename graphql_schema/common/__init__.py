"""What every GraphQL domain package shares: errors, scalars, arguments, pagination, payloads, units."""
