"""The built index on disk, checked for ``sitegen check`` and ``publish``: the
entry is a Pagefind entry (languages, each with its meta's hash, its page count
and its sort files), the meta and sort files it names exist, the meta decodes and
lists as many pages as the entry says, every index chunk, filter and fragment
the meta names exists, every content-addressed file holds what its name says
(``bundle.misnamed``; a fragment's name is checked with its group's), and, when
the caller gives the SHA-256 the build recorded, so does each of Pagefind's
runtime files (one without a record is refused). One problem per file; problems are bounded.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sitegen.bounded import loads_json, read_file_bounded, shown
from sitegen.errors import Problem, SearchError, clip
from sitegen.search import cbor
from sitegen.search.bundle import ENTRY, content_addressed, decode_file, misnamed
from sitegen.search.runtime import is_runtime
from sitegen.search.words import WORD_SYMBOLS
from sitegen.search.writer import VERSION

FIX = "run sitegen build --full"
#: Problems reported at most (the message is one screen).
MAX_PROBLEMS = 50
#: An entry is a few hundred bytes; anything far larger is not one.
MAX_ENTRY = 1024 * 1024
#: A sort file: a page number per page (5 bytes each at most), gzipped; far larger is not one.
MAX_SORT = 64 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
#: The runtime files every Pagefind 1.5 bundle has, beside what the entry names.
RUNTIME_JS, RUNTIME_WORKER = "pagefind.js", "pagefind-worker.js"
DAMAGED = "does not hold what its name says (damaged or changed by hand)"

#: What the entry gives of each language (``writer``): its meta's hash, page count and sort files.
_LANGUAGE: dict[str, type] = {"hash": str, "page_count": int, "sorts": dict}
#: Reports a problem of one bundle file (its path in the bundle, what is wrong).
Report = Callable[[str, str], None]


def check_bundle(folder: Path, label: str = "pagefind", runtime: Mapping[str, str] | None = None) -> list[Problem]:
    """The problems of the bundle in ``folder`` (named ``label/...`` in messages), one per
    file. ``runtime``: the SHA-256 the build recorded of each of Pagefind's runtime files (by
    name); None skips the runtime files (the bundle a build is checking before it records them)."""
    found: dict[str, str] = {}

    def problem(path: str, what: str) -> None:
        found.setdefault(path, what)  # the first problem of a file is its cause

    named = _named_by_entry(folder, problem)
    absent = sorted(path for path in named if not (folder / path).is_file())
    for path in absent:
        there = os.path.lexists(folder / path)
        problem(path, "is not a regular file (a link to a device, a pipe or a folder)" if there else "is named by the index but missing")
    files = [file.relative_to(folder).as_posix() for file in sorted(folder.rglob("*")) if file.is_file()] if folder.is_dir() else []
    hashed = [path for path in files if content_addressed(path)]
    for path in misnamed(hashed, lambda path: (folder / path).read_bytes(), absent=absent):
        problem(path, DAMAGED)
    if runtime is not None:
        _check_runtime(folder, [path for path in files if is_runtime(path)], runtime, problem)
    return [Problem(clip(f"{label}/{path}"), what, FIX) for path, what in list(found.items())[:MAX_PROBLEMS]]


def _check_runtime(folder: Path, paths: list[str], runtime: Mapping[str, str], problem: Report) -> None:
    """Each of Pagefind's runtime files in the bundle (``paths``: pagefind.js, its worker,
    the wasm) must be the one the build wrote: the SHA-256 it recorded. One without a
    record cannot be told from a changed one, and is refused like one."""
    for path in paths:
        digest = runtime.get(path)
        if digest is None:
            problem(path, "has no SHA-256 in the build's record (.sitegen/search.json), so it cannot be checked")
        elif hashlib.sha256((folder / path).read_bytes()).hexdigest() != digest:
            problem(path, "is not the Pagefind runtime file the build wrote (damaged or changed by hand)")


def _named_by_entry(folder: Path, problem: Report) -> set[str]:
    """Every file the entry and its metas name (metas read and decoded here)."""
    try:
        languages = _languages(folder / ENTRY)
        metas = {f"pagefind.{_name(info['hash'])}.pf_meta": info["page_count"] for info in languages.values()}
        sorts = {f"sort/{_name(name)}.pf_sort" for info in languages.values() for name in info["sorts"].values()}
        # Pagefind's runtime: the script, its worker, and the wasm of each language that has one
        runtime = {RUNTIME_JS, RUNTIME_WORKER} | {f"wasm.{_name(info['wasm'])}.pagefind" for info in languages.values() if info.get("wasm")}
    except FileNotFoundError:
        problem(ENTRY, "is missing: the site has no search index")
        return set()
    except SearchError as exc:
        problem(ENTRY, exc.problems[0].what if exc.problems else "cannot be read")
        return set()
    except (OSError, ValueError) as exc:
        problem(ENTRY, f"is not a Pagefind entry: {exc}" if isinstance(exc, ValueError) else f"cannot be read: {shown(str(exc))}")
        return set()
    for info in languages.values():
        _check_sorts(folder, info["sorts"], info["page_count"], problem)
    named: set[str] = sorts | runtime | set(metas)
    for meta_path, page_count in metas.items():
        if (folder / meta_path).is_file():  # else reported as missing by the caller
            named |= _meta_files(folder, meta_path, page_count, problem)
    return named


def _check_sorts(folder: Path, sorts: dict[str, Any], page_count: int, problem: Report) -> None:
    """Each sort file the entry names is ``[key, pages]``: its own key, and page numbers of
    the index, each once (their order is the build's; only their range can be checked)."""
    for key, name in sorts.items():
        path = f"sort/{_name(name)}.pf_sort"
        if not (folder / path).is_file():
            continue  # reported as missing, or not a regular file, by the caller
        try:
            data = cbor.decode(decode_file(path, read_file_bounded(folder / path, MAX_SORT, path, SearchError, FIX)))
        except (SearchError, cbor.CborError, ValueError, TypeError, OSError):
            continue  # not what its name says: the content-addressed check reports it
        pages = data[1] if isinstance(data, list) and len(data) == 2 and data[0] == key and isinstance(data[1], list) else None
        if pages is None or not all(type(n) is int and 0 <= n < page_count for n in pages) or len(set(pages)) != len(pages):
            problem(path, f"is not the {shown(key, 40)} order of the index's {page_count} pages (each page once)")


def _languages(entry: Path) -> dict[str, dict[str, Any]]:
    """The entry's languages, each with its meta's hash, its page count and its sort files
    (sitegen's writer always writes them: without ``sorts``, "newest first" finds nothing);
    a ValueError says what is not there."""
    data = loads_json(read_file_bounded(entry, MAX_ENTRY, ENTRY, SearchError, FIX), ENTRY, SearchError, FIX)
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, dict) or not languages:
        raise ValueError("it names no language")
    if data.get("version") != VERSION or data.get("include_characters") != list(WORD_SYMBOLS):
        raise ValueError(f"its version or word characters are not those of the Pagefind {VERSION} runtime the build wrote")
    for language, info in languages.items():
        if not isinstance(info, dict) or not all(isinstance(info.get(key), kind) for key, kind in _LANGUAGE.items()):
            raise ValueError(f"language {shown(language, 20)} lacks its meta's hash, its page count or its sort files")
    return languages


