"""@composeDirective: the directive's definition is kept and its spec @link-ed in the supergraph."""

from __future__ import annotations

from router.federation.links import Link
from router.federation.specs import parse_version
from router.federation.typeref import named_type

from ..composed import ComposedArgument, ComposedDirective
from ..model import Subgraph
from .context import MergeContext

# Newest version of each composed spec: identity -> (version, url, directive, printed imports).
_Links = dict[str, tuple[str, str, str, str]]


def collect_composed_directives(ctx: MergeContext) -> None:
    """Note each subgraph's composed directives; link their specs and copy their definitions."""
    links: _Links = {}
    for sg in ctx.subgraphs:
        for name in sg.composed:
            link = _checked_link(ctx, sg, name)
            if link is None:
                continue
            ctx.composed.setdefault(name, []).append(sg.name)
            current = links.get(link.identity)
            if current is None or _version_key(link.version) > _version_key(current[0]):
                links[link.identity] = (link.version, link.url, name, _printed_imports(sg, link))
    for _identity, (_, url, _name, imports) in sorted(links.items()):
        ctx.out.feature_links.append(f'@link(url: "{url}", import: [{imports}])')
    _add_definitions(ctx)


def _checked_link(ctx: MergeContext, sg: Subgraph, name: str) -> Link | None:
    """The @link bringing directive `name` in, if it has one and a definition."""
    link = next((lk for lk in sg.links if lk.spec_name_of_directive(name) is not None), None)
    if link is None:
        ctx.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            f'[{sg.name}] Directive "@{name}" in subgraph "{sg.name}" cannot '
            "be composed because it is not a member of a core feature",
            [sg.name],
            f"@{name}",
        )
        return None
    if name not in sg.directive_defs:
        ctx.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            f"[{sg.name}] Could not find matching directive definition for "
            f'argument to @composeDirective "@{name}" in subgraph '
            f'"{sg.name}".',
            [sg.name],
            f"@{name}",
        )
        return None
    if name == link.prefix != link.name:
        # Apollo looks a spec's own directive up by its local name as if that were the
        # spec's name, so finds none once the spec is renamed (`as: "cu"`, `@cu`).
        ctx.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            f'Core feature "{link.identity}" in subgraph "{sg.name}" does not have a '
            f'directive definition for "@{name}"',
            [sg.name],
            f"@{name}",
        )
        return None
    return link


def _add_definitions(ctx: MergeContext) -> None:
    """Each composed directive's definition, as the last composing subgraph defines it."""
    for name in ctx.composed:
        for sg in ctx.subgraphs:
            if name in sg.directive_defs and sg.name in ctx.composed[name]:
                d = sg.directive_defs[name]
                ctx.out.directive_defs[name] = ComposedDirective(
                    name,
                    list(d.locations),
                    d.repeatable,
                    {
                        a.name: ComposedArgument(a.name, a.type, a.default, a.description)
                        for a in d.args.values()
                    },
                    d.description,
                )


def note_composed_directive_enum_usage(ctx: MergeContext) -> None:
    """Enums in the arguments of composed directives are used, as input types (the
    executable directives' arguments are merged like fields' and noted there)."""
    for sg in ctx.subgraphs:
        for name in sorted(ctx.composed.keys() & sg.directive_defs.keys()):
            for arg in sg.directive_defs[name].args.values():
                base = named_type(arg.type)
                enum_type = ctx.out.types.get(base)
                if enum_type is not None and enum_type.kind == "ENUM":
                    ctx.enum_usage.setdefault(base, ("Input", f"@{name}({arg.name}:)", None))


def _version_key(version: str) -> tuple[int, int]:
    return parse_version(version) or (0, 0)


def _printed_imports(sg: Subgraph, link: Link) -> str:
    """The supergraph's `import:` for the composed directives of `link`, in
    @composeDirective order: each by its spec name, with `as:` where the subgraph calls
    it otherwise (renamed or `prefix__name`)."""
    printed = []
    for local in sg.composed:
        spec = link.spec_name_of_directive(local)
        if spec == local:
            printed.append(f'"@{local}"')
        elif spec is not None:
            printed.append(f'{{name: "@{spec}", as: "@{local}"}}')
    return ", ".join(printed)
