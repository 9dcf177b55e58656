"""Finding the schedule files ``[source] url = "frab:…"`` (or ``"schedule2:…"``) names:
files as given, folders as their ``*.json`` files; what is not there stops the build, naming it."""

from __future__ import annotations

from pathlib import Path

from sitegen.errors import SourceError


def _files_fix(prefix: str) -> str:
    return f'name schedule.json files or folders of them in [source] url = "{prefix}:…", relative to the site root and separated by commas'


def schedule_files(root: Path, location: str, prefix: str = "frab") -> list[Path]:
    """The files ``PREFIX:LOCATION`` names (``prefix``: the format's, for messages): each
    file as given, each folder as its ``*.json`` files in name order. A file named twice is read once."""
    names = [name.strip() for name in location.split(",") if name.strip()]
    if not names:
        raise SourceError.at(f"{prefix}:{location}", "names no schedule file or folder", _files_fix(prefix))
    files: dict[Path, None] = {}
    for name in names:
        for path in _files_at(root / name, prefix):
            files.setdefault(path)
    return list(files)


def _files_at(path: Path, prefix: str) -> list[Path]:
    if path.is_dir():
        found = sorted(child for child in path.glob("*.json") if child.is_file())
        if not found:
            raise SourceError.at(
                str(path),
                "is a folder without any *.json schedule file",
                "put schedule.json files in it, or name the files themselves in [source] url",
            )
        return found
    if path.is_file():
        return [path]
    if path.exists():
        raise SourceError.at(str(path), "is not a regular file (a device, pipe or socket)", _files_fix(prefix))
    raise SourceError.at(str(path), "does not exist", _files_fix(prefix))
