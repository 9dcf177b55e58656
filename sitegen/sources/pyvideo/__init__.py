"""A checkout of pyvideo/data (github.com/pyvideo/data, CC0: the largest open
archive of conference talks), converted to the data contract's collections.

The layout is ``<category>/category.json`` (``title``, and sometimes
``description``, ``url``, ``start_date``, ``end_date``) plus
``<category>/videos/*.json``, one talk each. What becomes what:

- a category becomes an event (``events``): one, or one per recorded year when
  neither its folder nor its title names a year (meetups); its days span its
  talks' days; all-day, in UTC, as pyvideo records no times;
- its title without the year names its series (``series``), shared by every
  category with that name ("PyCon US 2018" and "PyCon US 2019");
- a video becomes a session: title; ``summary``, ``description`` and
  ``abstract`` as the Markdown abstract; ``recorded`` as its ``date`` (the
  contract's date-only session: a time some files add is ignored, as it has no
  offset); slug from its ``slug``, else its file name;
- speakers become people, one per name compared without case, with ids from
  the name (names in any script stay distinct); tags become topics, likewise;
- ``videos`` become video media, ``related_urls`` media of the kind
  ``sitegen.contract.media_kind`` gives; links the contract
  refuses (``sitegen.contract.url_problem``) are left out;
- ``NO_PUBLISH.json`` lists talks left out, as on pyvideo.org.

Missing or odd data is left out or filled in with a warning naming the file
relative to the checkout (``pycon-us-2019/videos/x.json: speakers[1] ''``);
only a path that is no checkout, or one past ``tree``'s bounds, is an error.

The package, one module per concern: ``tree`` reads the checkout within
bounds; ``cache`` keeps what each video file gave between builds, so an
unchanged file is not read again; ``talks`` reads one video file; ``events`` groups a category's talks
into events and dates them; ``objects`` makes the collections, ids and slugs;
``values`` reads single values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.errors import Problem
from sitegen.sources import Converted
from sitegen.sources.pyvideo.cache import TalkCache
from sitegen.sources.pyvideo.events import Event, category_events
from sitegen.sources.pyvideo.objects import collections
from sitegen.sources.pyvideo.talks import Talk, read_talk
from sitegen.sources.pyvideo.tree import VideoFile, pyvideo_id, read_checkout
from sitegen.sources.pyvideo.values import Warn

__all__ = ["read", "warning_kinds"]


def read(checkout: Path, max_bytes: int, cache_dir: Path | None = None, memory: dict[str, Any] | None = None) -> Converted:
    """The contract's collections from the pyvideo/data checkout at ``checkout``, each file read up to
    ``max_bytes`` (and ``tree.MAX_FILE_BYTES``). With ``cache_dir``, what each video file gave is kept
    there, and a file unchanged since is not read again (``cache``); with ``memory`` too, a long-lived process
    keeps it there between reads (``TalkCache``). Raises SourceError only when it is
    no checkout, is past the bounds, or the cache cannot be written."""
    warnings: list[Problem] = []

    def warn(where: str, what: str, fix: str) -> None:
        warnings.append(Problem(where, what, fix))

    cache = TalkCache(cache_dir, memory=memory, checkout=checkout)
    categories, hidden = read_checkout(checkout, max_bytes, warn, cache)
    events: list[Event] = []
    for category in categories:
        talks = [talk for video in category.videos if (talk := _talk(video, hidden, cache, warn))]
        if not talks:
            warn(
                f"{category.folder}/videos/",
                "holds no usable video file; the category is left out",
                "add its videos, or delete the category",
            )
            continue
        events += category_events(category, talks, warn)
    cache.save()
    return Converted(collections(events, warn), tuple(warnings))


def _talk(video: VideoFile, hidden: set[int], cache: TalkCache, warn: Warn) -> Talk | None:
    """The file's talk (None when NO_PUBLISH.json hides it), its warnings passed on."""
    if video.cached is not None:
        talk, talk_id, problems = video.cached
    else:
        assert video.document is not None  # a file is read when the cache has nothing for it
        problems = []
        talk = read_talk(video.stem, video.where, video.document, lambda *problem: problems.append(Problem(*problem)))
        talk_id = pyvideo_id(video.document)
        cache.put(video.where, video.key, talk, talk_id, problems)
    if talk_id is not None and talk_id in hidden:
        warn(video.where, "is listed in NO_PUBLISH.json; left out", "")
        return None
    for problem in problems:
        warn(problem.where, problem.what, problem.fix)
    return talk


def warning_kinds(warnings: Iterable[Problem]) -> dict[str, int]:
    """How many warnings of each kind (what they say, which names no file or value), most frequent first."""
    return dict(sorted(Counter(problem.what for problem in warnings).items(), key=lambda item: (-item[1], item[0])))
