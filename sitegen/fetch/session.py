"""One HTTP fetch's state: the source, the client, the token, the injected clocks, the deadline
of the whole run (total_timeout) and the counters that become ``FetchStats``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sitegen.config import SourceConfig
from sitegen.errors import SourceError
from sitegen.fetch.result import FetchStats

if TYPE_CHECKING:
    import httpx


@dataclass
class Counters:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes_received: int = 0
    incremental: bool = False
    changed_objects: int = 0
    full_fetch_reason: str = ""

    def freeze(self) -> FetchStats:
        return FetchStats(**dataclasses.asdict(self))


class Session:
    """``clock`` (monotonic) enforces the deadline; ``now`` (wall clock) stands in for a missing ``Date``."""

    def __init__(
        self,
        source: SourceConfig,
        client: httpx.Client,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        now: Callable[[], datetime],
        token: str | None,
        *,
        contract: bool = True,
    ) -> None:
        #: Whether this fetch speaks the API contract (its token is the contract's bearer token).
        self.contract = contract
        self.source, self.client = source, client
        self.sleep, self.clock, self.now, self.token = sleep, clock, now, token
        self.deadline = clock() + source.total_timeout
        self.counters = Counters()

    def too_late(self, url: str) -> SourceError:
        return SourceError.at(
            url,
            f"the fetch took longer than total_timeout = {self.source.total_timeout:g} s",
            "raise [source] total_timeout, or check why the server is slow",
        )

    def check_deadline(self, url: str) -> None:
        if self.clock() >= self.deadline:
            raise self.too_late(url)
