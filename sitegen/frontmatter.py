"""Front matter of a Markdown page (TOML between +++ or YAML between ---), parsed
within bounds: a size cap, a nesting cap, no YAML anchors or aliases, no key twice.
Every failure is one ContentError naming the file, with line numbers of the file."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

from sitegen.bounded import MAX_NUMBER_DIGITS, shown
from sitegen.errors import ContentError, clip

MAX_FRONT_MATTER = 64 * 1024
MAX_FRONT_MATTER_DEPTH = 16


def parse_front_matter(source: Path, raw: str, kind: str) -> Any:
    fix = "fix its syntax"
    if len(raw) > MAX_FRONT_MATTER:
        raise ContentError.at(
            str(source),
            f"front matter is {len(raw):,} characters long, more than {MAX_FRONT_MATTER:,}",
            "keep only the page's keys in front matter and put the rest in the body",
        )
    try:
        return (tomllib.loads if kind == "toml" else _load_yaml)(raw) or {}
    except FrontMatterRefused as exc:
        raise ContentError.at(str(source), f"front matter {_in_file(str(exc))}", exc.fix) from None
    except RecursionError:  # tomllib recurses into nested arrays
        raise ContentError.at(str(source), "front matter is nested too deeply", _FLATTEN) from None
    except ValueError as exc:  # a syntax error, or a date or an integer Python cannot hold
        if "int_max_str_digits" in str(exc):  # Python's advice is not for our users
            raise ContentError.at(str(source), f"front matter holds a number of more than {MAX_NUMBER_DIGITS:,} digits", fix) from None
        what = _in_file(clip(str(exc), 200))
        raise ContentError.at(str(source), f"front matter is not valid {kind.upper()}: {what}", fix) from None


_FLATTEN = "keep front matter to the page's few keys, with plain values"


def _in_file(message: str) -> str:
    """A parser's line numbers (counted inside the front matter) as lines of the file,
    whose first line is the opening fence."""
    return re.sub(r"\bline (\d+)", lambda found: f"line {int(found.group(1)) + 1}", message)


class FrontMatterRefused(Exception):
    """YAML front matter that is valid YAML but not accepted: aliases, deep nesting, a key twice."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def _load_yaml(raw: str) -> Any:
    """YAML with the safe loader, refusing anchors and aliases (an alias bomb
    expands a few lines into gigabytes) and nesting past MAX_FRONT_MATTER_DEPTH
    (PyYAML's composer recurses), both before anything is built."""
    import yaml

    loader = _strict_yaml_loader()(raw)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    finally:
        loader.dispose()


@functools.cache  # one class per process; PyYAML is imported only for YAML front matter
def _strict_yaml_loader() -> type[Any]:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise FrontMatterRefused(
                    f"uses a YAML anchor or alias at line {event.start_mark.line + 1}, which is not allowed",
                    "write plain keys and values, without & and *",
                )
            if self.depth >= MAX_FRONT_MATTER_DEPTH:
                raise FrontMatterRefused(f"is nested more than {MAX_FRONT_MATTER_DEPTH} levels deep", _FLATTEN)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
                line = key_node.start_mark.line + 1
                if key is not None and key in seen:
                    raise FrontMatterRefused(
                        f"has the key {shown(key_node.value)} twice, at line {seen[key]} and line {line}", "keep one of them"
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return StrictLoader
