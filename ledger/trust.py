"""The trust list: which issuer keys a verifier trusts, for whom, and when — derived from the
log's trust entries, every one of them signature-checked, so a verifier does not have to take
the operator's word for any certification.

The list document is RFC 8785 JSON signed by the log operator's Ed25519 key (which verifiers
pin): the operator vouches for freshness and completeness; the state roots vouch for their
consulates. Example::

    doc = build_trust_list(trust_entries, operator_key, origin="…", size=42, now=now)
    trust = open_trust_list(doc, operator_key.public_key)
    issuer = trust.view.check("…issuer id…", nationality="MEX", document_type="consular_id",
                              issued_on=date(2026, 11, 23))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

from ledger.crypto.actor_keys import ActorKey, actor_key_id, verify_actor_signature
from ledger.entries import validate_body
from ledger.errors import InvalidDataError, MalformedError, VerificationError
from ledger.formats.entry import format_time, parse_entry
from ledger.identity_types import (
    DelegationBody,
    IssuerCertifiedBody,
    IssuerRevokedBody,
    StateRootBody,
)

__all__ = [
    "FORMAT",
    "TRUST_ENTRY_TYPES",
    "Delegation",
    "Issuer",
    "IssuerNotValidError",
    "IssuerRevokedError",
    "OutOfScopeError",
    "StatusRef",
    "TrustError",
    "TrustList",
    "TrustView",
    "UnknownIssuerError",
    "build_trust_list",
    "certification_body",
    "open_trust_list",
]

FORMAT = "consular-ledger/trust-list/v1"
TRUST_ENTRY_TYPES = (
    "trust.state_root_added",
    "trust.issuer_certified",
    "trust.delegation_granted",
    "trust.issuer_revoked",
)
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class TrustError(VerificationError):
    """The issuer of a credential is not trusted for it; ``verdict`` names why."""

    verdict = "untrusted_issuer"


class UnknownIssuerError(TrustError):
    verdict = "unknown_issuer"


class OutOfScopeError(TrustError):
    verdict = "outside_scope"


class IssuerNotValidError(TrustError):
    verdict = "issuer_not_valid_at_issue"


class IssuerRevokedError(TrustError):
    verdict = "issuer_revoked"


@dataclass(frozen=True)
class Issuer:
    issuer_id: str
    state: str
    name: str
    list_key: bytes
    bbs_public_key: bytes
    ciphersuite: str
    nationals: tuple[str, ...]
    document_types: tuple[str, ...]
    not_before: str
    not_after: str
    revoked_from: str | None = None


@dataclass(frozen=True)
class Delegation:
    state: str
    issuer_id: str
    nationals: tuple[str, ...]
    document_types: tuple[str, ...]
    not_after: str


class _NotAuthorised(Exception):
    """A trust entry whose signer had no authority for it: skipped, never applied."""


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


@dataclass
class TrustView:
    """State roots, certified issuers, delegations and revocations, as the log says."""

    roots: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # state -> (key id, key)
    issuers: dict[str, Issuer] = field(default_factory=dict)
    delegations: list[Delegation] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # well-signed entries that grant nothing

    @classmethod
    def from_entries(cls, entries: Sequence[bytes], operator_public_key: bytes) -> TrustView:
        """Replay trust entries in log order, checking each signature and signer.

        Raises :class:`MalformedError` for an entry that is not a trust entry or is signed by
        the wrong key: a trust list with such an entry is not used at all.
        """
        view = cls()
        operator_id = actor_key_id(operator_public_key)
        for position, data in enumerate(entries):
            try:
                view._apply(data, operator_id, operator_public_key)
            except _NotAuthorised as exc:
                view.ignored.append(f"trust entry {position}: {exc}")
            except InvalidDataError as exc:
                raise MalformedError(f"trust entry {position}: {exc}") from None
        return view

    def _root_of(self, state: str, actor: str) -> bytes:
        root = self.roots.get(state)
        if root is None or root[0] != actor:
            raise _NotAuthorised(f"not signed by the root of {state}; it grants nothing")
        return root[1]

    def _apply(self, data: bytes, operator_id: str, operator_key: bytes) -> None:
        entry = parse_entry(data)
        body = validate_body(entry)
        if isinstance(body, StateRootBody):
            if entry.actor != operator_id:
                raise MalformedError("a state root must be added by the operator")
            signer = operator_key
        elif isinstance(body, IssuerCertifiedBody | DelegationBody):
            signer = self._root_of(body.state, entry.actor)
            if isinstance(body, IssuerCertifiedBody) and body.issuer_id in self.issuers:
                # a key is certified once: a second certification must not reset a revocation
                # or move the issuer to another state
                raise _NotAuthorised("certifies an issuer key that is already certified")
        elif isinstance(body, IssuerRevokedBody):
            issuer = self.issuers.get(body.issuer_id)
            if issuer is None or issuer.state != body.state:
                raise _NotAuthorised(f"revokes no issuer certified by the root of {body.state}")
            signer = self._root_of(issuer.state, entry.actor)
        else:
            raise MalformedError(f"{entry.type} is not a trust entry")
        verify_actor_signature(signer, entry.signed_bytes(), entry.sig)
        if isinstance(body, StateRootBody):
            grant = body.admitted_actor()
            self.roots[body.state] = (grant.key_id, grant.public_key)
        elif isinstance(body, IssuerCertifiedBody):
            if body.nationals != [body.state]:
                raise MalformedError("a root certifies issuers for its own nationals only")
            grant = body.admitted_actor()
            self.issuers[body.issuer_id] = Issuer(
                body.issuer_id,
                body.state,
                body.name,
                grant.public_key,
                body.bbs_key(),
                body.ciphersuite,
                tuple(body.nationals),
                tuple(body.document_types),
                body.not_before,
                body.not_after,
            )
        elif isinstance(body, DelegationBody):
            if body.nationals != [body.state]:
                raise MalformedError("a state delegates for its own nationals only")
            self.delegations.append(
                Delegation(
                    body.state,
                    body.issuer_id,
                    tuple(body.nationals),
                    tuple(body.document_types),
                    body.not_after,
                )
            )
        else:
            issuer = self.issuers[body.issuer_id]
            earliest = min(filter(None, (issuer.revoked_from, body.revoked_from)))
            self.issuers[body.issuer_id] = Issuer(**{**issuer.__dict__, "revoked_from": earliest})

    def check(
        self, issuer_id: str, *, nationality: str, document_type: str, issued_on: date
    ) -> Issuer:
        """The issuer, if it may have issued this credential; else the specific TrustError."""
        issuer = self.issuers.get(issuer_id)
        if issuer is None:
            raise UnknownIssuerError("the issuer is not on the trust list")
        if not _day(issuer.not_before) <= issued_on <= _day(issuer.not_after):
            raise IssuerNotValidError(
                f"the issuer key was not valid on the issue date {issued_on.isoformat()}"
            )
        if issuer.revoked_from is not None and issued_on >= _day(issuer.revoked_from):
            raise IssuerRevokedError(
                f"the issuer key was revoked from {issuer.revoked_from[:10]}, "
                f"before this credential was issued"
            )
        if nationality in issuer.nationals and document_type in issuer.document_types:
            return issuer
        for grant in self.delegations:
            if (
                grant.issuer_id == issuer_id
                and nationality in grant.nationals
                and document_type in grant.document_types
                and issued_on <= _day(grant.not_after)
            ):
                return issuer
        raise OutOfScopeError(
            f"{issuer.name} may not issue {document_type} credentials to {nationality} "
            "nationals (no delegation covers it)"
        )


@dataclass(frozen=True)
class StatusRef:
    """The current version of an issuer's status list, as the operator vouches for it: a
    verifier accepts only these exact documents, so an old list cannot be passed off as new."""

    list_id: str
    issuer_id: str
    version: int
    revocation_sha256: str
    suspension_sha256: str

    @classmethod
    def of(
        cls, list_id: str, issuer_id: str, version: int, revocation: bytes, suspension: bytes
    ) -> StatusRef:
        return cls(
            list_id, issuer_id, version,
            hashlib.sha256(revocation).hexdigest(), hashlib.sha256(suspension).hexdigest(),
        )  # fmt: skip

    def check(self, issuer_id: str, revocation: bytes, suspension: bytes) -> None:
        """Raise unless these are the documents this reference names."""
        if issuer_id != self.issuer_id:
            raise VerificationError(f"status list {self.list_id!r} belongs to another issuer")
        if (
            hashlib.sha256(revocation).hexdigest() != self.revocation_sha256
            or hashlib.sha256(suspension).hexdigest() != self.suspension_sha256
        ):
            raise VerificationError(
                f"status list {self.list_id!r} is not the version {self.version} the trust list "
                "names (stale or altered): sync again"
            )


@dataclass(frozen=True)
class TrustList:
    issued_at: datetime
    origin: str
    tree_size: int
    entries: tuple[bytes, ...]
    view: TrustView
    status_lists: Mapping[str, StatusRef] = field(default_factory=dict)

    def age(self, now: datetime) -> float:
        """Seconds since the operator signed this list."""
        return (now - self.issued_at).total_seconds()


def build_trust_list(
    entries: Sequence[bytes],
    operator: ActorKey,
    *,
    origin: str,
    size: int,
    now: datetime,
    status_lists: Sequence[StatusRef] = (),
) -> bytes:
    """The signed trust-list document for these trust entries (in log order) and the current
    version of every status list."""
    TrustView.from_entries(entries, operator.public_key)  # never sign a list that won't open
    unsigned: dict[str, Any] = {
        "format": FORMAT,
        "issued_at": format_time(now),
        "operator": base64.b64encode(operator.public_key).decode(),
        "log": {"origin": origin, "size": size},
        "entries": [base64.b64encode(e).decode() for e in entries],
        "status_lists": [
            {
                "list_id": ref.list_id,
                "issuer_id": ref.issuer_id,
                "version": ref.version,
                "revocation_sha256": ref.revocation_sha256,
                "suspension_sha256": ref.suspension_sha256,
            }
            for ref in sorted(status_lists, key=lambda r: r.list_id)
        ],
    }
    signature = operator.sign(rfc8785.dumps(unsigned))
    return rfc8785.dumps({**unsigned, "sig": base64.b64encode(signature).decode()})


def open_trust_list(data: bytes, operator_public_key: bytes) -> TrustList:
    """Check the operator's signature and every trust entry; raise if anything is off."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise MalformedError("malformed trust list: too large")
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise MalformedError("malformed trust list: unknown format")
        signature = base64.b64decode(doc.pop("sig"), validate=True)
        operator = base64.b64decode(doc["operator"], validate=True)
        entries = tuple(base64.b64decode(e, validate=True) for e in doc["entries"])
        issued_at = datetime.strptime(doc["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        origin, size = str(doc["log"]["origin"]), int(doc["log"]["size"])
        refs = {
            str(item["list_id"]): StatusRef(
                str(item["list_id"]), str(item["issuer_id"]), int(item["version"]),
                str(item["revocation_sha256"]), str(item["suspension_sha256"]),
            )
            for item in doc["status_lists"]
        }  # fmt: skip
    except (KeyError, TypeError, ValueError, binascii.Error, AttributeError):
        raise MalformedError("malformed trust list: not a trust-list document") from None
    if operator != operator_public_key:
        raise VerificationError("trust list signed by another operator than the one pinned")
    verify_actor_signature(operator, rfc8785.dumps(doc), signature)
    view = TrustView.from_entries(entries, operator)
    return TrustList(issued_at, origin, size, entries, view, refs)


def certification_body(
    issuer: dict[str, str], *, not_before: datetime, not_after: datetime
) -> dict[str, Any]:
    """The ``trust.issuer_certified`` body a state root signs for an issuer's public keys (as
    ``GET /v1/issuers/{id}`` returns them), for the issuer's own state's nationals."""
    return {
        "issuer_id": issuer["issuer_id"],
        "state": issuer["state"],
        "name": issuer["name"],
        "list_key": issuer["list_key"],
        "bbs_public_key": issuer["bbs_public_key"],
        "ciphersuite": issuer["ciphersuite"],
        "nationals": [issuer["state"]],
        "document_types": ["consular_id"],
        "not_before": format_time(not_before),
        "not_after": format_time(not_after),
    }
