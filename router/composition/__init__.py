"""Federation 2 composition: subgraph SDLs -> supergraph SDL (Apollo join format).

Stages, as composer.compose runs them: subgraph (parse into model.py's Subgraph),
settle and fed1 (facts the merge relies on, the Federation 1 upgrade), validate
(per-subgraph rules), merge/ (into composed.py's ComposedSupergraph), inaccessible
and satisfiability (checks of the result), printer (the SDL). diff.py classifies
subgraph changes for `shopgraph check`.

from router.composition import SubgraphSource, compose
result = compose([SubgraphSource("products", "http://...", sdl), ...])
result.supergraph_sdl   # str, or None when result.errors is not empty
"""

from .composer import CompositionResult, compose
from .errors import CompositionError, CompositionHint
from .model import SubgraphSource

__all__ = ["CompositionError", "CompositionHint", "CompositionResult", "SubgraphSource", "compose"]
