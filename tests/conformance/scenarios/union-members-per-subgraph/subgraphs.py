"""A union whose members differ per subgraph, behind shareable fields.

`Result` is `Product | Article` in shop and `Article | Faq` in help. Both serve the
shareable `search`, `highlight` and `home`; being shareable, they answer alike, so every
result they return is an `Article`, the member both know. Type conditions on the members
only one subgraph knows (`Product`, `Faq`) select nothing on those answers; `banner`,
which only help has, may be a `Faq`.
"""

from tests.conformance.kit import Resolvers

ARTICLES = {
    "tea": [
        {"__typename": "Article", "slug": "brewing-green-tea", "title": "Brewing green tea"},
        {"__typename": "Article", "slug": "tea-storage", "title": "Keeping tea fresh"},
    ],
    "kettle": [],
}
HIGHLIGHT = {"__typename": "Article", "slug": "tea-storage", "title": "Keeping tea fresh"}
BANNER = {"__typename": "Faq", "question": "Do you ship abroad?", "answer": "Within the EU."}


def _search(info, term):
    return ARTICLES.get(term, [])


def _home(with_banner: bool):
    def resolve(info):
        home = {"hero": HIGHLIGHT, "side": None}
        if with_banner:
            home["banner"] = BANNER
        return home

    return resolve


SUBGRAPHS = {
    "shop": Resolvers(
        query={"search": _search, "highlight": lambda info: HIGHLIGHT, "home": _home(False)}
    ),
    "help": Resolvers(
        query={"search": _search, "highlight": lambda info: HIGHLIGHT, "home": _home(True)}
    ),
}
