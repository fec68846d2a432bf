"""Every write of integrations: `connections` connects stores, `inbox` takes their deliveries in."""
