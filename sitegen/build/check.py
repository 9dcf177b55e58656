"""``sitegen check``'s extra stages, run over the staged site instead of writing it.

A build leaves these to check: that the search index names only pages of the
build, that the last build's immutable files (hashed assets, the search
bundle) hold what their names say, and that every internal link of every page
resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from sitegen.config import Config
from sitegen.errors import OutputError, Problem, SearchError, TemplateError, clip
from sitegen.render.links import broken_links
from sitegen.render.routes import Routes, output_path
from sitegen.search import BUNDLE_DIR, SearchResult
from sitegen.search.bundle import listed_pages
from sitegen.write import STATIC_DIR
from sitegen.write.built import damaged_files

#: Opens a named, timed stage of the build; the stage sets ``["detail"]``.
Stage = Callable[[str], AbstractContextManager[dict[str, str]]]
#: Where a file of the build was staged (``write.Stager.staged``).
Staged = Callable[[str], Path]


def check_staged(config: Config, staged: Staged, search: SearchResult, files: list[str], stage: Stage) -> None:
    """`sitegen check`'s extra stages, over the staged site: the index names only
    pages of the build, the last build in ``output_dir`` (if any) is whole, and every
    internal link resolves (a build leaves these to check). ``staged`` says where
    each file of the build was staged (``Stager.staged``)."""
    base_path = Routes(config.site.base_url).base_path
    with stage("search check") as out:
        out["detail"] = _check_search(staged, search, dict.fromkeys(files), base_path)
    if config.output_dir.is_dir():
        with stage("built files") as out:
            out["detail"] = _check_built(config.output_dir)
    with stage("links") as out:
        elsewhere = [config.fragments.url_prefix, config.fragments.signin_url, config.fragments.signout_url]
        pages = _FilesOnDisk(staged, dict.fromkeys(files))
        broken = broken_links(pages, base_path, [p for p in elsewhere if p.startswith("/")])
        if broken:
            raise TemplateError(f"{len(broken)} internal link(s) lead to no page of the site:", broken)
        out["detail"] = "every internal link resolves"


def _check_search(staged: Staged, search: SearchResult, files: Mapping[str, None], base_path: str) -> str:
    """That the index exists and every page it lists is a file of the build."""
    prefix = f"{BUNDLE_DIR}/"
    bundle = {path[len(prefix) :]: staged(path).read_bytes() for path in search.paths}
    if not bundle:
        raise SearchError.at(BUNDLE_DIR, "holds no search index", "run sitegen build; report it if the index stays missing")
    declared, urls = listed_pages(bundle)
    missing = [url for url in urls if not url.startswith(base_path) or output_path(url[len(base_path) :]) not in files]
    problems = [Problem(clip(url), "is listed by the search index but is no page of the build", "build again") for url in missing[:50]]
    if declared != len(urls) or declared != search.records:
        problems.append(
            Problem(BUNDLE_DIR, f"lists {declared} pages and has {len(urls)} fragments for {search.records} records", "build again")
        )
    if problems:
        raise SearchError(f"The search index does not match the build ({len(missing)} page(s) missing):", problems)
    return f"{declared} pages listed, every one in the build"


def _check_built(output: Path) -> str:
    """That the last build's immutable files are whole (``write.built.damaged_files``,
    the check ``publish`` runs before any upload)."""
    problems = damaged_files(output)
    if problems:
        raise OutputError(f"The last build in {clip(str(output))} is damaged:", problems)
    return f"{output.name}/{STATIC_DIR} and {output.name}/{BUNDLE_DIR} whole, every file as its name says"


class _FilesOnDisk(Mapping[str, bytes]):
    """The rendered files, read from where they were staged when the link check asks."""

    def __init__(self, staged: Staged, paths: Collection[str]) -> None:
        self.staged, self.paths = staged, paths

    def __getitem__(self, path: str) -> bytes:
        if path not in self.paths:
            raise KeyError(path)
        return self.staged(path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)
