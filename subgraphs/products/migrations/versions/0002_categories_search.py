"""categories, product slugs and images, full-text search

Each distinct products.category becomes a categories row (slug: the name's
lower-case ASCII slug; names with the same slug share the first one's row);
products get a unique slug from their name (with the SKU added on a clash),
an optional image URL, and the search document: folded copies of name and
description (folding is the application's, text.fold, so it is done here in
Python too) and a generated tsvector over them with a GIN index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

# The application's folding and slugs: the search document and the slugs the app makes
# later must agree with what this migration writes now.
from subgraphs.products.text import fold, slugify

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# As models.SEARCH_VECTOR_SQL was when this revision was written (a later change of the
# document is a later revision).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, name_folded), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, name_folded), 'A')"
    " || setweight(to_tsvector('english'::regconfig, description_folded), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, description_folded), 'B')"
)


def _create_categories() -> dict[str, str]:
    """The categories table filled from products.category; each name's slug."""
    op.create_table(
        "categories",
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="categories_slug_check"),
    )
    bind = op.get_bind()
    names = bind.execute(sa.text("SELECT DISTINCT category FROM products ORDER BY 1")).scalars()
    slugs: dict[str, str] = {}
    for name in names:
        slugs[name] = slugify(name)[:100].strip("-") or "uncategorised"
    for slug in dict.fromkeys(slugs.values()):
        first = next(name for name, s in slugs.items() if s == slug)
        bind.execute(
            sa.text("INSERT INTO categories (slug, name) VALUES (:slug, :name)"),
            {"slug": slug, "name": first.strip() or "Uncategorised"},
        )
    return slugs


def _backfill_products(slugs: dict[str, str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, sku, name, description, category FROM products ORDER BY created_at, id")
    ).all()
    taken: set[str] = set()
    for row in rows:
        slug = slugify(row.name) or "product"
        if slug in taken:
            slug = f"{slug}-{slugify(row.sku)}".strip("-")
        while slug in taken:
            slug += "-x"
        taken.add(slug)
        bind.execute(
            sa.text(
                "UPDATE products SET slug = :slug, category_slug = :category, "
                "name_folded = :name, description_folded = :description WHERE id = :id"
            ),
            {
                "id": row.id,
                "slug": slug,
                "category": slugs[row.category],
                "name": fold(row.name),
                "description": fold(row.description),
            },
        )


def upgrade() -> None:
    slugs = _create_categories()
    for column in (
        sa.Column("slug", sa.String(280)),
        sa.Column("category_slug", sa.String(100)),
        sa.Column("image_url", sa.String(2000)),
        sa.Column("name_folded", sa.Text()),
        sa.Column("description_folded", sa.Text()),
    ):
        op.add_column("products", column)
    _backfill_products(slugs)
    for name in ("slug", "category_slug", "name_folded", "description_folded"):
        op.alter_column("products", name, nullable=False)
    op.create_unique_constraint("products_slug_key", "products", ["slug"])
    op.create_foreign_key(
        "products_category_fkey", "products", "categories", ["category_slug"], ["slug"]
    )
    op.drop_index("products_category", "products")
    op.drop_column("products", "category")
    # Category.productCount groups by it; a category's list filters on it.
    op.create_index("products_category_slug", "products", ["category_slug"])
    op.add_column(
        "products",
        sa.Column(
            "search_vector",
            TSVECTOR(),
            sa.Computed(SEARCH_VECTOR_SQL, persisted=True),
            nullable=False,
        ),
    )
    op.create_index("products_search", "products", ["search_vector"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("products_search", "products")
    op.drop_column("products", "search_vector")
    op.add_column("products", sa.Column("category", sa.String(100)))
    op.execute(
        "UPDATE products SET category = c.name FROM categories c WHERE c.slug = category_slug"
    )
    op.alter_column("products", "category", nullable=False)
    op.create_index("products_category", "products", ["category"])
    op.drop_index("products_category_slug", "products")
    op.drop_constraint("products_category_fkey", "products", type_="foreignkey")
    for name in ("slug", "category_slug", "image_url", "name_folded", "description_folded"):
        op.drop_column("products", name)
    op.drop_table("categories")
