"""The Federation vocabulary both sides share: what the specs define, nothing more.

Composition (subgraph SDLs -> supergraph SDL) and the router's supergraph model
(supergraph SDL -> planner questions) read the same things: `@link` imports,
field sets, type references and the directive names of each spec version.
They are defined here once:

- `specs`: spec names and identities, federation versions and directive names,
  which features are machinery, what a subgraph server adds for the protocol;
- `links`: `@link`/`@core` resolution (spec URLs, `as:`, `import:`, local names);
- `fieldset`: field-set parsing (`@key`, `@requires`, `@provides`, `join__` twins);
- `typeref`: type references as text, type nodes and schema types.
"""
