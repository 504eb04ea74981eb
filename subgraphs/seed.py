"""A demo shop: catalogue, stock, an admin, customers and some past orders.

Ids are derived from SKUs and emails (uuid5), so every subgraph's seed agrees
on them without talking to the others, and seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.common.database import Database
from subgraphs.common.types import CENTS

from .accounts.models import UserRow
from .inventory.models import COMMITTED, ReservationLineRow, ReservationRow, StockItemRow
from .orders.models import (
    CAPTURED,
    FULFILLED,
    PAID,
    OrderLineRow,
    OrderRow,
    PaymentRow,
)
from .payments.seed import seed_payments
from .products.models import CategoryRow, ProductRow
from .products.text import fold, slugify
from .promotions.seed import seed_promotions

NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4c1e-9a3f-2d8e7b6a5c40")


@dataclass(frozen=True)
class DemoUser:
    """A demo account: its sign-in credentials, name and role."""

    email: str
    password: str
    name: str
    role: str


DEMO_USERS = (
    DemoUser("admin@shopgraph.dev", "admin-password", "Ada Admin", "ADMIN"),
    DemoUser("alice@example.com", "alice-password", "Alice Customer", "CUSTOMER"),
    DemoUser("bob@example.com", "bob-password", "Bob Customer", "CUSTOMER"),
    DemoUser("carol@example.com", "carol-password", "Carol Customer", "CUSTOMER"),
)

# (category, sku prefix, [(name, price, stock)]); category slugs are made from the names
# (text.slugify: "Mugs & Cups" -> "mugs-cups").
CATALOGUE: tuple[tuple[str, str, tuple[tuple[str, str, int], ...]], ...] = (
    (
        "Coffee",
        "COF",
        (
            ("Ethiopia Yirgacheffe Beans 250g", "14.50", 120),
            ("Colombia Huila Beans 1kg", "39.00", 40),
            ("Café Crème House Blend 500g", "18.90", 80),
            ("Decaf Swiss Water 250g", "13.75", 25),
            ("Cold Brew Concentrate 1L", "11.20", 60),
            ("Kenya AA Beans 250g", "16.40", 0),
            ("Guatemala Antigua Beans 500g", "21.00", 35),
            ("Single-Serve Drip Bags (10)", "9.99", 150),
            ("Sumatra Mandheling Beans 250g", "15.25", 18),
        ),
    ),
    (
        "Brewing",
        "BRW",
        (
            ("Pour-Over Dripper V60", "24.00", 45),
            ("Gooseneck Kettle 1L", "69.00", 20),
            ("Burr Grinder Pro", "189.00", 8),
            ("French Press 800ml", "34.50", 30),
            ("Paper Filters (100)", "6.50", 300),
            ("Digital Brew Scale", "45.00", 22),
            ("AeroPress Go", "39.95", 3),
            ("Moka Pot 6-Cup", "42.00", 16),
            ("Milk Frother Wand", "19.90", 55),
        ),
    ),
    (
        "Tea",
        "TEA",
        (
            ("Darjeeling First Flush 100g", "17.80", 40),
            ("Sencha Green 100g", "12.40", 65),
            ("Earl Grey Supreme 100g", "10.90", 90),
            ("Rooibos Vanilla 100g", "9.50", 70),
            ("Matcha Ceremonial 30g", "28.00", 12),
            ("Jasmine Pearls 50g", "15.60", 0),
            ("Chai Masala 100g", "11.30", 48),
            ("Oolong Tie Guan Yin 100g", "19.20", 26),
            ("Chamomile Blossoms 50g", "8.40", 85),
        ),
    ),
    (
        "Mugs & Cups",
        "MUG",
        (
            ("Stoneware Mug 350ml", "16.00", 110),
            ("Double-Wall Glass 250ml (2)", "22.50", 60),
            ("Travel Tumbler 470ml", "29.00", 75),
            ("Espresso Cups (4)", "27.00", 32),
            ("Enamel Camp Mug", "14.00", 5),
            ("Porcelain Teacup & Saucer", "19.50", 28),
            ("Latte Bowl 450ml", "18.00", 40),
            ("Insulated Flask 750ml", "36.00", 44),
            ("Cortado Glass 135ml (2)", "17.00", 38),
        ),
    ),
    (
        "Snacks",
        "SNK",
        (
            ("Dark Chocolate 70% Bar", "4.20", 200),
            ("Almond Biscotti (12)", "8.90", 90),
            ("Salted Caramel Stroopwafels", "6.40", 120),
            ("Ginger Shortbread Tin", "12.00", 35),
            ("Hazelnut Praline Bites", "9.70", 0),
            ("Oat & Honey Cookies (8)", "5.80", 140),
            ("Candied Orange Peel 150g", "7.60", 50),
            ("Matcha White Chocolate", "5.20", 66),
            ("Cantuccini Tin 300g", "13.40", 24),
        ),
    ),
    (
        "Gifts",
        "GFT",
        (
            ("Coffee Lover Gift Box", "59.00", 15),
            ("Tea Tasting Flight", "44.00", 20),
            ("Barista Starter Kit", "129.00", 6),
            ("Gift Card $25", "25.00", 999),
            ("Gift Card $50", "50.00", 999),
            ("Monthly Beans Subscription (3 mo)", "99.00", 40),
            ("Cupping Spoon Set", "21.00", 30),
            ("Tea Infuser Set", "18.50", 45),
            ("Chocolate & Coffee Pairing Box", "38.00", 2),
        ),
    ),
)

# Written to be searched: only the Earl Grey products mention "earl" (no "early" either).
DESCRIPTIONS: dict[str, str] = {
    "COF-001": "Washed Ethiopian arabica with jasmine, bergamot and lemon notes; light roast.",
    "COF-002": "A balanced Colombian coffee with caramel sweetness and red apple; medium roast.",
    "COF-003": "Our espresso blend of Brazilian and Indian beans: cocoa, hazelnut, a thick crema.",
    "COF-004": "Decaffeinated without chemicals by the Swiss Water process; milk chocolate notes.",
    "COF-005": "Steeped for 18 hours; mix one part with three parts water or milk, over ice.",
    "COF-006": "Bright blackcurrant and grapefruit acidity from Kenyan highland farms.",
    "COF-007": "Volcanic soil, full body, dark chocolate and a hint of smoke.",
    "COF-008": "Ten pour-over coffee bags that hang on any cup: just add hot water.",
    "COF-009": "Wet-hulled Indonesian coffee, earthy and syrupy, with cedar and spice.",
    "BRW-001": "The classic cone dripper in ceramic for clean, bright filter coffee.",
    "BRW-002": "Precise pouring spout and a built-in thermometer for pour-over brewing.",
    "BRW-003": "Conical steel burrs with 40 settings, from espresso fine to French press coarse.",
    "BRW-004": "Borosilicate glass and a stainless mesh filter: full-bodied coffee in 4 minutes.",
    "BRW-005": "Unbleached paper filters sized for the V60 dripper.",
    "BRW-006": "Weighs to 0.1 g with a built-in timer for repeatable recipes.",
    "BRW-007": "The travel press that brews coffee or espresso-style shots in a minute.",
    "BRW-008": "Italian stovetop espresso maker in aluminium for strong, rich coffee.",
    "BRW-009": "Battery whisk that foams milk for lattes and cappuccinos in seconds.",
    "TEA-001": "Spring harvest black tea from the Himalayan foothills: floral and muscatel.",
    "TEA-002": "Steamed Japanese green tea, grassy and sweet; brew at 70 degrees.",
    "TEA-003": "Earl Grey black tea scented with bergamot oil and blue cornflower petals.",
    "TEA-004": "Caffeine-free South African red bush infusion with Madagascar vanilla.",
    "TEA-005": "Stone-ground shade-grown green tea powder for whisking; vivid and umami.",
    "TEA-006": "Green tea leaves hand-rolled into pearls and scented with fresh jasmine blossoms.",
    "TEA-007": "Assam black tea with cardamom, cinnamon, ginger and clove; simmer with milk.",
    "TEA-008": "Lightly oxidised oolong from Fujian with orchid aroma and a buttery finish.",
    "TEA-009": "Whole chamomile flowers for a calming, honeyed herbal infusion.",
    "MUG-001": "Hand-glazed stoneware mug, dishwasher and microwave safe.",
    "MUG-002": "Two insulated borosilicate glasses that keep drinks hot and hands cool.",
    "MUG-003": "Vacuum-insulated steel tumbler with a leak-proof lid; hot for six hours.",
    "MUG-004": "Four thick-walled porcelain demitasse cups that hold the heat of a shot.",
    "MUG-005": "Lightweight enamelled steel mug for camping and the garden.",
    "MUG-006": "Fine white porcelain cup and saucer for an afternoon tea.",
    "MUG-007": "A wide French-style bowl for café au lait and big milky coffees.",
    "MUG-008": "Keeps tea or coffee hot for 12 hours and cold drinks cold for 24.",
    "MUG-009": "Two small tumblers sized for a cortado or a gibraltar.",
    "SNK-001": "Single-origin cocoa from Ecuador; pairs with a dark roast.",
    "SNK-002": "Twice-baked Tuscan biscuits with whole almonds, made for dunking.",
    "SNK-003": "Dutch waffle cookies with salted caramel syrup; rest one on your cup.",
    "SNK-004": "Buttery Scottish shortbread with stem ginger pieces.",
    "SNK-005": "Crunchy hazelnut praline coated in milk chocolate.",
    "SNK-006": "Chewy oat cookies sweetened with wildflower honey.",
    "SNK-007": "Slow-candied Sicilian orange strips, half dipped in dark chocolate.",
    "SNK-008": "Creamy white chocolate blended with Japanese matcha green tea.",
    "SNK-009": "Classic almond cantuccini from Prato in a gift tin.",
    "GFT-001": "Three single-origin coffees, a stoneware mug and a bar of dark chocolate.",
    "GFT-002": "Six teas to compare: Darjeeling, Sencha, Earl Grey, Oolong, Rooibos and Chai.",
    "GFT-003": "A V60 dripper, gooseneck kettle, scale and filters to brew like a barista.",
    "GFT-004": "A digital gift card for anything in the shop, sent by email.",
    "GFT-005": "A digital gift card for anything in the shop, sent by email.",
    "GFT-006": "A fresh bag of roaster's choice coffee every month for three months.",
    "GFT-007": "Four deep stainless spoons for tasting coffee like the professionals.",
    "GFT-008": "A fine mesh infuser basket and a glass teapot for loose-leaf tea.",
    "GFT-009": "Four chocolates matched with four coffees, with tasting notes.",
}


def product_id(sku: str) -> uuid.UUID:
    """The demo product's stable id, derived from its SKU."""
    return uuid.uuid5(NAMESPACE, f"product:{sku}")


