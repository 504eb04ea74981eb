"""Staff directory: `Person.id`/`name` are non-null in directory, `Bot.id`/`name` nullable.

A client selection `... on Person { id name } ... on Bot { id name }` is valid against the
supergraph (Person.id is nullable there because roster has it nullable) but the same text
is invalid in directory (`ID!` vs `ID` under one response name), so the router must alias.
"""

from tests.conformance.kit import Resolvers

PEOPLE = {"p1": "Ada", "p2": "Linus"}
BOTS = [{"id": "b1", "name": "Beep"}, {"id": None, "name": None}]


def _person(id_: str) -> dict:
    return {"__typename": "Person", "id": id_, "name": PEOPLE[id_]}


def _bot(row: dict) -> dict:
    return {"__typename": "Bot", **row}


def _members() -> list[dict]:
    return [_person("p1"), _bot(BOTS[0]), _person("p2"), _bot(BOTS[1])]


def _similar(obj: dict, info: object) -> list[dict]:
    # everyone is similar to Ada and to the named bot
    return [_person("p1"), _bot(BOTS[0])]


SUBGRAPHS = {
    "roster": Resolvers(
        query={"people": lambda info: [{"id": "p1", "name": "Ada"}, {"id": "p2", "name": "Linus"}]}
    ),
    "directory": Resolvers(
        query={"members": lambda info: _members()},
        entities={"Person": lambda rep: _person(rep["id"]) if rep["id"] in PEOPLE else None},
        fields={"Person": {"similar": _similar}, "Bot": {"similar": _similar}},
    ),
}
