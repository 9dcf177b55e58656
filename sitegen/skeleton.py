"""``sitegen init``: a new site that builds at once.

The skeleton is a folder of plain files shipped inside the package
(``sitegen/_skeleton/``), copied as it is. Keeping it as files rather than
strings in code means it is itself a site: the tests build it, and an editor
can read and change it like any other site.

It holds everything ``sitegen build`` needs to succeed offline on the first
try: a ``sitegen.toml``, sample data in the API's local folder form (so no
network and no token), one Markdown page, and a theme that extends the
built-in ``default`` and overrides one template, to show how themes work.
The default theme itself is not copied: it is found among the built-in
themes (``config.BUILTIN_THEME_DIRS``), so a site keeps getting its fixes.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from sitegen.errors import ConfigError, OutputError

#: The files copied into a new site, inside the installed package.
SKELETON_DIR = Path(__file__).parent / "_skeleton"

#: Files stored under another name: a ``.gitignore`` inside the package
#: would be read as ignore rules by tools that package or check it.
STORED_AS = {"gitignore": ".gitignore"}

#: What ``init`` tells the user it made: a path in the skeleton, and what it is for.
CONTENTS: tuple[tuple[str, str], ...] = (
    ("sitegen.toml", "the configuration"),
    ("content/pages/about.md", "a Markdown page, served at /about/"),
    ("content/data/", "sample event data, in the API's local folder form"),
    ("themes/mine/", "a theme that extends the default one and overrides page.html"),
    (".gitignore", "keeps build/ and sitegen's caches out of git"),
)


def create_site(target: Path) -> tuple[Path, ...]:
    """Copy the skeleton into ``target`` (created if missing) and return the files written.

    ``target`` must be new or empty: a site's files mixed into an existing
    folder would be hard to tell apart and could replace files with the same
    names, so there is no way to force it. Files are opened in exclusive mode,
    so even a file that appears while copying is never overwritten.
    """
    written: list[Path] = []
    try:
        _check_empty(target)
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(SKELETON_DIR.rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts:
                continue
            relative = source.relative_to(SKELETON_DIR)
            destination = target / relative.parent / STORED_AS.get(relative.name, relative.name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with destination.open("xb") as out:
                out.write(source.read_bytes())
            written.append(destination)
    except OSError as exc:
        # Only a folder that holds nothing but this copy is safe to tell people to remove.
        fix = f"remove {target}, then run sitegen init again" if written else "check its permissions, or choose another folder"
        raise OutputError.at(str(exc.filename or target), f"cannot be used: {exc.strerror or exc}", fix) from exc
    return tuple(written)


def _check_empty(target: Path) -> None:
    fix = f"choose an empty or new folder, such as: sitegen init {_free_name(target)}"
    if target.exists() and not target.is_dir():
        raise ConfigError.at(_name(target), "is a file, not a folder", fix)
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError.at(_name(target), "is not empty; sitegen init only creates a site in an empty or new folder", fix)


def _free_name(target: Path) -> str:
    """A folder beside ``target`` that does not exist yet (``my-site-2``…), quoted to paste."""
    base = target if target.name else target.resolve()
    for number in range(2, 1000):
        candidate = base.with_name(f"{base.name}-{number}")
        if not candidate.exists():
            return shlex.quote(str(candidate))
    return "NEW-FOLDER"


def next_steps(target: Path, command: str = "sitegen") -> str:
    """What was made and the commands to run next, for people to read;
    ``command`` is how this sitegen is run (a path when it is not on PATH)."""
    width = max(len(path) for path, _ in CONTENTS)
    lines = [f"Created a new site in {_name(target)}:"]
    lines += [f"  {path:<{width}}  {what}" for path, what in CONTENTS]
    # No "cd" when the site is the current folder; quoted so any name can be pasted.
    enter = "" if _is_cwd(target) else f"cd {shlex.quote(str(target))} && "
    lines += ["Next:", f"  {enter}{command} build", f"  {command} serve"]
    return "\n".join(lines)


def _is_cwd(target: Path) -> bool:
    return target.resolve() == Path.cwd().resolve()


def _name(target: Path) -> str:
    """The folder as the user typed it, except that "." is spelled out: "./ is not empty" says little."""
    return str(Path.cwd()) if _is_cwd(target) else str(target)
