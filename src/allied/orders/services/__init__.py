"""Every write to orders: `intake` takes orders in, `lifecycle` moves them on."""
