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

``start_search`` forks the index job (``job``) and returns at once, so the
build renders while the records are made and the index written and staged;
``PendingSearch.result`` joins it. ``sitegen serve`` asks for the index
``later``: a rebuild after an edit keeps the last index, so the page reaches
the tab without waiting for the job, and the rebuild that follows brings it
up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.forked import Forked, can_fork
from sitegen.search.batches import KeptReads
from sitegen.search.job import BUNDLE_DIR, SEARCH_FORMAT, Inputs, SearchResult, Sink, index_in_child, index_site, last_index
from sitegen.search.records import UrlOf

if TYPE_CHECKING:  # the annotations only
    from sitegen.content import ContentResult
    from sitegen.model import Archive

#: The index job's process name (``ps``, ``top``; bench/search_bench.py watches its memory by it).
JOB_NAME = "sitegen-index"

__all__ = ["BUNDLE_DIR", "KeptReads", "SEARCH_FORMAT", "PendingSearch", "SearchResult", "start_search"]


class PendingSearch:
    """The search stage under way: the index job, forked, or its result when it ran here."""

    def __init__(self, job: Forked[SearchResult] | None = None, done: SearchResult | None = None) -> None:
        self._job, self._done = job, done

    def result(self) -> SearchResult:
        if self._done is None:
            assert self._job is not None  # one of the two is always set
            self._done = self._job.result()
        return self._done

    @property
    def left(self) -> bool:
        """Whether the last index was kept as it is (``start_search``'s ``later``): no job runs."""
        return self._done is not None and self._done.left

    def ready(self, timeout: float) -> bool:
        """Whether ``result`` would return at once, waiting at most ``timeout`` seconds."""
        return self._done is not None or self._job is None or self._job.ready(timeout)

    def cancel(self) -> None:
        """Stop the job if it still runs (a failed build); a no-op once joined."""
        if self._job is not None:
            self._job.cancel()


def start_search(
    archive: Archive,
    content: ContentResult,
    url: UrlOf,
    language: str,
    sink: Sink,
    *,
    previous: Callable[[], Any] = lambda: None,
    exists: Callable[[str], bool] = lambda path: False,
    output: Path | None = None,
    scratch: Path | None = None,
    kept: KeptReads | None = None,
    sources: Mapping[str, str] | None = None,
    later: bool = False,
) -> PendingSearch:
    """Start indexing this archive; its files go to ``sink`` (the build's stager, which a fork may call).
    ``previous`` reads the last build's search state (in the job, when it needs it); ``exists`` says whether a file of the last build is
    still in the output (``output``, whose bundle's runtime files are reused for the same Pagefind
    version). Pagefind's temporary folder goes in ``scratch`` (the build's staging folder) when given,
    and the batch reads kept between builds in ``kept`` (made anew, not used, unless ``kept.trusted``);
    ``sources``, the digest of each model object's raw data, lets a rebuild make only the records of
    objects that changed (``recordmemo``).
    With ``later``, the last build's index is kept as it is, even if the records changed (the next
    build without ``later`` brings it up to date), unless there is none to keep."""
    if later:
        left = last_index(previous(), exists, 0, left=True)
        if left is not None:
            return PendingSearch(done=left)
    inputs = Inputs(archive, content, url, language, previous, exists, output, scratch, kept, sources)
    if not can_fork():
        return PendingSearch(done=index_site(inputs, sink))
    return PendingSearch(Forked(lambda: index_in_child(inputs, sink), "index job", name=JOB_NAME))