def _meta_files(folder: Path, meta_path: str, page_count: int, problem: Report) -> set[str]:
    """The fragments, index chunks and filters a meta names (none if it cannot be read)."""
    try:
        meta = cbor.decode(decode_file(meta_path, (folder / meta_path).read_bytes()))
        if not isinstance(meta, list) or len(meta) < 4:
            raise ValueError("is not a Pagefind meta")
        fragments = {f"fragment/{_name(page[0])}.pf_fragment" for page in meta[1]}
        chunks = {f"index/{_name(chunk[2])}.pf_index" for chunk in meta[2]}
        filters = {f"filter/{_name(pair[1])}.pf_filter" for pair in meta[3]}
    except SearchError:  # not gzip, or not Pagefind's: the bytes are not what the build wrote
        problem(meta_path, DAMAGED)
        return set()
    except (cbor.CborError, ValueError, TypeError, IndexError) as exc:
        problem(meta_path, f"cannot be read: {shown(str(exc))}")
        return set()
    if len(meta[1]) != page_count:
        problem(ENTRY, f"says {meta_path} lists {page_count} pages; it lists {len(meta[1])}")
    return fragments | chunks | filters


def _name(value: Any) -> str:
    """A file name the entry or a meta gives: letters, digits, '_' and '-' only (never a path)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"names the file {shown(value, 60)}, which no build writes")
    return value
