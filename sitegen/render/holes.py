"""Holes: the personal parts of a page, filled at the edge (ESI) or by the JS loader.

A template writes ``{% hole "attendance" event=event.id %}fallback{% endhole %}``
and gets one markup that serves both assemblers::

    <div class="hole" data-hole="attendance" data-src="/_frag/attendance?event=e1">
      <esi:include src="/_frag/attendance?event=e1" onerror="continue"/>
      <esi:remove>fallback</esi:remove>
    </div>

(on one line). Behind Varnish the include is filled and the fallback removed;
served without ESI the browser shows the fallback until the loader replaces
it. Only ``src`` and ``onerror`` are used: Varnish ignores the rest of ESI.

``FRAGMENTS`` is the contract with the fragment service: the names it serves
and the public parameters each takes. A hole naming anything else, or leaving
out a parameter, fails the build at the template's ``file:line``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup, escape

from sitegen.bounded import shown
from sitegen.model import Archive
from sitegen.render.routes import Routes

#: Fragment name -> the query parameters it requires (public ids only; identity
#: comes from the cookie alone).
FRAGMENTS: Mapping[str, frozenset[str]] = {
    "userbar": frozenset(),
    "attendance": frozenset({"event"}),
}

#: Where a theme keeps the template of each fragment: ``fragments/<name>.html``.
FRAGMENT_TEMPLATE = "fragments/{name}.html"


def fragment_url(prefix: str, name: str, params: Mapping[str, Any]) -> str:
    """``/_frag/attendance?event=e1``: parameters sorted, so output is deterministic."""
    query = urlencode(sorted((key, str(value)) for key, value in params.items()))
    return f"{prefix}{name}" + (f"?{query}" if query else "")


def hole_markup(prefix: str, name: str, params: Mapping[str, Any], fallback: str) -> Markup:
    src = escape(fragment_url(prefix, name, params))
    return Markup(
        f'<div class="hole hole-{name}" data-hole="{name}" data-src="{src}">'
        f'<esi:include src="{src}" onerror="continue"/><esi:remove>{fallback}</esi:remove></div>'
    )


class HoleExtension(Extension):
    """The ``{% hole %}`` tag. Set ``environment.hole_prefix`` (``extend``) to the
    service's URL prefix; it defaults to ``/_frag/``."""

    tags = {"hole"}

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.extend(hole_prefix="/_frag/")

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        lineno = token.lineno
        name_token = parser.stream.expect("string")
        name = name_token.value
        params: list[nodes.Pair] = []
        while parser.stream.current.type != "block_end":
            parser.stream.skip_if("comma")
            key = parser.stream.expect("name")
            parser.stream.expect("assign")
            params.append(nodes.Pair(nodes.Const(key.value), parser.parse_expression(), lineno=key.lineno))
        self._check(parser, name, [pair.key.value for pair in params], lineno)  # type: ignore[attr-defined]
        body = parser.parse_statements(("name:endhole",), drop_needle=True)
        call = self.call_method("_render_hole", [nodes.Const(name), nodes.Dict(params)])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _check(self, parser: Parser, name: str, keys: list[str], lineno: int) -> None:
        if name not in FRAGMENTS:
            known = ", ".join(sorted(FRAGMENTS))
            parser.fail(f"hole {name!r} names no fragment; the fragment service serves: {known}", lineno)
        required = FRAGMENTS[name]
        if set(keys) != required or len(keys) != len(set(keys)):
            wanted = ", ".join(f"{key}=…" for key in sorted(required)) or "no parameters"
            parser.fail(f"hole {name!r} takes {wanted}, not {', '.join(keys) or 'none'}", lineno)
        try:
            self.environment.loader.get_source(self.environment, FRAGMENT_TEMPLATE.format(name=name))  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            parser.fail(
                f"hole {name!r}: the theme has no {FRAGMENT_TEMPLATE.format(name=name)} for the fragment service to render",
                lineno,
            )

    def _render_hole(self, name: str, params: dict[str, Any], caller: Any) -> Markup:
        for key, value in params.items():
            if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
                raise TypeError(f"hole {name!r}: {key} must be a non-empty id, not {shown(value)}")
        return hole_markup(self.environment.hole_prefix, name, params, caller())  # type: ignore[attr-defined]


def fragment_index(archive: Archive, routes: Routes) -> bytes:
    """What the fragment service needs to know of the site, as JSON.

    Event titles, page URLs and speakers, and people's names and URLs: public
    facts only. The build writes it beside the site (not uploaded); the
    service reads it at start, so it needs neither the API nor the archive.
    """
    events = {
        event.id: {
            "title": event.name,
            "url": routes.url(event),
            "speakers": sorted({person.id for s in archive.sessions_by_event.get(event.id, ()) for person in s.speakers}),
        }
        for event in archive.events.values()
    }
    people = {person.id: {"name": person.name, "url": routes.url(person)} for person in archive.people.values()}
    data = {"format": 1, "events": events, "people": people}
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
