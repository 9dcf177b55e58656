"""The fetch stage: read the raw event data from the JSON API, another format or a local folder.

The result is the API's objects, untouched and in server order; checking them
against the contract is the model stage's job. Everything here is about getting
the bytes reliably: pagination, bounded retries, a budget for the whole fetch,
a size cap per response, and an on-disk ETag cache so that rebuilding against
an unchanged API costs only ``304 Not Modified`` answers.

The HTTP fetch is also incremental when the server has a change feed
(``GET B/changes?since=<cursor>``). A full fetch first reads the feed to its
end to learn the current cursor, then lists every collection, and keeps the
objects and the cursor under ``cache_dir/objects``. The next fetch reads only
the feed since that cursor, re-lists just the collections it names with
``updated_since`` (reaching back a safe margin before the last sync, by the
server's clock) and applies the deletes by id. Anything doubtful (no or a
corrupt local copy, a rejected cursor, a feed entry the listing does not
confirm) means a full fetch: the result always equals what a full fetch gives.
Without a change feed a full fetch is the only way to see deletions, and the
ETag cache already makes it cheap, so that is what happens.

One module per concern, each importing only the ones listed before it:

* ``result``: what the stage hands on (``RawArchive``, ``FetchStats``, ``COLLECTIONS``);
* ``envelope``: parsing one page, ``{"data": [...], "next": ...}``, and a feed page's cursor;
* ``folder``: the local folder form;
* ``urls``: the API's URLs, and the same-origin rule for links, redirects and the token;
* ``paging``: following ``next`` links (same origin, no loops, at most MAX_PAGES);
* ``client``: the httpx client and its timeouts;
* ``session``: one HTTP fetch's state: clocks, deadline, token, counters;
* ``body``: a response body read and decoded within max_response_bytes;
* ``retrying``: every request through ``sitegen.retry.RetryPolicy``, and why it gave up;
* ``request``: one GET: its headers, redirects within the origin, network failures, retried;
* ``status``: what an unexpected HTTP status means;
* ``httpcache``: the on-disk ETag cache;
* ``fetcher``: collections page by page through the cache, and other formats' documents;
* ``changes``: the change feed's entries merged into collections by id, or Doubt;
* ``feed``: reading the change feed to its end;
* ``localcopy``: the snapshot kept on disk between fetches;
* ``incremental``: the local copy brought up to date, or a full fetch;
* ``formats``: pretalx and frab, through ``sitegen.sources``;
* ``archive``: ``fetch_archive``, which picks the reader for ``[source]``.
"""

from sitegen.fetch.archive import fetch_archive
from sitegen.fetch.changes import FEED_TYPES
from sitegen.fetch.incremental import SYNC_OVERLAP
from sitegen.fetch.registry import FORMATS, find_source, source_problems
from sitegen.fetch.request import MAX_REDIRECTS
from sitegen.fetch.result import COLLECTIONS, FetchStats, RawArchive
from sitegen.fetch.source import Reading, Source

__all__ = [
    "COLLECTIONS",
    "FEED_TYPES",
    "FORMATS",
    "MAX_REDIRECTS",
    "SYNC_OVERLAP",
    "FetchStats",
    "RawArchive",
    "Reading",
    "Source",
    "fetch_archive",
    "find_source",
    "source_problems",
]
