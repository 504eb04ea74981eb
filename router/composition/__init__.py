"""Federation 2 composition: subgraph SDLs -> supergraph SDL (Apollo join format).

from router.composition import SubgraphSource, compose
result = compose([SubgraphSource("products", "http://...", sdl), ...])
result.supergraph_sdl   # str, or None when result.errors is not empty
"""

from .composer import CompositionResult, compose
from .errors import CompositionError, CompositionHint
from .model import SubgraphSource

__all__ = ["CompositionError", "CompositionHint", "CompositionResult", "SubgraphSource", "compose"]
