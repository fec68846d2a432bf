"""Pages and endpoints of integrations: `stores` for store connections and their webhooks,
`subscriptions` for partners' webhook endpoints."""