def user_id(email: str) -> uuid.UUID:
    """The demo user's stable id, derived from the email."""
    return uuid.uuid5(NAMESPACE, f"user:{email}")


@dataclass(frozen=True)
class DemoProduct:
    """A catalogue entry of the demo shop, with its starting stock."""

    id: uuid.UUID
    sku: str
    name: str
    category: str
    price: Decimal
    stock: int
    description: str = ""

    @property
    def slug(self) -> str:
        """The product's URL slug (every demo name makes a distinct one)."""
        return slugify(self.name)

    @property
    def category_slug(self) -> str:
        """Its category's slug: "Mugs & Cups" -> "mugs-cups"."""
        return slugify(self.category)


def demo_products() -> list[DemoProduct]:
    """The demo catalogue, each product with its SKU-derived id."""
    result = []
    for category, prefix, items in CATALOGUE:
        for index, (name, price, stock) in enumerate(items, start=1):
            sku = f"{prefix}-{index:03d}"
            product = DemoProduct(product_id(sku), sku, name, category, Decimal(price), stock)
            result.append(replace(product, description=DESCRIPTIONS[sku]))
    return result


# (customer email, days ago, status, [(sku, quantity)])
PAST_ORDERS = (
    ("alice@example.com", 30, FULFILLED, (("COF-001", 2), ("BRW-001", 1))),
    ("alice@example.com", 12, FULFILLED, (("TEA-003", 1), ("SNK-001", 4))),
    ("alice@example.com", 2, PAID, (("MUG-003", 1),)),
    ("bob@example.com", 21, FULFILLED, (("BRW-003", 1), ("COF-002", 1))),
    ("bob@example.com", 5, PAID, (("GFT-001", 1), ("SNK-002", 2))),
    ("carol@example.com", 9, FULFILLED, (("TEA-005", 2), ("MUG-006", 2), ("SNK-007", 1))),
)


