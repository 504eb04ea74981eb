"""What the suggestions resolvers and jobs share: the catalogue cache and the recomputer."""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Catalogue
from .recompute import Recomputer


@dataclass(frozen=True)
class SuggestionsServices:
    """The products cache and the process-pool recomputer of one suggestions app."""

    catalogue: Catalogue
    recomputer: Recomputer
