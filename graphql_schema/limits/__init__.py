"""What keeps one GraphQL caller from costing the others: query prices, rate limits, the bounded read cache."""
