"""Themes: which names are folder names, and the chain of folders a theme
name stands for (the site's own, the built-in one, and what ``extends`` adds)."""

from __future__ import annotations

import re
from pathlib import Path

from sitegen.bounded import shown
from sitegen.config.files import THEME_FILE, read_toml
from sitegen.errors import ConfigError

_SITEGEN = Path(__file__).parent.parent
#: Themes shipped with sitegen: inside the installed wheel, or beside the package in a checkout.
BUILTIN_THEME_DIRS = (_SITEGEN / "_themes", _SITEGEN.parent / "themes")

#: A theme is a plain folder name: no path separators, no ``..``, no control characters.
_THEME_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+ -]{0,99}")


def theme_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a theme folder, or None when it can."""
    if _THEME_NAME.fullmatch(name) and ".." not in name:
        return None
    return f"theme = {shown(name)} is not a plain folder name (letters, digits, '_', '-', '.'; no '/' or '..')"


def resolve_theme_chain(root: Path, name: str) -> tuple[Path, ...]:
    """Folders for theme ``name``: the site's own ``themes/<name>`` overrides the
    built-in one of that name, and a ``theme.toml`` with ``extends = "<parent>"``
    appends the parent's chain. Raises ConfigError for unknown themes and cycles."""
    chain: list[Path] = []
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            raise ConfigError.at(
                f"theme {current!r}", f"extends itself through {' -> '.join([*seen, current])}", "break the cycle in theme.toml"
            )
        seen.append(current)
        if theme_name_problem(current):
            raise ConfigError.at(f"theme {shown(current)}", "is not a plain folder name", "name a folder under themes/")
        candidates = [root / "themes" / current, *(d / current for d in BUILTIN_THEME_DIRS)]
        found = [c.resolve() for c in candidates if c.is_dir()]
        if not found:
            raise ConfigError.at(
                f"theme {current!r}",
                f"no folder themes/{current} in {root} or among the built-in themes",
                "create it or set [build] theme to an existing theme such as 'default'",
            )
        for folder in found:
            if folder not in chain:
                chain.append(folder)
        current = _theme_parent(found[0])
    return tuple(chain)


def _theme_parent(folder: Path) -> str | None:
    meta_path = folder / THEME_FILE
    if not meta_path.exists():
        return None
    meta = read_toml(meta_path)
    unknown = sorted(set(meta) - {"extends", "name", "description"})
    if unknown:
        raise ConfigError.at(str(meta_path), f"unknown key(s) {', '.join(unknown)}", "known keys: extends, name, description")
    parent = meta.get("extends")
    if parent is not None and not isinstance(parent, str):
        raise ConfigError.at(str(meta_path), "extends must be a theme name", 'write extends = "default"')
    return parent