async def seed_accounts(db: Database) -> None:
    """Create the demo users that do not exist yet."""
    hasher = PasswordHasher()
    async with db.session() as session, session.begin():
        existing = set((await session.scalars(select(UserRow.email))).all())
        for user in DEMO_USERS:
            if user.email not in existing:
                session.add(
                    UserRow(
                        id=user_id(user.email),
                        email=user.email,
                        name=user.name,
                        role=user.role,
                        password_hash=hasher.hash(user.password),
                    )
                )


async def seed_products(db: Database) -> None:
    """Insert the demo categories and catalogue, leaving existing ones as they are."""
    now = datetime.now(UTC)
    categories = [{"slug": slugify(name), "name": name} for name, _, _ in CATALOGUE]
    rows = [
        {
            "id": p.id,
            "sku": p.sku,
            "slug": p.slug,
            "name": p.name,
            "description": p.description,
            "name_folded": fold(p.name),
            "description_folded": fold(p.description),
            "category_slug": p.category_slug,
            "image_url": f"/images/products/{p.slug}.jpg",
            "price_amount": p.price,
            "currency_code": "USD",
            # Spread creation times so "newest first" is meaningful.
            "created_at": now - timedelta(hours=index),
            "updated_at": now - timedelta(hours=index),
        }
        for index, p in enumerate(demo_products())
    ]
    async with db.session() as session, session.begin():
        await session.execute(insert(CategoryRow).values(categories).on_conflict_do_nothing())
        await session.execute(insert(ProductRow).values(rows).on_conflict_do_nothing())


