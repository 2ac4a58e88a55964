"""The entry types of trust, identity and credentials. No body holds personal data: subjects
appear as random pseudonyms, personal values only as salted commitments.

Who writes what, as the log enforces it:

* the operator adds a state's root key (``trust.state_root_added``);
* a state root certifies its consulates' issuer keys, delegates to another state's consulate,
  and revokes issuer keys (``trust.issuer_*``, ``trust.delegation_granted``);
* a certified issuer's Ed25519 key writes the registrations, credentials, record accesses and
  status-list publications of its consulate.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ledger.entries import ActorGrant, KeyId, StrictBody, ed25519_public_key, register

__all__ = [
    "ISSUER_TYPES",
    "ROOT_TYPES",
    "CredentialIssuedBody",
    "CredentialStatusBody",
    "DelegationBody",
    "IssuerCertifiedBody",
    "IssuerRevokedBody",
    "RecordAccessedBody",
    "RecordErasedBody",
    "StateRootBody",
    "StatusListPublishedBody",
    "SubjectRegisteredBody",
]

ROOT_TYPES = ("trust.issuer_certified", "trust.delegation_granted", "trust.issuer_revoked")
ISSUER_TYPES = ("subject.*", "credential.*", "record.*", "status_list.*")

State = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Time = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[a-z2-7]{26}$")]
Digest = Annotated[str, StringConstraints(min_length=44, max_length=44)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
DocTypes = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]],
    Field(min_length=1, max_length=8),
]
Nationals = Annotated[list[State], Field(min_length=1, max_length=64)]


def root_name(state: str) -> str:
    """The name a state's root key is admitted under."""
    return f"root of {state}"


class StateRootBody(StrictBody):
    """A state's root key: it certifies that state's consulates."""

    state: State
    name: Name
    key_id: KeyId
    public_key: Digest

    @model_validator(mode="after")
    def _key_matches(self) -> StateRootBody:
        ed25519_public_key(self.public_key, self.key_id, "trust.state_root_added")
        return self

    def admitted_actor(self) -> ActorGrant:
        key = ed25519_public_key(self.public_key, self.key_id, "trust.state_root_added")
        return ActorGrant(self.key_id, key, root_name(self.state), ROOT_TYPES)


class IssuerCertifiedBody(StrictBody):
    """A consulate's issuer keys, certified by its state's root for a scope and a period."""

    issuer_id: KeyId
    state: State
    name: Name
    list_key: Digest
    bbs_public_key: Annotated[str, StringConstraints(min_length=128, max_length=128)]
    ciphersuite: Literal["BLS12-381-SHA-256", "BLS12-381-SHAKE-256"]
    nationals: Nationals
    document_types: DocTypes
    not_before: Time
    not_after: Time

    def bbs_key(self) -> bytes:
        try:
            raw = base64.b64decode(self.bbs_public_key, validate=True)
        except binascii.Error:
            raise ValueError("bbs_public_key is not base64") from None
        if len(raw) != 96:
            raise ValueError("bbs_public_key must be 96 bytes")
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> IssuerCertifiedBody:
        ed25519_public_key(self.list_key, self.issuer_id, "trust.issuer_certified")
        self.bbs_key()
        if self.not_after <= self.not_before:
            raise ValueError("not_after must be later than not_before")
        if self.nationals != [self.state]:
            raise ValueError("a state root certifies issuers for its own nationals only")
        return self

    def admitted_actor(self) -> ActorGrant:
        key = ed25519_public_key(self.list_key, self.issuer_id, "trust.issuer_certified")
        return ActorGrant(self.issuer_id, key, self.name, ISSUER_TYPES)

    def required_actor_name(self) -> str:
        return root_name(self.state)


class DelegationBody(StrictBody):
    """A bilateral agreement: another state's consulate may serve this state's nationals."""

    state: State
    issuer_id: KeyId
    nationals: Nationals
    document_types: DocTypes
    not_after: Time

    @model_validator(mode="after")
    def _own_nationals(self) -> DelegationBody:
        if self.nationals != [self.state]:
            raise ValueError("a state delegates for its own nationals only")
        return self

    def required_actor_name(self) -> str:
        return root_name(self.state)


class IssuerRevokedBody(StrictBody):
    """An issuer key is not to be trusted for credentials issued from ``revoked_from`` on.
    ``state`` is the issuer's own state: only that state's root may revoke it."""

    issuer_id: KeyId
    state: State
    revoked_from: Time
    reason: Literal["compromised", "retired", "superseded"]

    def required_actor_name(self) -> str:
        return root_name(self.state)


class SubjectRegisteredBody(StrictBody):
    subject: Pseudonym
    commitment: Digest


Nonce = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class RecordAccessedBody(StrictBody):
    """One read of a personal record. ``nonce`` keeps two reads in the same second distinct."""

    nonce: Nonce
    subject: Pseudonym
    accessor: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    role: Literal["officer", "supervisor"]
    purpose: Literal[
        "issuance", "renewal", "correction", "consular_assistance", "subject_request", "oversight"
    ]


class RecordErasedBody(StrictBody):
    subject: Pseudonym


class CredentialIssuedBody(StrictBody):
    credential: Pseudonym
    commitment: Digest
    status_list: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
    status_index: Annotated[int, Field(ge=0, lt=2**24)]


class CredentialStatusBody(StrictBody):
    """A status change; ``nonce`` keeps e.g. suspend, reinstate, suspend in one second distinct."""

    nonce: Nonce
    credential: Pseudonym
    status: Literal["revoked", "suspended", "active"]


class StatusListPublishedBody(StrictBody):
    status_list: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
    purpose: Literal["revocation", "suspension"]
    version: Annotated[int, Field(ge=1)]
    sha256: Digest


register("trust.state_root_added", StateRootBody, "a state's root key joins the trust list")
register("trust.issuer_certified", IssuerCertifiedBody, "a state root certifies an issuer")
register("trust.delegation_granted", DelegationBody, "a state delegates to another's consulate")
register("trust.issuer_revoked", IssuerRevokedBody, "a state root revokes an issuer key")
register("subject.registered", SubjectRegisteredBody, "a national registered (pseudonym only)")
register("record.accessed", RecordAccessedBody, "someone read a personal record, and why")
register("record.erased", RecordErasedBody, "a personal record was crypto-shredded")
register("credential.issued", CredentialIssuedBody, "a credential was issued")
register("credential.status_changed", CredentialStatusBody, "revoked, suspended or reinstated")
register("status_list.published", StatusListPublishedBody, "a status list version was published")
