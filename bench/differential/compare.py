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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

REFERENCE_BUGS_FILE = Path(__file__).with_name("reference_bugs.yaml")

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
    # the references agree on an answer known to be wrong (reference_bugs.yaml)
    REFERENCE_BUG = "reference-bug"
    SPLIT = "reference-split"  # the references disagree with each other
    UNAVAILABLE = "reference-unavailable"  # a reference gave no answer (crashed, ...)


@dataclass(frozen=True)
class ReferenceBug:
    """Both references are wrong where their answers carry this error (checked by hand)."""

    scenario: str
    error: re.Pattern[str]
    case: str
    why: str

    def matches(self, response: Any) -> bool:
        errors = response.get("errors") if isinstance(response, dict) else None
        return any(
            isinstance(e, dict) and self.error.search(str(e.get("message", "")))
            for e in errors or ()
        )


def load_reference_bugs(path: Path = REFERENCE_BUGS_FILE) -> dict[str, list[ReferenceBug]]:
    """The hand-checked reference bugs, by scenario."""
    out: dict[str, list[ReferenceBug]] = {}
    for entry in yaml.safe_load(path.read_text()) or ():
        if not entry.get("why") or not entry.get("case"):
            raise ValueError(f"{path.name}: every entry needs a case and a why: {entry}")
        bug = ReferenceBug(entry["scenario"], re.compile(entry["error"]), entry["case"],
                           entry["why"])
        out.setdefault(bug.scenario, []).append(bug)
    return out


def verdict(
    apollo: Any, hive: Any, ours: dict[str, Any], known: Sequence[ReferenceBug] = ()
) -> tuple[Verdict, list[str]]:
    """The verdict, and the supergraph sources (keys of `ours`) where ours differs.

    `known` are the scenario's hand-checked reference bugs.
    """
    if any(isinstance(r, dict) and r.get(UNAVAILABLE) for r in (apollo, hive)):
        return Verdict.UNAVAILABLE, []
    reference = outcome(apollo)
    if not reference.same_as(outcome(hive)):
        return Verdict.SPLIT, []
    differing = [source for source, response in ours.items()
                 if not outcome(response).same_as(reference)]
    # the references agree, so one of them naming the subgraph's error is enough (Hive
    # Gateway masks subgraph messages as "Unexpected error.")
    if differing and any(bug.matches(apollo) or bug.matches(hive) for bug in known):
        return Verdict.REFERENCE_BUG, differing
    return (Verdict.DISAGREE if differing else Verdict.AGREE), differing


def split_side(apollo: Any, hive: Any, ours: Any) -> str:
    """Which reference ours answers like when they disagree: apollo, hive or neither."""
    mine = outcome(ours)
    if mine.same_as(outcome(apollo)):
        return "apollo"
    if mine.same_as(outcome(hive)):
        return "hive"
    return "neither"
