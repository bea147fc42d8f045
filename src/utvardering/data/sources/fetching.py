"""Downloading public files politely, with an on-disk cache and a provenance record.

The only place in the library that touches the network. A :class:`Fetcher` gets a URL's
bytes from its cache directory when they are there, and otherwise from the network through a
*transport* (by default :class:`UrllibTransport`; tests pass a fake one), waiting at least
``min_interval`` seconds between requests. Every call appends a :class:`FetchRecord` (URL,
UTC time of the download, SHA-256 and size of the bytes, whether they came from the cache)
to ``fetcher.records``, which the callers put into their results' ``attrs["provenance"]``.

Cache layout: ``<cache>/<safe name>-<12 hex of the URL's SHA-256>`` holds the bytes and
``<same>.json`` the record of the download. A cached file whose bytes no longer match the
recorded SHA-256 is an error, not a silent re-download.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ...errors import DataError

__all__ = ["FetchRecord", "Fetcher", "Transport", "UrllibTransport", "default_cache_dir"]

USER_AGENT = ("utvardering (evaluation of crime-prevention programmes; "
              "polite: one request at a time, cached)")


def default_cache_dir() -> Path:
    """``$UTVARDERING_CACHE``, else ``$XDG_CACHE_HOME/utvardering``, else ``~/.cache/utvardering``."""
    if os.environ.get("UTVARDERING_CACHE"):
        return Path(os.environ["UTVARDERING_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "utvardering"


class Transport(Protocol):
    """Anything with ``get(url, timeout) -> bytes`` (raising ``OSError`` on failure)."""

    def get(self, url: str, timeout: float) -> bytes:
        """The body of ``url``; raise :class:`OSError` on failure."""
        ...


class UrllibTransport:
    """HTTP(S) GET with the standard library, identifying itself with :data:`USER_AGENT`."""

    def get(self, url: str, timeout: float) -> bytes:
        """GET ``url`` and return its body (``urllib`` errors are :class:`OSError`)."""
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                       "Accept": "*/*"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()


@dataclass(frozen=True)
class FetchRecord:
    """Provenance of one file: where it came from, when, and its SHA-256."""

    url: str
    fetched_at: str
    sha256: str
    n_bytes: int
    from_cache: bool
    cache_file: str | None

    def to_dict(self) -> dict:
        """The record as a JSON-serialisable dict."""
        return asdict(self)


class Fetcher:
    """Get URLs through a cache, politely, recording provenance.

    Parameters
    ----------
    cache : str or Path, optional
        Cache directory (created when needed). ``None``: no disk cache.
    offline : bool, default False
        Read only the cache; a URL not in it raises :class:`~utvardering.DataError`.
    transport : Transport, optional
        Default :class:`UrllibTransport`.
    min_interval : float, default 1.0
        Seconds to wait between two network requests (polite rate limiting).
    timeout : float, default 60
        Seconds before a request is abandoned.
    clock, sleep : callables, optional
        Time source and sleep function (injected by tests).
    """

    def __init__(self, cache: str | os.PathLike | None = None, *, offline: bool = False,
                 transport: Transport | None = None, min_interval: float = 1.0,
                 timeout: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if offline and cache is None:
            raise DataError("offline=True needs a cache directory to read from (cache=...); "
                            "nothing can be fetched offline without one.")
        self.cache = Path(cache) if cache is not None else None
        self.offline = offline
        self.transport = transport if transport is not None else UrllibTransport()
        self.min_interval = float(min_interval)
        self.timeout = float(timeout)
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self.records: list[FetchRecord] = []

    def _paths(self, url: str) -> tuple[Path, Path]:
        assert self.cache is not None
        tail = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "index"
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", tail)[:80]
        key = hashlib.sha256(url.encode()).hexdigest()[:12]
        data = self.cache / f"{safe}-{key}"
        return data, data.with_name(data.name + ".json")

    def _from_cache(self, url: str) -> bytes | None:
        if self.cache is None:
            return None
        data_path, meta_path = self._paths(url)
        if not (data_path.is_file() and meta_path.is_file()):
            return None
        content = data_path.read_bytes()
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        digest = hashlib.sha256(content).hexdigest()
        if digest != meta.get("sha256"):
            raise DataError(f"cached copy of {url} ({data_path}) has SHA-256 {digest[:12]}… but "
                            f"was recorded as {str(meta.get('sha256'))[:12]}…: the cache is "
                            "damaged. Delete both files (and the .json) and fetch again.")
        self.records.append(FetchRecord(url, meta["fetched_at"], digest, len(content), True,
                                        str(data_path)))
        return content

    def get(self, url: str) -> bytes:
        """The bytes at ``url``: from the cache if there, else downloaded (and cached)."""
        cached = self._from_cache(url)
        if cached is not None:
            return cached
        if self.offline:
            raise DataError(f"offline: {url} is not in the cache {self.cache}. Fetch it once "
                            "with network access (without --offline / offline=True), or copy a "
                            "cache directory that has it.")
        if self._last is not None:
            wait = self.min_interval - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        try:
            content = self.transport.get(url, self.timeout)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DataError(f"could not download {url}: {exc}. Check the network connection "
                            "(and a proxy), or run offline from a cache that has the file "
                            "(--offline --cache DIR).") from exc
        finally:
            self._last = self._clock()
        when = datetime.now(UTC).isoformat(timespec="seconds")
        digest = hashlib.sha256(content).hexdigest()
        cache_file = None
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            data_path, meta_path = self._paths(url)
            tmp = data_path.with_name(data_path.name + ".part")
            tmp.write_bytes(content)
            os.replace(tmp, data_path)
            meta_path.write_text(json.dumps({"url": url, "fetched_at": when, "sha256": digest,
                                             "n_bytes": len(content)}, indent=1),
                                 encoding="utf-8")
            cache_file = str(data_path)
        self.records.append(FetchRecord(url, when, digest, len(content), False, cache_file))
        return content

    def provenance(self) -> list[dict]:
        """The records of every file got so far, as plain dicts."""
        return [r.to_dict() for r in self.records]
