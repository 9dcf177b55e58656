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
  ``sitegen.sources.media`` gives their URL and label; links the contract
  refuses (``sitegen.contract.url_problem``) are left out;
- ``NO_PUBLISH.json`` lists talks left out, as on pyvideo.org.

Missing or odd data is left out or filled in with a warning naming the file
relative to the checkout (``pycon-us-2019/videos/x.json: speakers[1] ''``);
only a path that is no checkout, or one past ``tree``'s bounds, is an error.

The package, one module per concern: ``tree`` reads the checkout within
bounds; ``talks`` reads one video file; ``events`` groups a category's talks
into events and dates them; ``objects`` makes the collections, ids and slugs;
``values`` reads single values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sitegen.errors import Problem
from sitegen.sources import Converted
from sitegen.sources.pyvideo.events import Event, category_events
from sitegen.sources.pyvideo.objects import collections
from sitegen.sources.pyvideo.talks import read_talk
from sitegen.sources.pyvideo.tree import read_checkout

__all__ = ["read", "warning_kinds"]


def read(checkout: Path, max_bytes: int) -> Converted:
    """The contract's collections from the pyvideo/data checkout at ``checkout``, each file read up to
    ``max_bytes`` (and ``tree.MAX_FILE_BYTES``). Raises SourceError only when it is no checkout or past the bounds."""
    warnings: list[Problem] = []

    def warn(where: str, what: str, fix: str) -> None:
        warnings.append(Problem(where, what, fix))

    events: list[Event] = []
    for category in read_checkout(checkout, max_bytes, warn):
        talks = [read_talk(stem, where, video, warn) for stem, where, video in category.videos]
        if not talks:
            warn(
                f"{category.folder}/videos/",
                "holds no usable video file; the category is left out",
                "add its videos, or delete the category",
            )
            continue
        events += category_events(category, talks, warn)
    return Converted(collections(events, warn), tuple(warnings))


def warning_kinds(warnings: Iterable[Problem]) -> dict[str, int]:
    """How many warnings of each kind (what they say, which names no file or value), most frequent first."""
    return dict(sorted(Counter(problem.what for problem in warnings).items(), key=lambda item: (-item[1], item[0])))
