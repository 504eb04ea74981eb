"""The shop's four domain subgraphs: accounts, products, inventory, orders."""
