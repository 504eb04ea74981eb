"""Where fields are planned: one fetch's selection, at one response path, for one type."""

from __future__ import annotations

from dataclasses import dataclass

from router.planner.groups import Group
from router.planner.provided import Provided
from router.planner.subquery import SubSelection


@dataclass(frozen=True, slots=True)
class Position:
    """Fields planned here go into `sub`, a selection of the fetch `group`, at response
    path `path`, for objects of `type_name` (named `s_type` in the group's subgraph),
    under the type condition `frag` (None: none), where `provided` says what a @provides
    along the way lets the subgraph resolve."""

    group: Group
    sub: SubSelection
    path: tuple[str, ...]
    type_name: str
    s_type: str
    frag: str | None = None
    provided: Provided | None = None

    @property
    def subgraph(self) -> str:
        """The subgraph the fetch goes to."""
        return self.group.subgraph

    def of_type(self, type_name: str) -> Position:
        """The same place for the objects of `type_name` among those of `s_type`: under a
        type condition unless it is `s_type` itself."""
        if type_name == self.type_name == self.s_type and self.frag is None:
            return self  # an object type's own fields: the same place (and no new object)
        frag = None if type_name == self.s_type else type_name
        return Position(self.group, self.sub, self.path, type_name, type_name, frag, self.provided)
