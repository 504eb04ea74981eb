"""The shop's five domain subgraphs: accounts, products, inventory, orders, promotions."""
