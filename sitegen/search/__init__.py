"""The search stage: the archive's full-text index, as static files in
Pagefind's format, read by Pagefind's own pagefind.js and wasm.

Records are made from the model (``records``), written as Pagefind 1.5.2's
index by sitegen's own writer (``writer``: the same bytes as the binary's
after ``bundle.canonical``, but for smaller index chunks; its bundle is
canonical and deterministic as written);
Pagefind's runtime files come from the binary, run once on one tiny record,
or from the last bundle of the same Pagefind version (``runtime``). Its files
go to the write stage like every other file, under ``pagefind/``.

Incremental: a digest of every record, Pagefind's version and the options is
kept in the build's state. When a rebuild's digest is the same, the index is
not written again and the last build's bundle files are kept as they are.

``start_search`` starts the writer in a process of its own (``job``) and
returns at once, so the build renders while the index is made;
``PendingSearch.result`` joins it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sitegen.search.bundle import content_addressed
from sitegen.search.job import PagefindJob
from sitegen.search.records import SearchRecord, UrlOf, search_records
from sitegen.search.run import pagefind_version
from sitegen.search.runtime import digests, is_runtime

if TYPE_CHECKING:  # the index job (python -m sitegen.search.job) starts without the model
    from sitegen.content import ContentResult
    from sitegen.model import Archive

#: The bundle's folder below the output folder.
BUNDLE_DIR = "pagefind"
#: Bumped when records or the bundle's post-processing change shape.
SEARCH_FORMAT = 4


@dataclass(frozen=True)
class SearchResult:
    #: New bundle files (output path -> bytes); empty when the last bundle is kept.
    files: Mapping[str, bytes]
    #: Output paths of the last build's bundle, kept as they are.
    kept: tuple[str, ...]
    #: What the next build compares with (kept in the build's state).
    state: dict[str, Any]
    #: Whether the index was written (False: the last one was kept).
    ran: bool
    records: int
    #: The index job's own wall seconds (0 when the last index was kept).
    seconds: float = 0.0

    @property
    def paths(self) -> list[str]:
        return sorted([*self.files, *self.kept])

    def hashed(self) -> list[str]:
        """The bundle's content-addressed files (immutable when published)."""
        return [path for path in self.paths if content_addressed(path)]


@dataclass
class PendingSearch:
    """The search stage under way: the last bundle kept, or a Pagefind job running."""

    records: int
    state: dict[str, Any]
    kept: SearchResult | None = None
    job: PagefindJob | None = None
    #: The Pagefind version and language of the bundle's runtime files.
    runtime: str = ""

    def result(self) -> SearchResult:
        if self.kept is not None:
            return self.kept
        assert self.job is not None  # one of the two is always set
        bundle = self.job.result()  # the writer's bundle is canonical as written (tests/test_search_writer.py)
        files = {f"{BUNDLE_DIR}/{path}": data for path, data in sorted(bundle.items())}
        state = {**self.state, "files": tuple(files), "runtime": self.runtime, "runtime_sha256": digests(bundle)}
        return SearchResult(files, (), state, ran=True, records=self.records, seconds=self.job.seconds)

    def cancel(self) -> None:
        """Stop the job if it still runs (a failed build); a no-op once joined."""
        if self.job is not None:
            self.job.cancel()


def start_search(
    archive: Archive,
    content: ContentResult,
    url: UrlOf,
    language: str,
    *,
    previous: Any = None,
    exists: Callable[[str], bool] = lambda path: False,
    output: Path | None = None,
    scratch: Path | None = None,
) -> PendingSearch:
    """Start indexing this archive. ``previous`` is the last build's search state;
    ``exists`` says whether a file of the last build is still in the output
    (``output``, whose bundle's runtime files are reused for the same Pagefind version).
    The job's folder goes in ``scratch`` (the build's staging folder) when given."""
    records = list(search_records(archive, content, url))
    digest = records_digest(records, language)
    if isinstance(previous, dict) and previous.get("digest") == digest:
        kept = previous.get("files")
        if isinstance(kept, tuple) and kept and all(isinstance(p, str) and exists(p) for p in kept):
            return PendingSearch(len(records), dict(previous), kept=SearchResult({}, kept, dict(previous), ran=False, records=len(records)))
    runtime = f"{pagefind_version()}/{language}"
    job = PagefindJob(records, language, _runtime(previous, runtime, exists, output), scratch)
    return PendingSearch(len(records), {"digest": digest}, job=job, runtime=runtime)


def _runtime(previous: Any, runtime: str, exists: Callable[[str], bool], output: Path | None) -> tuple[Path, dict[str, str]] | None:
    """The last bundle's folder and its runtime files with their SHA-256, when made by this
    Pagefind version for this language (``runtime``) and still there."""
    if output is None or not isinstance(previous, dict) or previous.get("runtime") != runtime:
        return None
    files, sums = previous.get("files"), previous.get("runtime_sha256")
    if not isinstance(files, (tuple, list)) or not isinstance(sums, dict):
        return None
    prefix = f"{BUNDLE_DIR}/"
    names = [p[len(prefix) :] for p in files if isinstance(p, str) and p.startswith(prefix) and is_runtime(p[len(prefix) :])]
    if not names or not all(exists(prefix + name) and isinstance(sums.get(name), str) for name in names):
        return None
    return output / BUNDLE_DIR, {name: str(sums[name]) for name in names}


def records_digest(records: list[SearchRecord], language: str) -> str:
    """What the bundle is made from: the records, Pagefind's version, the options and this code's format."""
    digest = hashlib.sha256(orjson.dumps([SEARCH_FORMAT, pagefind_version(), language], option=orjson.OPT_SORT_KEYS))
    for record in records:
        digest.update(orjson.dumps(record.data(), option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()
