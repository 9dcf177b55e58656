"""A real pretalx for tests: installed from the package registry, seeded, served on 127.0.0.1.

    install = install_pretalx()                  # cached venv with the locked pretalx (locks/pretalx.txt)
    with PretalxServer(install, tmp_dir) as server:
        server.api_url                           # http://127.0.0.1:PORT/api/events/democon/
        server.seeded["token"]                   # a read-only API token for the event

pretalx goes into a venv of its own (its dependencies are pinned tightly and
must not meet sitegen's), under the system's temp folder, keyed by our Python's
version and the lock's digest: ``locks/pretalx.txt`` (made from
``tests/pretalx-requirements.txt`` by ``locks/refresh.sh``) is installed with
its hashes checked, so a new pretalx release cannot change what the tests run
against. A file lock keeps two test runs from building it at once.

Each server gets a fresh data folder with SQLite, migrated, with an
administrator (``init --noinput``), pretalx's own demo event
(``create_test_event --seed``, a published schedule) and a few changes made in
Django (``SEED_SCRIPT``): a talk across midnight, one without a slot, a public
and a private tag, a link resource, a room named only in German, a
read-only API token; then a new schedule release. ``runserver`` serves it in its
own process group, which ``stop`` ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

LOCK = Path(__file__).parent.parent / "locks" / "pretalx.txt"
#: One venv per Python version and lock: a refreshed lock gets a venv of its own.
CACHE = (
    Path(tempfile.gettempdir()) / f"sitegen-pretalx-py{sys.version_info.major}.{sys.version_info.minor}"
    f"-{hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]}"
)
SLUG = "democon"
SEED = "2026"
#: Small pages, so that reading the talks has to follow ``next`` (pretalx caps ``page_size`` at this).
MAX_PAGE_SIZE = "10"
INSTALL_TIMEOUT = 600.0

#: Run by the venv's Python inside pretalx's Django, after create_test_event: ``SEED_SCRIPT SLUG``.
#: Prints one JSON line: the token and the codes of the talks it changed.
SEED_SCRIPT = r"""
import datetime as dt, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pretalx.settings")
import django
django.setup()
from django_scopes import scopes_disabled
from i18nfield.strings import LazyI18nString
from pretalx.event.models import Event
from pretalx.person.models import User
from pretalx.person.models.auth_token import ENDPOINTS, READ_PERMISSIONS, UserApiToken
from pretalx.submission.models import Resource, Tag

with scopes_disabled():
    event = Event.objects.get(slug=sys.argv[1])
    wip = event.wip_schedule
    slots = list(wip.talks.filter(submission__state="confirmed", start__isnull=False)
                 .select_related("submission", "room").order_by("submission__code"))
    late, loose, tagged = slots[0], slots[1], slots[2]
    start = dt.datetime.combine(event.date_from, dt.time(23, 30), tzinfo=event.tz)
    late.start, late.end = start, start + dt.timedelta(minutes=late.submission.get_duration())
    late.save()
    loose.start = loose.end = loose.room = None
    loose.save()
    public = Tag.objects.create(event=event, tag="Beginner friendly", is_public=True)
    private = Tag.objects.create(event=event, tag="Needs review", is_public=False)
    tagged.submission.tags.add(public, private)
    Resource.objects.create(submission=tagged.submission, link="https://media.example.org/talk.mp4",
                            description="Recording", is_public=True)
    room = tagged.room
    room.name = LazyI18nString({"de": "Großer Saal"})
    room.save()
    wip.freeze("v1.1", notify_speakers=False)
    admin = User.objects.filter(is_administrator=True).first()
    token = UserApiToken.objects.create(name="sitegen tests", user=admin,
                                        endpoints={name: list(READ_PERMISSIONS) for name in ENDPOINTS})
    token.events.add(event)
    print(json.dumps({"token": token.token, "late": late.submission.code, "unscheduled": loose.submission.code,
                      "tagged": tagged.submission.code, "german_room": "Großer Saal"}))
