"""The verifier's (and the wallet's) offline cache: the signed trust list, the pinned operator
key, the signed status lists, and when each was fetched — everything needed to verify a
presentation with no network.

Directory layout (every file written to a temporary name, flushed, then renamed into place, so
a crash never leaves a half-written file)::

    trust-list.json      the trust-list document, byte for byte as the server sent it
    status-lists.json    {"lists": {list_id: {"issuer_id", "revocation", "suspension",
                                               "fetched_at"}}} (documents in base64)
    meta.json            {"format", "operator_public_key", "url", "trust_fetched_at"}
    replay.json          the verifier's replay store (see wallet.verifier.FileReplayStore)

:meth:`TrustCache.sync` fetches everything, checks it all (trust list against the pinned operator
key; each status list against its issuer's list key from that trust list, and that it names the
right issuer, list and purpose), and only then writes: a bad download never replaces a good cache.
:meth:`TrustCache.load` checks everything again (the files may have been altered on disk).

Ages are measured from ``fetched_at``, the verifier's own clock at download time. A server
cannot make old data look fresh to a verifier that syncs, and rollbacks are refused: a trust list
issued before the cached one, or a status list with a lower version, is not accepted.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ledger.errors import InvalidDataError, LedgerError, MalformedError, UnavailableError
from ledger.formats.status_list import StatusList, decode_status_list
from ledger.trust import StatusRef, TrustList, open_trust_list

__all__ = [
    "CacheMissingError",
    "CacheSnapshot",
    "StatusEntry",
    "SyncError",
    "SyncResult",
    "TrustCache",
    "atomic_write",
    "check_status_documents",
]

FORMAT = "consular-wallet/verifier-cache/v1"
TRUST_FILE = "trust-list.json"
STATUS_FILE = "status-lists.json"
META_FILE = "meta.json"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_LISTS = 10_000


class CacheMissingError(UnavailableError):
    """No usable cache: never synced, or the files are damaged."""


class SyncError(UnavailableError):
    """The server could not be reached or sent something unusable; the cache is unchanged."""


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class StatusEntry:
    """The revocation and suspension lists of one list id, checked against the issuer's key."""

    list_id: str
    issuer_id: str
    revocation: StatusList
    suspension: StatusList
    fetched_at: datetime

    def age(self, now: datetime) -> float:
        return (now - self.fetched_at).total_seconds()


@dataclass(frozen=True)
class CacheSnapshot:
    """What a verification uses: the opened trust list and the checked status lists."""

    trust: TrustList
    trust_fetched_at: datetime
    status: Mapping[str, StatusEntry]
    operator_public_key: bytes

    def trust_age(self, now: datetime) -> float:
        """Seconds since the operator signed the trust list (the service re-signs it at least
        every few minutes, so a stale list cannot pass for a fresh one by being re-served)."""
        return (now - min(self.trust.issued_at, self.trust_fetched_at)).total_seconds()


@dataclass(frozen=True)
class SyncResult:
    trust_issued_at: datetime
    issuers: int
    status_lists: tuple[str, ...]
    fetched_at: datetime


def check_status_documents(
    trust: TrustList, list_id: str, issuer_id: str, revocation: bytes, suspension: bytes
) -> tuple[StatusList, StatusList]:
    """Both documents of a status list: exactly the version the trust list names, each signed
    by its issuer's list key."""
    ref = trust.status_lists.get(list_id)
    if ref is None:
        raise InvalidDataError(f"status list {list_id!r} is not on the trust list")
    ref.check(issuer_id, revocation, suspension)
    issuer = trust.view.issuers.get(issuer_id)
    if issuer is None:
        raise InvalidDataError(f"status list {list_id!r}: its issuer is not on the trust list")
    lists = []
    for purpose, document in (("revocation", revocation), ("suspension", suspension)):
        status_list = decode_status_list(document, issuer.list_key)
        if status_list.issuer_key_id != issuer_id:
            raise InvalidDataError(f"status list {list_id!r}: signed for another issuer")
        if status_list.list_id != list_id:
            raise InvalidDataError(f"status list {list_id!r}: the document names another list")
        if status_list.purpose != purpose:
            raise InvalidDataError(f"status list {list_id!r}: {purpose} slot holds another list")
        lists.append(status_list)
    return lists[0], lists[1]


