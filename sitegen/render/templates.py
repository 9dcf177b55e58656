"""The Jinja2 environment for a theme chain, its filters, and template errors
that name ``file:line``.

Dates and times are formatted here by hand, in English, so output does not
depend on the machine's locale.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any

import jinja2
import markupsafe
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context, Macro
from markupsafe import Markup

from sitegen.errors import SitegenError, TemplateError
from sitegen.render.holes import HoleExtension

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def make_environment(
    theme_chain: Sequence[Path],
    globals_: Mapping[str, Any],
    hole_prefix: str = "/_frag/",
    bytecode_cache: jinja2.BytecodeCache | None = None,
) -> jinja2.Environment:
    """An environment that finds each template in the most specific theme that has it.

    Pages and the fragment service both use it, so a fragment is rendered with
    the same filters and theme as the page around it.
    """
    env = jinja2.Environment(
        extensions=[HoleExtension, OnceExtension],
        loader=jinja2.FileSystemLoader([str(folder / "templates") for folder in theme_chain]),
        autoescape=True,  # every template: API text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=bytecode_cache,
    )
    env.template_class = OutputTemplate
    env.context_class = DirectCallContext
    env.filters.update(
        long_date=long_date,
        date_range=date_range,
        day_heading=day_heading,
        hm=hm,
        isoformat=lambda value: value.isoformat(),
    )
    env.globals.update(globals_)
    env.hole_prefix = hole_prefix  # type: ignore[attr-defined]
    return env


#: MarkupSafe's own escaping of a plain ``str``, without the ``Markup`` object
#: ``markupsafe.escape`` wraps it in (whose ``__new__`` is Python code, run
#: for every value a page prints). Private, present since MarkupSafe 3.0;
#: the public function otherwise.
_ESCAPE_STR: Callable[[str], str] = getattr(markupsafe, "_escape_inner", markupsafe.escape)


def output_escape(value: Any) -> Any:
    """Autoescape for what ``{{ … }}`` prints (``OutputTemplate``)."""
    return _ESCAPE_STR(value) if type(value) is str else markupsafe.escape(value)


class OutputTemplate(jinja2.Template):
    """A template whose autoescape returns a plain ``str`` for a plain ``str``.

    In compiled templates, ``escape`` is only called on what a ``{{ … }}``
    prints, and that is only yielded or joined into a buffer, which Jinja
    wraps as ``Markup`` itself where it must (macro, caller and block-set
    output); so the bytes are the same, without a ``Markup`` per value.
    tests/test_render.py pins both halves: that compiled code still takes
    ``escape`` from the module's namespace, and the output is unchanged.
    """

    @classmethod
    def _from_namespace(
        cls, environment: jinja2.Environment, namespace: MutableMapping[str, Any], globals: MutableMapping[str, Any]
    ) -> jinja2.Template:
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = output_escape
        return super()._from_namespace(environment, namespace, globals)


#: Functions and bound methods: Jinja passes them nothing unless marked (``jinja_pass_arg``).
_PLAIN_CALLABLES = (FunctionType, MethodType)


class DirectCallContext(Context):
    """``context.call`` (every call a template makes: ``url()``, ``static()``,
    macros) straight to a plain function or a macro: neither takes the
    context, so Jinja's checks for ``pass_context`` and friends (two lookups
    per call) are skipped. Anything else goes through Jinja's own ``call``."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's own signature
        kind = type(__obj)
        if kind is Macro or (kind in _PLAIN_CALLABLES and not hasattr(__obj, "jinja_pass_arg")):
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)


class OnceExtension(Extension):
    """``{% once session.id %}…{% endonce %}``: render the body once per build
    for each key, and reuse it wherever the same spot asks again.

    For markup that depends only on its key and build-wide globals, repeated
    across many pages: a talk's entry appears in the lists of each of its
    topics and speakers. The key is taken together with the tag's own place
    (template, line and a serial number), so two spots never share an entry.
    """

    tags = {"once"}

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.extend(once_cache={})
        self._spots = itertools.count()

    def parse(self, parser: Parser) -> list[nodes.Node]:
        lineno = next(parser.stream).lineno
        number = next(self._spots)
        keys: list[nodes.Expr] = [nodes.Const(f"{parser.name}:{lineno}:{number}"), parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            keys.append(parser.parse_expression())
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        # {% set _once_N = kept(key) %}{% if _once_N is none %}{% call once(key) %}body{% endcall %}{% else %}{{ _once_N }}{% endif %}:
        # a hit (most) costs one lookup, not a caller macro made and called ("_" names are not exported).
        name = f"_once_{number}"
        key = nodes.Tuple(keys, "load")
        kept = nodes.Assign(nodes.Name(name, "store"), self.call_method("_kept", [key]))
        make = nodes.CallBlock(self.call_method("_once", [key]), [], [], body)
        missing = nodes.Test(nodes.Name(name, "load"), "none", [], [], None, None)
        return [kept.set_lineno(lineno), nodes.If(missing, [make], [], [nodes.Output([nodes.Name(name, "load")])]).set_lineno(lineno)]

    def _kept(self, key: tuple[Any, ...]) -> Markup | None:
        found = self.environment.once_cache.get(key)  # type: ignore[attr-defined]
        return None if found is None else Markup(found)

    def _once(self, key: tuple[Any, ...], caller: Any) -> str:
        cache = self.environment.once_cache  # type: ignore[attr-defined]
        found = cache.get(key)
        if found is None:
            found = cache[key] = str(caller())
        return str(found)


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template, turning any failure into an error that names file:line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
        raise TemplateError.at(where, f"template syntax error: {exc.message}", "fix the template syntax") from exc
    except jinja2.TemplateNotFound as exc:
        where = template_location(exc) or name
        raise TemplateError.at(
            where, f"template {exc.name!r} not found in the theme", "add it to the theme's templates/ folder or fix the name"
        ) from exc
    except SitegenError as exc:
        # e.g. static() naming an unknown asset: say which template asked.
        where = template_location(exc) or name
        raise type(exc)(f"{where}: rendering {name} failed", exc.problems) from exc
    except Exception as exc:  # noqa: BLE001 - any template bug must name its line
        where = template_location(exc) or name
        raise TemplateError.at(where, f"{type(exc).__name__}: {exc}", "fix the template expression at that line") from exc


def template_location(exc: BaseException) -> str | None:
    """``file:line`` of the innermost template frame in the traceback, if any.

    Jinja rewrites tracebacks so template frames carry the template's file name
    and line number; we pick the last one, which is where the failure happened.
    """
    location = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt", ".j2")):
            location = f"{frame.filename}:{frame.lineno}"
    return location


def long_date(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def day_heading(value: date) -> str:
    return f"{WEEKDAYS[value.weekday()]} {long_date(value)}"


def date_range(start: date, end: date) -> str:
    """``12–13 September 2024``, ``30 September – 2 October 2024``, or one day."""
    if start == end:
        return long_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {MONTHS[end.month - 1]} {end.year}"
    if start.year == end.year:
        return f"{start.day} {MONTHS[start.month - 1]} – {long_date(end)}"
    return f"{long_date(start)} – {long_date(end)}"


def hm(value: datetime) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"