async def seed_inventory(db: Database) -> None:
    """Give each demo product its starting stock, once."""
    async with db.session() as session, session.begin():
        rows = [{"product_id": p.id, "on_hand": p.stock, "reserved": 0} for p in demo_products()]
        inserted = (
            await session.scalars(
                insert(StockItemRow)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(StockItemRow.product_id)
            )
        ).all()
        if not inserted:
            return  # already seeded
        # Past orders already left the warehouse: their reservations are committed.
        for number, (_, days, _, lines) in enumerate(PAST_ORDERS, start=1):
            reservation = _past_order_id(number)
            session.add(
                ReservationRow(
                    id=reservation,
                    status=COMMITTED,
                    expires_at=datetime.now(UTC) - timedelta(days=days),
                )
            )
            await session.flush()
            session.add_all(
                ReservationLineRow(
                    reservation_id=reservation, product_id=product_id(sku), quantity=q
                )
                for sku, q in lines
            )


def _past_order_id(number: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"order:{number}")


async def seed_orders(db: Database) -> None:
    """Write the customers' past orders, once."""
    products = {p.sku: p for p in demo_products()}
    now = datetime.now(UTC)
    async with db.session() as session, session.begin():
        if await session.scalar(select(OrderRow.id).where(OrderRow.id == _past_order_id(1))):
            return
        for number, (email, days, status, lines) in enumerate(PAST_ORDERS, start=1):
            order_id = _past_order_id(number)
            created = now - timedelta(days=days)
            total = sum((products[s].price * q for s, q in lines), Decimal(0)).quantize(CENTS)
            session.add(
                OrderRow(
                    id=order_id,
                    user_id=user_id(email),
                    status=status,
                    currency_code="USD",
                    subtotal=total,
                    total=total,
                    idempotency_key=f"seed-{number}",
                    created_at=created,
                    updated_at=created,
                    expires_at=created + timedelta(minutes=15),
                    paid_at=created + timedelta(minutes=2),
                    fulfilled_at=created + timedelta(days=1) if status == FULFILLED else None,
                )
            )
            await session.flush()
            session.add_all(
                OrderLineRow(
                    order_id=order_id,
                    line_number=i,
                    product_id=products[sku].id,
                    sku=sku,
                    name=products[sku].name,
                    quantity=q,
                    unit_price=products[sku].price,
                )
                for i, (sku, q) in enumerate(lines, start=1)
            )
            session.add(
                PaymentRow(
                    id=uuid.uuid5(NAMESPACE, f"payment:{number}"),
                    order_id=order_id,
                    idempotency_key=f"seed-{number}",
                    amount=total,
                    currency_code="USD",
                    status=CAPTURED,
                    provider_reference=f"fake_seed_{number}",
                    created_at=created,
                )
            )


async def _seed_suggestions(db: Database) -> None:
    """Suggestions' demo baskets, imported when called: they are built from this module's
    past orders (a module-level import would be circular)."""
    from .suggestions.seed import seed_suggestions

    await seed_suggestions(db)


SEEDERS = {
    "accounts": seed_accounts,
    "products": seed_products,
    "inventory": seed_inventory,
    "orders": seed_orders,
    "promotions": seed_promotions,
    "payments": seed_payments,
    "suggestions": _seed_suggestions,
}
