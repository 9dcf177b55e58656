"""Schedule formats other than the API contract, converted to its collections.

A converter takes parsed documents and returns the contract's raw collections
(what ``model.build_archive`` reads; the README's data contract describes
them), with a warning for each thing it had to leave out. Checking the data
stays in the model stage, and I/O in the fetch stage, which hands converters a
``GetJson`` with its retries, limits and timeouts.

- ``pretalx``: a pretalx event through its REST API.
- ``frab``: frab / c3voc ``schedule.json`` files.

What they share is the contract's (``sitegen.contract``, below every
converter and the model): its limits (id and slug lengths, years), the one
slug of a name (``slugify``), the one guess of a link's media kind
(``media_kind``) and the one rule for links (``url_problem``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import Problem

#: ``get(url, headers)``: the parsed JSON body of a GET.
GetJson = Callable[[str, Mapping[str, str]], Any]


@dataclass(frozen=True)
class Converted:
    #: Contract collection name -> raw objects, as the API would send them.
    collections: dict[str, list[dict[str, Any]]]
    warnings: tuple[Problem, ...] = field(default=())
