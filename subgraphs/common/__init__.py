"""Pieces every domain subgraph shares: database, auth, errors, the app factory."""
