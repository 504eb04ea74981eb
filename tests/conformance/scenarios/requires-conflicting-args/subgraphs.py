from tests.conformance.kit import Resolvers

BOXES = {"b1": 40.0, "b2": 76.2}  # cm


def side(obj: dict, info, unit: str) -> float:
    cm = BOXES[obj["id"]]
    return cm if unit == "CM" else round(cm / 2.54, 2)


def label(rep: dict) -> dict:
    # the representation carries `side` in whichever unit the requiring field asked for;
    # the labels print the number as received, so a wrong unit shows in the answer
    out = {"id": rep["id"]}
    if "side" in rep:
        out["usLabel"] = f"{rep['side']:g} in"
        out["euLabel"] = f"{rep['side']:g} cm"
    return out


SUBGRAPHS = {
    "boxes": Resolvers(
        query={"boxes": lambda info: [{"id": k} for k in BOXES]},
        fields={"Box": {"side": side}},
    ),
    "labels": Resolvers(entities={"Box": label}),
}
