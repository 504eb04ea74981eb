"""Full-text search over the catalogue: the query a search text becomes, and its rank.

The search document is products.search_vector (models.SEARCH_VECTOR_SQL, GIN
indexed): each product's folded name (weight A) and description (weight B),
stemmed and as written. A search text is folded the same way (text.fold: case
and accents do not matter) and split into words; every word must match, the
last one as a prefix too, so "earl" finds "Earl Grey" while a customer is still
typing, and never "Pearls" (a prefix matches from a word's start). A word
matches stemmed ("pearl" finds "Pearls") or as written (stop words such as
"the" are kept in the 'simple' half of the document).
"""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.dialects.postgresql import REAL

from .models import ProductRow
from .text import fold

# Letters and digits only: nothing to_tsquery could read as an operator.
_WORD = re.compile(r"[^\W_]+")
# More words than this only narrow a search that already found what it could.
MAX_SEARCH_WORDS = 16
_ENGLISH = literal_column("'english'::regconfig")
_SIMPLE = literal_column("'simple'::regconfig")


def search_words(search: str) -> list[str]:
    """The folded words of a search text (at most MAX_SEARCH_WORDS); [] if it has none."""
    return _WORD.findall(fold(search))[:MAX_SEARCH_WORDS]


def _word_query(word: str, prefix: bool) -> Any:
    stemmed = func.to_tsquery(_ENGLISH, word)
    written = func.to_tsquery(_SIMPLE, word + ":*" if prefix else word)
    return stemmed.op("||")(written)


def ts_query(words: list[str]) -> Any:
    """The tsquery all `words` must match, the last one also as a prefix."""
    query = _word_query(words[-1], prefix=True)
    for word in reversed(words[:-1]):
        query = _word_query(word, prefix=False).op("&&")(query)
    return query


def matches(words: list[str]) -> ColumnElement[bool]:
    """Products whose search document matches every word."""
    return ProductRow.search_vector.op("@@")(ts_query(words))


def rank(words: list[str]) -> Any:
    """How well a product matches (higher is better; name matches weigh most)."""
    return func.ts_rank(ProductRow.search_vector, ts_query(words), type_=REAL)


def decode_rank(value: str) -> float:
    """A rank read back from a cursor: a finite float ts_rank could give (never below
    0, nor -0.0), else ValueError."""
    number = float(value)
    if not math.isfinite(number) or math.copysign(1.0, number) < 0:
        raise ValueError("not a rank ts_rank gives")
    return number
