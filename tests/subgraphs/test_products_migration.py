"""products' migration 0002 on a catalogue made before it: categories become rows."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text

from subgraphs.common.database import Database, database_url, ensure_database
from subgraphs.common.migrations import alembic_config, migrate
from subgraphs.products.app import MIGRATIONS

BEFORE = [  # (sku, name, description, category) as revision 0001 stored them
    ("A-1", "Café Crème", "Smooth.", "Coffee"),
    ("A-2", "Café Crème", "Another one.", "Coffee"),
    ("B-1", "Stoneware Mug", "", "Mugs & Cups"),
    ("C-1", "Green Tea", "", "Tea"),
    ("C-2", "Black Tea", "", "tea"),  # the same slug as "Tea": one category
]


async def _upgrade_to(db: Database, revision: str) -> None:
    config = alembic_config(MIGRATIONS)

    def upgrade(connection: Any) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(upgrade)


async def _rows(db: Database, query: str) -> list[Any]:
    async with db.engine.begin() as conn:
        return list((await conn.execute(text(query))).all())


async def test_existing_categories_become_rows_and_products_get_slugs(pg_server_url: str) -> None:
    url = database_url(pg_server_url, "products", prefix="sgmigration")
    await ensure_database(url)
    db = Database(url)
    try:
        await _upgrade_to(db, "0001")
        async with db.engine.begin() as conn:
            for minute, (sku, name, description, category) in enumerate(BEFORE):
                await conn.execute(
                    text(
                        "INSERT INTO products (id, sku, name, description, category, "
                        "price_amount, currency_code, created_at) VALUES (gen_random_uuid(), "
                        ":sku, :name, :description, :category, 1, 'USD', "
                        "'2026-01-01'::timestamptz + make_interval(mins => :minute))"
                    ),
                    {
                        "sku": sku,
                        "name": name,
                        "description": description,
                        "category": category,
                        "minute": minute,
                    },
                )
        await migrate(db.engine, MIGRATIONS)

        categories = await _rows(db, "SELECT slug, name FROM categories ORDER BY slug")
        assert [tuple(r) for r in categories] == [
            ("coffee", "Coffee"),
            ("mugs-cups", "Mugs & Cups"),
            ("tea", "Tea"),
        ]
        products = await _rows(db, "SELECT sku, slug, category_slug FROM products ORDER BY sku")
        assert [tuple(r) for r in products] == [
            ("A-1", "cafe-creme", "coffee"),
            ("A-2", "cafe-creme-a-2", "coffee"),  # the older product keeps the plain slug
            ("B-1", "stoneware-mug", "mugs-cups"),
            ("C-1", "green-tea", "tea"),
            ("C-2", "black-tea", "tea"),
        ]
        found = await _rows(
            db,
            "SELECT sku FROM products "
            "WHERE search_vector @@ to_tsquery('simple', 'cafe:*') ORDER BY sku",
        )
        assert [r.sku for r in found] == ["A-1", "A-2"]
    finally:
        await db.dispose()
