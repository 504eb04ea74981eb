"""Federated subscriptions: the upstream graphql-transport-ws client and the running
subscriptions (docs/subscriptions.md)."""
