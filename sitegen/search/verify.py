"""The built index on disk, checked for ``sitegen check``: the entry parses, the
meta and sort files it names exist, the meta decodes, every index chunk, filter
and fragment the meta names exists, and every content-addressed file holds what
its name says (``bundle.misnamed``; a fragment's name is checked with its
group's). Every file is read once; problems are bounded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, shown
from sitegen.errors import Problem, SearchError, clip
from sitegen.search import cbor
from sitegen.search.bundle import ENTRY, content_addressed, decode_file, misnamed

FIX = "run sitegen build --full"
#: Problems reported at most (the message is one screen).
MAX_PROBLEMS = 50
#: An entry is a few hundred bytes; anything far larger is not one.
MAX_ENTRY = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
#: The runtime files every Pagefind 1.5 bundle has, beside what the entry names.
RUNTIME_JS, RUNTIME_WORKER = "pagefind.js", "pagefind-worker.js"


def check_bundle(folder: Path, label: str = "pagefind") -> list[Problem]:
    """The problems of the bundle in ``folder`` (named ``label/...`` in messages)."""
    problems: list[Problem] = []

    def problem(path: str, what: str) -> None:
        problems.append(Problem(clip(f"{label}/{path}"), what, FIX))

    named = _named_by_entry(folder, problem)
    for path in sorted(named):
        if not (folder / path).is_file():
            problem(path, "is named by the index but missing")
    files = [file.relative_to(folder).as_posix() for file in sorted(folder.rglob("*")) if file.is_file()] if folder.is_dir() else []
    for path in misnamed([path for path in files if content_addressed(path)], lambda path: (folder / path).read_bytes()):
        if len(problems) > MAX_PROBLEMS:
            break
        problem(path, "does not hold what its name says (damaged or changed by hand)")
    return problems[:MAX_PROBLEMS]


def _named_by_entry(folder: Path, problem: Any) -> set[str]:
    """Every file the entry and its metas name (metas read and decoded here)."""
    entry = folder / ENTRY
    try:
        if entry.stat().st_size > MAX_ENTRY:
            raise ValueError(f"is larger than {MAX_ENTRY} bytes")
        languages = loads_json(entry.read_bytes(), ENTRY, SearchError, FIX)["languages"]
        metas = {str(lang): f"pagefind.{_name(info['hash'])}.pf_meta" for lang, info in languages.items()}
        sorts = {f"sort/{_name(name)}.pf_sort" for info in languages.values() for name in (info.get("sorts") or {}).values()}
        # Pagefind's runtime: the script, its worker, and the wasm of each language that has one
        runtime = {RUNTIME_JS, RUNTIME_WORKER} | {f"wasm.{_name(info['wasm'])}.pagefind" for info in languages.values() if info.get("wasm")}
    except FileNotFoundError:
        problem(ENTRY, "is missing: the site has no search index")
        return set()
    except SearchError as exc:
        problem(ENTRY, exc.problems[0].what if exc.problems else "cannot be read")
        return set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problem(ENTRY, f"cannot be read: {shown(str(exc))}")
        return set()
    named: set[str] = sorts | runtime
    for meta_path in metas.values():
        if not (folder / meta_path).is_file():
            continue  # reported as missing by the caller
        named.add(meta_path)
        try:
            meta = cbor.decode(decode_file(meta_path, (folder / meta_path).read_bytes()))
            named.update(_meta_files(meta))
        except (SearchError, cbor.CborError, ValueError, TypeError, IndexError) as exc:
            problem(meta_path, f"cannot be read: {shown(str(exc))}")
    return named | set(metas.values())


def _meta_files(meta: Any) -> set[str]:
    """The fragments, index chunks and filters a meta names."""
    if not isinstance(meta, list) or len(meta) < 4:
        raise ValueError("is not a Pagefind meta")
    fragments = {f"fragment/{_name(page[0])}.pf_fragment" for page in meta[1]}
    chunks = {f"index/{_name(chunk[2])}.pf_index" for chunk in meta[2]}
    filters = {f"filter/{_name(pair[1])}.pf_filter" for pair in meta[3]}
    return fragments | chunks | filters


def _name(value: Any) -> str:
    """A file name the entry or a meta gives: letters, digits, '_' and '-' only (never a path)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"names the file {shown(value, 60)}, which no build writes")
    return value
