"""Offline verification of a presentation QR code: is it genuine, issued by a trusted consulate
for this nationality, fresh, within its validity, not revoked or suspended, not replayed — and
what did the holder choose to disclose?

Every check has its own verdict code (see :data:`CODES`); a failing check stops the run, and
nothing here raises for bad input: an unreadable image, a garbled payload or an internal surprise
all come back as an invalid :class:`Verdict`. The checks run in this order: decode → schema and
mandatory disclosures → trust-list age → issuer trust (scope, validity, revocation of the issuer
key, using the disclosed nationality and issue date) → BBS proof → presentation header
(challenge, or time within the window) → validity dates → status lists (and their age) → replay.

Example::

    cache = TrustCache(path)
    verdict = verify_image(png_bytes, cache.load(), now=datetime.now(UTC),
                           expected_challenge=None, max_trust_age=timedelta(days=7),
                           max_status_age=timedelta(days=1),
                           replay=FileReplayStore(path / "replay.json"))
"""

from __future__ import annotations

import calendar
import fcntl
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from ledger.crypto import bbs
from ledger.errors import LedgerError, MalformedError
from ledger.formats.credential import (
    ALWAYS_DISCLOSED,
    ATTRIBUTES,
    DOCUMENT_TYPE,
    NEVER_DISCLOSED,
    SCHEMA_ID,
    SCHEMA_VERSION,
    credential_header,
    decode_disclosed,
    parse_presentation_header,
)
from ledger.formats.presentation import Ciphersuite, Presentation, decode_presentation
from ledger.trust import TrustError
from wallet.qr import read_qr
from wallet.trust_cache import CacheSnapshot, TrustCache, atomic_write

__all__ = [
    "CODES",
    "FileReplayStore",
    "MemoryReplayStore",
    "ReplayStore",
    "Verdict",
    "proof_digest",
    "verify_image",
    "verify_payload",
]

CODES = (
    "valid",
    "unreadable_image",
    "malformed_payload",
    "unsupported_schema",
    "missing_disclosure",
    "no_trust_list",
    "trust_list_too_old",
    "unknown_issuer",
    "outside_scope",
    "issuer_not_valid_at_issue",
    "issuer_revoked",
    "proof_invalid",
    "wrong_challenge",
    "outside_time_window",
    "expired",
    "not_yet_valid",
    "status_unknown",
    "status_list_too_old",
    "revoked",
    "suspended",
    "replayed",
    "internal_error",
)
_SUITES = {
    Ciphersuite.BLS12_381_SHA_256: bbs.SHA256,
    Ciphersuite.BLS12_381_SHAKE_256: bbs.SHAKE256,
}
_REPLAY_DOMAIN = b"consular-wallet/replay/v1\n"


@dataclass(frozen=True)
class Verdict:
    """The outcome. ``attributes`` are filled only for a valid presentation."""

    valid: bool
    code: str
    message: str
    issuer: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    trust_age_s: float | None = None
    status_age_s: float | None = None


class ReplayStore(Protocol):
    def check_and_record(self, digest: bytes, now: datetime) -> bool:
        """Record ``digest``; True if it had been recorded before (a replay)."""
        ...


class MemoryReplayStore:
    """Replay memory for tests and one-process verifiers; never forgets."""

    def __init__(self) -> None:
        self.seen: dict[bytes, datetime] = {}

    def check_and_record(self, digest: bytes, now: datetime) -> bool:
        if digest in self.seen:
            return True
        self.seen[digest] = now
        return False


class FileReplayStore:
    """Replay memory in a JSON file ``{digest hex: first seen}`` (atomic writes, file lock).

    Entries are kept for ``retention`` (default 2 x the default 5-minute time window, 10
    minutes): after that a time-bound presentation fails the window check anyway. Challenge-bound
    proofs are recorded too, and forgotten at the same age, so a verifier must not reuse a
    challenge for longer than ``retention``.
    """

    def __init__(self, path: Path | str, *, retention: timedelta = timedelta(minutes=10)) -> None:
        self.path = Path(path)
        self.retention = retention

    def check_and_record(self, digest: bytes, now: datetime) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            seen = self._read()
            cutoff = now - self.retention
            seen = {k: v for k, v in seen.items() if v >= cutoff}
            key = digest.hex()
            replayed = key in seen
            if not replayed:
                seen[key] = now
            atomic_write(
                self.path,
                json.dumps(
                    {k: v.astimezone(UTC).isoformat() for k, v in seen.items()}, indent=0
                ).encode(),
            )
            return replayed

    def _read(self) -> dict[str, datetime]:
        try:
            raw = json.loads(self.path.read_bytes())
            return {str(k): datetime.fromisoformat(v) for k, v in raw.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, TypeError, AttributeError, OSError):
            # A damaged replay file must not stop verification; start afresh (fail closed
            # would lock the verifier out). It only weakens replay detection for 10 minutes.
            return {}


