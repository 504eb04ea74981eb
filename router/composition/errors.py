"""What composition reports: errors (composition fails) and hints (it succeeds).

Codes follow Apollo's composition error and hint codes wherever one exists, so a
message from us can be looked up in Apollo's documentation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompositionError:
    """A reason composition fails: an Apollo code, a message, where."""

    code: str
    message: str
    subgraphs: tuple[str, ...] = ()
    coordinate: str | None = None

    def __str__(self) -> str:
        where = f" [{', '.join(self.subgraphs)}]" if self.subgraphs else ""
        at = f" at {self.coordinate}" if self.coordinate else ""
        return f"{self.code}{where}{at}: {self.message}"


@dataclass(frozen=True)
class CompositionHint(CompositionError):
    """A non-fatal remark (same shape as an error)."""


class Report:
    """Collects errors and hints while a stage runs."""

    def __init__(self) -> None:
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []

    def error(
        self,
        code: str,
        message: str,
        subgraphs: tuple[str, ...] | list[str] = (),
        coordinate: str | None = None,
    ) -> None:
        """Record an error."""
        self.errors.append(CompositionError(code, message, tuple(subgraphs), coordinate))

    def hint(
        self,
        code: str,
        message: str,
        subgraphs: tuple[str, ...] | list[str] = (),
        coordinate: str | None = None,
    ) -> None:
        """Record a hint."""
        self.hints.append(CompositionHint(code, message, tuple(subgraphs), coordinate))
