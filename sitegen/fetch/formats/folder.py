"""The folder form: the API contract's local form, ``<collection>.json`` files, each one whole page
with ``"next": null``, in a folder under the site root (``[source] url = "content/data"``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitegen.bounded import read_file_bounded, shown
from sitegen.errors import Problem, SourceError
from sitegen.fetch.envelope import parse_page
from sitegen.fetch.result import FetchStats, RawArchive
from sitegen.fetch.source import Reading, is_folder, scheme


class Folder:
    """Any URL without a scheme is a folder (a one-letter scheme is a Windows drive)."""

    name = "the folder form"
    forms = ("a folder under the site root holding <collection>.json files, such as content/data",)

    def claims(self, url: str) -> bool:
        return len(scheme(url)) <= 1

    def problems(self, url: str, root: Path, where: str) -> list[Problem]:
        if is_folder(root / url):
            return []
        return [
            Problem(
                where,
                f"url = {shown(url)} is neither an http(s) URL nor a folder under {root}",
                "point it at the API's base URL or at a folder holding <collection>.json files",
            )
        ]

    def local_paths(self, url: str, root: Path) -> tuple[Path, ...]:
        return (root / url,)

    def read(self, url: str, reading: Reading) -> RawArchive:
        return read_folder(reading.root / url, reading.collections, reading.source.max_response_bytes)


FOLDER = Folder()


def read_folder(folder: Path, collections: tuple[str, ...], max_bytes: int) -> RawArchive:
    if not is_folder(folder):
        raise SourceError.at(str(folder), "is not a folder", "point [source] url at a folder holding <collection>.json files")
    read = {name: _read_collection_file(folder / f"{name}.json", max_bytes) for name in collections}
    return RawArchive(read, FetchStats(), str(folder))


def _read_collection_file(path: Path, max_bytes: int) -> tuple[Mapping[str, Any], ...]:
    fix = 'write it as {"data": [...], "next": null}'
    if path.exists() and not path.is_file() and not path.is_dir():  # a device or a pipe: its own fix, not the size limit's
        raise SourceError.at(str(path), "is not a regular file (a device or a pipe)", f"put the collection's file in its place ({fix})")
    try:
        text = read_file_bounded(path, max_bytes, str(path), SourceError, "split the data, or raise [source] max_response_bytes")
    except FileNotFoundError:
        if path.is_symlink():
            raise SourceError.at(
                str(path), "is a link to a file that does not exist", f"point the link at the collection's file ({fix})"
            ) from None
        raise SourceError.at(str(path), "is missing", f"create it ({fix}) or point [source] url at the right folder") from None
    except IsADirectoryError:
        raise SourceError.at(str(path), "is a folder, not a file", f"put the collection's file in its place ({fix})") from None
    except OSError as exc:
        raise SourceError.at(str(path), f"cannot be read: {exc.strerror or exc}", "check its permissions") from None
    page = parse_page(text, str(path), fix)
    if page.next is not None:
        raise SourceError.at(str(path), "has a non-null 'next'; a local file holds the whole collection", 'set "next": null')
    return page.data
