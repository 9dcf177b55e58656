"""Digests of inputs, for the files a rebuild judges by digest rather than by
the objects they show (``render.record`` for those): the listings, the feed
and the sitemap; and the site-wide inputs and templates every file depends on.

A listing's digest covers:

- the site-wide inputs: sitegen's version and rendering code, config, menu,
  asset names, and today's date when a template reads ``today``;
- its template and every template that one pulls in (``extends``,
  ``include``, ``import``), by content;
- its own spec: route, title, description and context.

Model objects in a context are fingerprinted through their forward links (a
session through its event, speakers and topics; an event through its series,
venue and topics), each once per build, so whatever a template can reach from
the context is covered.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path, PurePath
from typing import Any

import jinja2
from jinja2 import meta

from sitegen import __version__
from sitegen.model import Event, Person, Series, Session, Topic, Venue

#: Types whose instances are fingerprinted once per build and referred to by that.
_LINKED_TYPES = frozenset({Session, Event, Person, Topic, Series, Venue})
#: Source files whose change changes what pages look like (tests/test_render_digest.py
#: holds it to the modules the render and content stages import).
CODE = ("render", "content.py", "untrusted.py", "model", "contract")
#: Libraries whose version changes what pages look like, beside Jinja: the renderer of untrusted Markdown
#: (editor pages reach the render stage as their HTML, which is digested as data) and the country names.
#: (The zones' rules, which give local days and times, are a site-wide input: ``Archive.zones``.)
LIBRARIES = ("comrak", "iso3166")
#: Pickled as they are: their pickles are the same in every process.
_SCALAR_TYPES = frozenset({str, bytes, int, float, bool, type(None), date, datetime, time, timedelta})


@functools.cache
def code_version() -> bytes:
    """sitegen's version and the bytes of the code that decides what pages hold.
    Cached: it reads a few dozen files, and a build asks twice."""
    # Jinja's and Python's versions too: they decide how templates are parsed and compiled.
    libraries = " ".join(f"{name} {version(name)}" for name in LIBRARIES)
    hasher = hashlib.blake2b(f"{__version__} {jinja2.__version__} {sys.version} {libraries}".encode(), digest_size=16)
    package = Path(__file__).resolve().parent.parent
    for name in CODE:
        target = package / name
        for source in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            hasher.update(source.name.encode())
            hasher.update(source.read_bytes())
    return hasher.digest()


class Fingerprints:
    """Digests of values; linked model objects are memoised for the build.

    A value is turned into plain data (scalars, tuples, and the digests of
    linked objects in their place) and that is pickled and hashed: pickle
    and blake2b run in C, which keeps fingerprinting every page of a large
    archive well under a second.
    """

    def __init__(self) -> None:
        self._objects: dict[int, bytes] = {}
        self._fields: dict[type, tuple[str, ...]] = {}

    def of(self, *values: Any) -> bytes:
        plain = pickle.dumps(self._plain(values), protocol=5)
        return hashlib.blake2b(plain, digest_size=16).digest()

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _LINKED_TYPES:
            return self._linked(value)
        if kind in _SCALAR_TYPES:
            return value
        if kind is tuple or kind is list:
            # Lists of talks and people are most of what pages hold: look linked
            # objects up in the memo here rather than through another call.
            memo, linked_types, plain = self._objects, _LINKED_TYPES, self._plain
            return (
                kind.__name__,
                *[memo.get(id(item)) or self._linked(item) if type(item) in linked_types else plain(item) for item in value],
            )
        if isinstance(value, Mapping):  # views build mappings in a deterministic order
            return ("map", *((self._plain(k), self._plain(v)) for k, v in value.items()))
        if isinstance(value, set | frozenset):  # iteration order varies between processes
            return ("set", *sorted(self.of(item) for item in value))
        if isinstance(value, str | PurePath | date):  # Markup, paths, subclasses
            return (kind.__name__, str(value))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return (kind.__name__, *(self._plain(getattr(value, name)) for name in self._names(kind)))
        # Better to fail loudly than to miss an input and skip a page that changed.
        raise TypeError(f"cannot fingerprint a {kind.__name__} in a page context")

    def _linked(self, obj: Any) -> bytes:
        key = id(obj)
        digest = self._objects.get(key)
        if digest is None:
            kind = type(obj)
            plain = (kind.__name__, *(self._plain(getattr(obj, name)) for name in self._names(kind)))
            digest = self._objects[key] = hashlib.blake2b(pickle.dumps(plain, protocol=5), digest_size=16).digest()
        return digest

    def _names(self, kind: type) -> tuple[str, ...]:
        names = self._fields.get(kind)
        if names is None:
            # A field marked shown=False (a Markdown page's source path) cannot change the output.
            names = self._fields[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.metadata.get("shown", True))
        return names


#: A template's analysis: the templates it names (None for a computed name),
#: and whether it reads ``today``.
Analysis = tuple[tuple[str | None, ...], bool]


class TemplateDigests:
    """Per template: the digest of its sources and every template it pulls in,
    and whether any of them reads ``today``.

    Analysing a template means parsing it, which costs more than a small
    rebuild's rendering; ``known`` holds the last build's analyses by source
    digest, and ``analyses`` the ones this build used, for the next.
    """

    def __init__(self, env: jinja2.Environment, known: Mapping[str, Analysis] | None = None) -> None:
        self.env = env
        self.known = known or {}
        self.analyses: dict[str, Analysis] = {}
        self._closure: dict[str, tuple[bytes, bool] | None] = {}
        self._members: dict[str, tuple[bytes, ...]] = {}
        self._own: dict[str, tuple[bytes, frozenset[str | None], bool] | None] = {}

    def of(self, name: str) -> tuple[bytes, bool] | None:
        """(digest, reads today), or None when a template cannot be read or
        parsed: the page is then rendered, and fails with file:line."""
        if name not in self._closure:
            self._closure[name] = self._compute(name)
        return self._closure[name]

    def _compute(self, name: str) -> tuple[bytes, bool] | None:
        seen: dict[str, bytes] = {}
        reads_today = False
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            own = self._parse(current)
            if own is None:
                return None
            digest, references, today = own
            seen[current] = digest
            reads_today = reads_today or today
            if None in references:
                return None  # a computed template name: cannot know what it pulls in, so always render
            pending.extend(ref for ref in references if ref is not None)
        hasher = hashlib.blake2b(digest_size=16)
        for template in sorted(seen):
            hasher.update(template.encode() + b"\0" + seen[template])
        self._members[name] = tuple(seen.values())
        return hasher.digest(), reads_today

    def analyses_of(self, names: Iterable[str]) -> dict[str, Analysis]:
        """The analyses of these templates and all they pull in (only those, so
        the record does not depend on what else this build looked at)."""
        found: dict[str, Analysis] = {}
        for name in names:
            if self.of(name) is not None:
                found.update((digest.hex(), self.analyses[digest.hex()]) for digest in self._members[name])
        return dict(sorted(found.items()))

    def _parse(self, name: str) -> tuple[bytes, frozenset[str | None], bool] | None:
        if name not in self._own:
            try:
                source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
                digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                analysis = self.known.get(digest.hex()) or self._analyse(source, name)
            except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
                self._own[name] = None
            else:
                self.analyses[digest.hex()] = analysis
                self._own[name] = (digest, frozenset(analysis[0]), analysis[1])
        return self._own[name]

    def _analyse(self, source: str, name: str) -> Analysis:
        tree = self.env.parse(source, name)
        references = tuple(sorted(meta.find_referenced_templates(tree), key=lambda ref: (ref is None, ref or "")))
        return references, "today" in meta.find_undeclared_variables(tree)


def fragment_templates(theme_chain: Sequence[Path]) -> tuple[str, ...]:
    """The fragment templates the theme chain has: a hole fails the build when
    its template is missing, so their presence is an input of every page."""
    names = {p.name for folder in theme_chain for p in (folder / "templates" / "fragments").glob("*.html")}
    return tuple(sorted(names))


def digest_hex(*parts: bytes) -> str:
    return hashlib.blake2b(b"".join(parts), digest_size=16).hexdigest()
