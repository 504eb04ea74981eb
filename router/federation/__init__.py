"""The Federation vocabulary both sides share: what the specs define, nothing more.

Composition (subgraph SDLs -> supergraph SDL) and the router's supergraph model
(supergraph SDL -> planner questions) read the same things: `@link` imports,
field sets, type references and the directive names of each spec version.
They are defined here once.
"""
