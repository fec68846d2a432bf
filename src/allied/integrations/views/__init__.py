"""Pages and endpoints of integrations: `stores` for store connections and their webhooks."""