def proof_digest(presentation: Presentation) -> bytes:
    """What the replay store remembers: a hash of the proof and its header, nothing personal."""
    return hashlib.sha256(
        _REPLAY_DOMAIN + presentation.presentation_header + b"\n" + presentation.proof
    ).digest()


def _bad(code: str, message: str, **kwargs: object) -> Verdict:
    return Verdict(False, code, message, **kwargs)  # type: ignore[arg-type]


def _end_of_month(expiry: str) -> date:
    year, month = int(expiry[:4]), int(expiry[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def _human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def verify_payload(
    payload: str,
    cache: CacheSnapshot | TrustCache,
    *,
    now: datetime,
    expected_challenge: str | None,
    max_trust_age: timedelta,
    max_status_age: timedelta,
    time_window: timedelta = timedelta(minutes=5),
    replay: ReplayStore,
    backend: str | None = None,
) -> Verdict:
    """Verify a ``CL1:`` payload offline. Never raises for bad input; see the module doc."""
    try:
        return _verify(
            payload,
            cache,
            now=now,
            expected_challenge=expected_challenge,
            max_trust_age=max_trust_age,
            max_status_age=max_status_age,
            time_window=time_window,
            replay=replay,
            backend=backend,
        )
    except Exception as exc:  # never crash on a scanned code
        return _bad("internal_error", f"verification failed unexpectedly ({type(exc).__name__})")


def verify_image(
    image: bytes | Path | str,
    cache: CacheSnapshot | TrustCache,
    *,
    now: datetime,
    expected_challenge: str | None,
    max_trust_age: timedelta,
    max_status_age: timedelta,
    time_window: timedelta = timedelta(minutes=5),
    replay: ReplayStore,
    backend: str | None = None,
) -> Verdict:
    """Read the one QR code in ``image`` (PNG/JPEG bytes or a file path) and verify it."""
    try:
        payload = read_qr(image)
    except LedgerError as exc:
        return _bad("unreadable_image", f"cannot read a QR code: {exc}")
    except Exception as exc:
        return _bad("unreadable_image", f"cannot read a QR code ({type(exc).__name__})")
    return verify_payload(
        payload,
        cache,
        now=now,
        expected_challenge=expected_challenge,
        max_trust_age=max_trust_age,
        max_status_age=max_status_age,
        time_window=time_window,
        replay=replay,
        backend=backend,
    )


def _verify(
    payload: str,
    cache: CacheSnapshot | TrustCache,
    *,
    now: datetime,
    expected_challenge: str | None,
    max_trust_age: timedelta,
    max_status_age: timedelta,
    time_window: timedelta,
    replay: ReplayStore,
    backend: str | None,
) -> Verdict:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # 1. decode
    try:
        presentation = decode_presentation(payload.strip() if isinstance(payload, str) else payload)
    except MalformedError as exc:
        return _bad("malformed_payload", str(exc))

    # 2. schema and mandatory disclosures
    schema = (presentation.schema_id, presentation.schema_version)
    if schema != (SCHEMA_ID, SCHEMA_VERSION):
        return _bad(
            "unsupported_schema",
            f"credential schema {schema[0]} version {schema[1]} is not supported "
            f"(this verifier knows schema {SCHEMA_ID} version {SCHEMA_VERSION})",
        )
    if presentation.attribute_count != len(ATTRIBUTES):
        return _bad(
            "unsupported_schema",
            f"the proof covers {presentation.attribute_count} attributes; "
            f"schema {SCHEMA_ID} has {len(ATTRIBUTES)}",
        )
    try:
        disclosed = decode_disclosed(presentation.disclosed)
    except MalformedError as exc:
        return _bad("malformed_payload", f"malformed presentation: {exc}")
    if set(disclosed) & set(NEVER_DISCLOSED):
        return _bad("malformed_payload", "malformed presentation: discloses the holder secret")
    missing = [name for name in ALWAYS_DISCLOSED if name not in disclosed]
    if missing:
        return _bad(
            "missing_disclosure",
            f"the presentation must disclose {', '.join(missing)} to be checked offline",
        )
    try:
        issued_on = date.fromisoformat(disclosed["issue_date"])
        valid_until = _end_of_month(disclosed["expiry"])
        status_index = int(disclosed["status_index"])
    except (ValueError, IndexError):
        return _bad("malformed_payload", "malformed presentation: a disclosed date or index")

    # 3. trust-list age
    try:
        snapshot = cache.load() if isinstance(cache, TrustCache) else cache
    except LedgerError as exc:
        return _bad("no_trust_list", str(exc))
    trust_age = snapshot.trust_age(now)
    if trust_age > max_trust_age.total_seconds():
        return _bad(
            "trust_list_too_old",
            f"the trust list was signed {_human(trust_age)} ago, more than the "
            f"{_human(max_trust_age.total_seconds())} allowed: sync the verifier",
            trust_age_s=trust_age,
        )

    # 4. issuer trust
    key_id = presentation.issuer_key_id
    issuer_id = key_id.hex() if isinstance(key_id, bytes) else key_id
    try:
        issuer = snapshot.trust.view.check(
            issuer_id,
            nationality=disclosed["nationality"],
            document_type=DOCUMENT_TYPE,
            issued_on=issued_on,
        )
    except TrustError as exc:
        return _bad(exc.verdict, str(exc), trust_age_s=trust_age)
    issuer_label = f"{issuer.name} ({issuer.state})"
    context = {"issuer": issuer_label, "trust_age_s": trust_age}

    # 5. BBS proof
    suite = _SUITES[presentation.ciphersuite]
    if suite != issuer.ciphersuite:
        return _bad(
            "proof_invalid",
            f"the proof uses {suite}, but the issuer key is certified for {issuer.ciphersuite}",
            **context,
        )
    indexes = sorted(presentation.disclosed)
    try:
        ok = bbs.proof_verify(
            issuer.bbs_public_key,
            presentation.proof,
            credential_header(),
            presentation.presentation_header,
            [presentation.disclosed[i] for i in indexes],
            indexes,
            suite,
            backend=backend,
        )
    except MalformedError:
        ok = False
    if not ok:
        return _bad(
            "proof_invalid",
            "the proof does not verify for the issuer's key: the proof or a disclosed value was "
            "altered, or it was not issued by this consulate (BBS cannot tell which)",
            **context,
        )

    # 6. presentation header: challenge or time
    try:
        ctx = parse_presentation_header(presentation.presentation_header)
    except MalformedError as exc:
        return _bad("malformed_payload", str(exc), **context)
    if expected_challenge is not None:
        if ctx.challenge is None:
            return _bad(
                "wrong_challenge",
                "a challenge was expected, but the code is bound to a time, not to the challenge",
                **context,
            )
        if not hmac.compare_digest(ctx.challenge.encode(), expected_challenge.encode()):
            return _bad(
                "wrong_challenge",
                "the code answers another challenge: ask the holder to present again",
                **context,
            )
    elif ctx.challenge is not None:
        return _bad(
            "wrong_challenge",
            "the code is bound to a challenge, but none was given: pass the challenge you showed",
            **context,
        )
    elif not ctx.within(now, time_window):
        assert ctx.made_at is not None
        return _bad(
            "outside_time_window",
            f"the code was made at {ctx.made_at:%Y-%m-%d %H:%M} UTC, outside the "
            f"±{_human(time_window.total_seconds())} window: ask for a fresh code",
            **context,
        )

    # 7. validity dates
    today = now.astimezone(UTC).date()
    if issued_on > today:
        return _bad("not_yet_valid", f"issued on {issued_on.isoformat()}, in the future", **context)
    if today > valid_until:
        return _bad("expired", f"expired at the end of {disclosed['expiry']}", **context)

    # 8. status lists
    list_id = disclosed["status_list_id"]
    entry = snapshot.status.get(list_id)
    if entry is None or entry.issuer_id != issuer_id:
        return _bad(
            "status_unknown",
            "no status list for this credential in the cache: sync the verifier",
            **context,
        )
    status_age = entry.age(now)
    context["status_age_s"] = status_age
    if status_age > max_status_age.total_seconds():
        return _bad(
            "status_list_too_old",
            f"the status list was last vouched for {_human(status_age)} ago, more than the "
            f"{_human(max_status_age.total_seconds())} allowed: sync the verifier",
            **context,
        )
    if not 0 <= status_index < entry.revocation.size or status_index >= entry.suspension.size:
        return _bad("status_unknown", "the status index is outside the status list", **context)
    if entry.revocation.is_set(status_index):
        return _bad("revoked", "the consulate has revoked this credential", **context)
    if entry.suspension.is_set(status_index):
        return _bad("suspended", "the consulate has suspended this credential", **context)

    # 9. replay
    if replay.check_and_record(proof_digest(presentation), now):
        return _bad(
            "replayed",
            "this exact code was accepted before: it is a copy; ask for a fresh one",
            **context,
        )
    return Verdict(
        True,
        "valid",
        f"genuine, issued by {issuer.name}, valid until the end of {disclosed['expiry']}, "
        "not revoked or suspended",
        issuer_label,
        dict(disclosed),
        trust_age,
        status_age,
    )
