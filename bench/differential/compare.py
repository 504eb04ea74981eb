"""When two GraphQL responses count as the same answer.

Two responses agree when their `data` is equal, key order included (a GraphQL
response keeps the order of the request's fields), and their errors agree in a
normalised sense: the same set of error paths and errors on both sides or on neither.
Messages, codes, locations and extensions are not compared: they legitimately differ
between gateways. A missing `data` counts as `data: null`. Numbers compare by value
(JSON has one number type: a Float 3 may be written `3` by one gateway, `3.0` by another).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

NO_PATH = "-"  # stands for the path of an error that has none (request errors)
# set by the harness on the stand-in answer of a reference gateway that gave none
# (connection refused, process crashed): such an operation cannot be judged
UNAVAILABLE = "differential:unavailable"


@dataclass(frozen=True)
class Outcome:
    """The comparable part of a response."""

    data: Any
    error_paths: tuple[str, ...]  # sorted distinct paths, each as JSON text (or NO_PATH)
    has_errors: bool

    @property
    def data_text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)

    def same_as(self, other: Outcome) -> bool:
        return (
            self.data_text == other.data_text
            and self.error_paths == other.error_paths
            and self.has_errors == other.has_errors
        )


def outcome(response: Any) -> Outcome:
    """The comparable part of `response` (anything that is not an object is an error)."""
    if not isinstance(response, dict):
        return Outcome(None, (NO_PATH,), True)
    errors = response.get("errors")
    paths = set()
    if isinstance(errors, list):
        for error in errors:
            path = error.get("path") if isinstance(error, dict) else None
            paths.add(json.dumps(path) if isinstance(path, list) else NO_PATH)
    elif errors is not None:
        paths.add(NO_PATH)
    # round-trip through JSON text so Python-side values (tuples, ...) compare like JSON
    data = json.loads(json.dumps(response.get("data"), ensure_ascii=False), parse_float=_number)
    return Outcome(data, tuple(sorted(paths)), bool(paths))


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


class Verdict(StrEnum):
    """How one operation came out."""

    AGREE = "agree"  # the references agree and so does ours, on every supergraph
    DISAGREE = "disagree"  # the references agree; ours differs on some supergraph
    SPLIT = "reference-split"  # the references disagree with each other
    UNAVAILABLE = "reference-unavailable"  # a reference gave no answer (crashed, ...)


def verdict(apollo: Any, hive: Any, ours: dict[str, Any]) -> tuple[Verdict, list[str]]:
    """The verdict, and the supergraph sources (keys of `ours`) where ours differs."""
    if any(isinstance(r, dict) and r.get(UNAVAILABLE) for r in (apollo, hive)):
        return Verdict.UNAVAILABLE, []
    reference = outcome(apollo)
    if not reference.same_as(outcome(hive)):
        return Verdict.SPLIT, []
    differing = [source for source, response in ours.items()
                 if not outcome(response).same_as(reference)]
    return (Verdict.DISAGREE if differing else Verdict.AGREE), differing


def split_side(apollo: Any, hive: Any, ours: Any) -> str:
    """Which reference ours answers like when they disagree: apollo, hive or neither."""
    mine = outcome(ours)
    if mine.same_as(outcome(apollo)):
        return "apollo"
    if mine.same_as(outcome(hive)):
        return "hive"
    return "neither"