class TrustCache:
    """The cache directory. Load once with :meth:`load`; the snapshot is kept in memory."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._snapshot: CacheSnapshot | None = None

    # --- reading --------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.directory / META_FILE).is_file()

    def load(self, *, refresh: bool = False) -> CacheSnapshot:
        """The checked snapshot; raises :class:`CacheMissingError` if there is none usable."""
        if self._snapshot is not None and not refresh:
            return self._snapshot
        if not self.exists():
            raise CacheMissingError(
                f"no trust list in {self.directory}: run 'consular-wallet verifier sync' first"
            )
        try:
            meta = json.loads((self.directory / META_FILE).read_bytes())
            if meta.get("format") != FORMAT:
                raise MalformedError("unknown cache format")
            operator = base64.b64decode(meta["operator_public_key"], validate=True)
            trust_fetched_at = _parse_iso(meta["trust_fetched_at"])
            trust = open_trust_list((self.directory / TRUST_FILE).read_bytes(), operator)
            status_doc = self._read_status_file()
            status: dict[str, StatusEntry] = {}
            for list_id, item in status_doc.items():
                revocation = base64.b64decode(item["revocation"], validate=True)
                suspension = base64.b64decode(item["suspension"], validate=True)
                rev, sus = check_status_documents(
                    trust, list_id, item["issuer_id"], revocation, suspension
                )
                # a status list is as fresh as the signed trust list that names its version
                vouched = min(_parse_iso(item["fetched_at"]), trust.issued_at)
                status[list_id] = StatusEntry(list_id, item["issuer_id"], rev, sus, vouched)
        except (OSError, ValueError, KeyError, TypeError, binascii.Error, InvalidDataError) as exc:
            reason = str(exc) if isinstance(exc, LedgerError) else type(exc).__name__
            raise CacheMissingError(
                f"the cache in {self.directory} is damaged ({reason}): sync again"
            ) from None
        self._snapshot = CacheSnapshot(trust, trust_fetched_at, status, operator)
        return self._snapshot

    def _read_status_file(self) -> dict[str, Any]:
        path = self.directory / STATUS_FILE
        if not path.exists():
            return {}
        lists = json.loads(path.read_bytes())["lists"]
        if not isinstance(lists, dict):
            raise MalformedError("status-lists.json: lists must be an object")
        return lists

    # --- writing --------------------------------------------------------------------------

    def save(
        self,
        *,
        trust_list: bytes,
        operator_public_key: bytes,
        status_lists: Mapping[str, tuple[str, bytes, bytes]],
        fetched_at: datetime,
        url: str | None = None,
    ) -> SyncResult:
        """Check and store a trust list and status lists ``{list_id: (issuer_id, revocation,
        suspension)}``. Raises (and writes nothing) if any of it does not check out."""
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware")
        trust = open_trust_list(trust_list, operator_public_key)
        previous = self._previous()
        if (
            previous is not None
            and previous.operator_public_key == operator_public_key
            and trust.issued_at < previous.trust.issued_at
        ):
            raise InvalidDataError("the trust list is older than the cached one (rollback refused)")
        entries: dict[str, Any] = {}
        for list_id, (issuer_id, revocation, suspension) in status_lists.items():
            rev, sus = check_status_documents(trust, list_id, issuer_id, revocation, suspension)
            old = previous.status.get(list_id) if previous is not None else None
            if old is not None and (
                rev.version < old.revocation.version or sus.version < old.suspension.version
            ):
                raise InvalidDataError(
                    f"status list {list_id!r} is older than the cached one (rollback refused)"
                )
            entries[list_id] = {
                "issuer_id": issuer_id,
                "revocation": base64.b64encode(revocation).decode(),
                "suspension": base64.b64encode(suspension).decode(),
                "fetched_at": _iso(fetched_at),
            }
        meta = {
            "format": FORMAT,
            "operator_public_key": base64.b64encode(operator_public_key).decode(),
            "url": url,
            "trust_fetched_at": _iso(fetched_at),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.directory / TRUST_FILE, trust_list)
        atomic_write(
            self.directory / STATUS_FILE,
            json.dumps({"lists": entries}, indent=1, sort_keys=True).encode(),
        )
        atomic_write(self.directory / META_FILE, json.dumps(meta, indent=1).encode())
        self._snapshot = None
        return SyncResult(trust.issued_at, len(trust.view.issuers), tuple(entries), fetched_at)

    def _previous(self) -> CacheSnapshot | None:
        if not self.exists():
            return None
        try:
            return self.load(refresh=True)
        except CacheMissingError:
            return None  # a damaged cache may be replaced by a good one

    # --- network --------------------------------------------------------------------------

    def sync(
        self,
        url: str,
        operator_public_key: bytes,
        *,
        client: httpx.Client | None = None,
        now: datetime | None = None,
    ) -> SyncResult:
        """Download the trust list and every status list from ``url`` and store them if (and
        only if) all of it verifies. Raises :class:`SyncError` for network and HTTP failures."""
        base = url.rstrip("/")
        own = client is None
        http = client or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        try:
            for _attempt in range(3):  # a list may change between the two downloads: retry
                trust_bytes = _get(http, f"{base}/v1/trust-list")
                try:
                    trust = open_trust_list(trust_bytes, operator_public_key)
                except InvalidDataError as exc:
                    raise SyncError(
                        f"refused the trust list from {base}: {exc}; the cache is unchanged"
                    ) from None
                if len(trust.status_lists) > MAX_LISTS:
                    raise SyncError(f"{base}: the trust list names too many status lists")
                status = {
                    list_id: self._fetch_status(http, base, list_id)
                    for list_id in trust.status_lists
                }
                problems = [
                    problem
                    for list_id, item in status.items()
                    if (problem := _mismatch(trust.status_lists[list_id], item)) is not None
                ]
                if not problems:
                    break
            else:
                raise SyncError(f"refused the download from {base}: {problems[0]}")
        finally:
            if own:
                http.close()
        try:
            return self.save(
                trust_list=trust_bytes,
                operator_public_key=operator_public_key,
                status_lists=status,
                fetched_at=now or datetime.now(UTC),
                url=base,
            )
        except InvalidDataError as exc:
            raise SyncError(
                f"refused the download from {base}: {exc}; the cache is unchanged"
            ) from None

    @staticmethod
    def _fetch_status(http: httpx.Client, base: str, list_id: str) -> tuple[str, bytes, bytes]:
        if not list_id or "/" in list_id or not list_id.isprintable():
            raise SyncError("the trust list names a status list that is not a plain id")
        doc = _get_json(http, f"{base}/v1/status-lists/{list_id}")
        try:
            if doc["id"] != list_id:
                raise ValueError("id")
            return (
                str(doc["issuer_id"]),
                base64.b64decode(doc["revocation"], validate=True),
                base64.b64decode(doc["suspension"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise SyncError(
                f"status list {list_id!r}: not the expected JSON; the cache is unchanged"
            ) from None


def _mismatch(ref: StatusRef, item: tuple[str, bytes, bytes]) -> str | None:
    """Why the downloaded documents are not the ones the trust list names, if they are not."""
    try:
        ref.check(*item)
    except InvalidDataError as exc:
        return str(exc)
    return None


def _get(http: httpx.Client, url: str) -> bytes:
    try:
        response = http.get(url)
    except httpx.TimeoutException:
        raise SyncError(f"timed out fetching {url}") from None
    except httpx.HTTPError as exc:
        raise SyncError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise SyncError(f"{url} answered HTTP {response.status_code}; the cache is unchanged")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise SyncError(f"{url}: response too large")
    return response.content


def _get_json(http: httpx.Client, url: str) -> Any:
    data = _get(http, url)
    try:
        return json.loads(data)
    except ValueError:
        raise SyncError(f"{url}: not JSON") from None
