"""The shop's seven domain subgraphs: accounts, products, inventory, orders, promotions,
payments and suggestions."""