"""


@dataclass(frozen=True)
class Install:
    python: Path  # the venv's interpreter
    version: str  # pretalx's
    requires_python: str  # pretalx's Requires-Python
    python_version: str  # the venv's Python, e.g. 3.11.7


def install_pretalx(cache: Path = CACHE) -> Install:
    """The cached venv with the locked pretalx, created if missing or half-made."""
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):
        venv, ready = cache / "venv", cache / "venv.ready"
        if not ready.exists():  # absent or half-made: start again
            _run([sys.executable, "-m", "venv", "--clear", str(venv)], timeout=120)
        python = venv / "bin" / "python"
        if not ready.exists():
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--require-hashes",
                    "--no-deps",
                    "-r",
                    str(LOCK),
                ],
                timeout=INSTALL_TIMEOUT,
            )
            ready.touch()
    probe = (
        "import importlib.metadata as m, json, platform; d = m.metadata('pretalx'); "
        "print(json.dumps([d['Version'], d.get('Requires-Python') or '', platform.python_version()]))"
    )
    version, requires_python, python_version = json.loads(_run([str(python), "-c", probe], timeout=60).stdout)
    return Install(python, version, requires_python, python_version)


class PretalxServer:
    """pretalx with a seeded demo event, on a free port of 127.0.0.1, for one ``with`` block."""

    def __init__(self, install: Install, folder: Path) -> None:
        self.install, self.folder = install, folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/events/{SLUG}/"
        self.env = self._environment()
        self.process: subprocess.Popen[bytes] | None = None
        self.seeded: dict[str, Any] = {}

    def __enter__(self) -> PretalxServer:
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        """Ours, less any pretalx or Django settings, plus a config file of its own (so no
        /etc/pretalx/pretalx.cfg or ~/.pretalx.cfg of the machine is read)."""
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "pretalx.cfg"
        config.write_text(
            f"[filesystem]\ndata = {data}\n\n[site]\ndebug = False\nurl = {self.url}\n\n[database]\nbackend = sqlite3\n", encoding="utf-8"
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PRETALX_", "DJANGO_"))}
        return env | {
            "PRETALX_CONFIG_FILE": str(config),
            "PRETALX_DATA_DIR": str(data),
            "PRETALX_MAX_PAGINATION_LIMIT": MAX_PAGE_SIZE,
            "DJANGO_SUPERUSER_EMAIL": "admin@example.org",
            "DJANGO_SUPERUSER_PASSWORD": "not-a-secret-0815",
            "PRETALX_INIT_ORGANISER_NAME": "Test organiser",
            "PRETALX_INIT_ORGANISER_SLUG": "testorg",
        }

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return _run([str(self.install.python), "-m", "pretalx", *args], timeout=timeout, env=self.env, cwd=self.folder)

    def prepare(self) -> None:
        """The database: migrated, an administrator, the demo event, our changes."""
        self.manage("migrate", "--no-input")
        self.manage("init", "--no-input")
        self.manage("create_test_event", "--seed", SEED, "--slug", SLUG, "--stage", "schedule")
        output = _run([str(self.install.python), "-c", SEED_SCRIPT, SLUG], timeout=120, env=self.env, cwd=self.folder)
        self.seeded = json.loads(output.stdout.strip().splitlines()[-1])

    def start(self, timeout: float = 90) -> None:
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(self.install.python), "-m", "pretalx", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pretalx runserver exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.api_url, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"pretalx did not answer {self.api_url} within {timeout:g} s:\n{self.log()}")

    def stop(self) -> None:
        """End the server's whole process group: runserver first politely, then anything left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):  # the group is ours alone: start_new_session made it
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def running(self) -> bool:
        """Whether any process of the server's group is still alive (none may be after ``stop``)."""
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else ""


def _run(
    command: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step; a failure shows its output, which is where pip or pretalx says why."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} … failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
