"""A synthetic Federation v2 company graph (50 subgraphs, 2,000 types) and operations
over it, for planning at scale: `graph` writes the subgraph SDLs, `generate` composes
them, `operations` writes 10,000 distinct operations."""
