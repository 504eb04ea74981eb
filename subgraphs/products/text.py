"""Text as the catalogue compares it: accent-folded for search, slugs for URLs."""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """`text` lower-cased without accents ("Café Crème" -> "cafe creme").

    Compatibility decomposition splits letters from their marks (and ligatures
    into letters); the marks are dropped; casefold handles "ß" and the like.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def slugify(text: str) -> str:
    """A URL slug: folded, runs of anything but ASCII letters and digits as one dash.

    "Mugs & Cups" -> "mugs-cups", "Café Crème 250g" -> "cafe-creme-250g"; "" if
    nothing is left.
    """
    return _NOT_SLUG.sub("-", fold(text)).strip("-")
