"""Every write of integrations: `connections` connects stores, `inbox` takes their deliveries in,
`subscriptions` manages partners' webhook endpoints."""
