"""Build a small consular world with no server: an operator, state roots, issuers, a signed trust
list, signed status lists and credential offers — everything the wallet and the verifier need.

Reusable outside the wallet tests (the bench uses it too)::

    world = World.build(now)                       # MEX and GTM roots, Madrid (MEX) issuer
    offer = world.offer(world.madrid, batch=5)     # a CLO1:-ready Offer of 5 credentials
    trust = world.trust_list()                     # signed trust-list document bytes
    docs = world.status_documents()                # {list_id: (issuer_id, revocation, suspension)}
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ledger.crypto import bbs
from ledger.crypto.actor_keys import ActorKey
from ledger.formats.credential import (
    ATTRIBUTES,
    CredentialAttributes,
    age_over,
    credential_header,
)
from ledger.formats.entry import format_time, sign_entry
from ledger.formats.offer import Offer, OfferedCredential, split_attributes
from ledger.formats.presentation import Ciphersuite, Presentation, encode_presentation
from ledger.formats.status_list import StatusList, encode_status_list, new_bits, set_status
from ledger.trust import StatusRef, build_trust_list

__all__ = ["FAMILY_NAME", "IssuerKeys", "World", "attributes_for", "make_presentation"]

FAMILY_NAME = "Quetzalcoatl-Ruiz"
GIVEN_NAMES = "Guadalupe Itzel"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class IssuerKeys:
    """A consulate's keys: Ed25519 list key (its id names the issuer) and a BBS key pair."""

    name: str
    state: str
    list_key: ActorKey
    bbs_sk: bytes
    bbs_pk: bytes
    list_id: str
    revoked: set[int] = field(default_factory=set)
    suspended: set[int] = field(default_factory=set)

    @property
    def issuer_id(self) -> str:
        return self.list_key.key_id

    @classmethod
    def generate(cls, name: str, state: str, list_id: str) -> IssuerKeys:
        sk = bbs.keygen(os.urandom(32))
        return cls(name, state, ActorKey.generate(), sk, bbs.sk_to_pk(sk), list_id)


def attributes_for(
    issuer: IssuerKeys,
    *,
    nationality: str,
    issue_date: date,
    expiry: str,
    status_index: int,
    document_number: str = "MX-C-00012345",
    birth_date: str = "1990-04-17",
    holder_secret: str = "hs-4b1d7f0e9a2c",
) -> CredentialAttributes:
    return CredentialAttributes(
        document_number=document_number,
        family_name=FAMILY_NAME,
        given_names=GIVEN_NAMES,
        birth_date=birth_date,
        age_over_18=str(age_over(birth_date, 18, issue_date)).lower(),
        age_over_21=str(age_over(birth_date, 21, issue_date)).lower(),
        nationality=nationality,
        issuing_consulate=issuer.name,
        issue_date=issue_date.isoformat(),
        expiry=expiry,
        status_list_id=issuer.list_id,
        status_index=str(status_index),
        holder_secret=holder_secret,
    )


@dataclass
class World:
    now: datetime
    operator: ActorKey
    roots: dict[str, ActorKey]
    madrid: IssuerKeys  # Consulate of Mexico in Madrid, certified by MEX for MEX nationals
    guatemala: IssuerKeys  # Consulate of Guatemala in Madrid, certified by GTM for GTM nationals
    rogue: IssuerKeys  # never certified
    entries: list[bytes] = field(default_factory=list)
    _next_index: int = 1000

    @classmethod
    def build(cls, now: datetime | None = None) -> World:
        now = now or datetime.now(UTC)
        world = cls(
            now=now,
            operator=ActorKey.generate(),
            roots={"MEX": ActorKey.generate(), "GTM": ActorKey.generate()},
            madrid=IssuerKeys.generate("Consulate of Mexico in Madrid", "MEX", "mex-mad-1"),
            guatemala=IssuerKeys.generate("Consulate of Guatemala in Madrid", "GTM", "gtm-mad-1"),
            rogue=IssuerKeys.generate("Consulate of Nowhere", "MEX", "rogue-1"),
        )
        t = now - timedelta(days=400)
        for state, root in world.roots.items():
            world.add(
                "trust.state_root_added",
                {
                    "state": state,
                    "name": f"Root of {state}",
                    "key_id": root.key_id,
                    "public_key": _b64(root.public_key),
                },
                world.operator,
                t,
            )
        for issuer in (world.madrid, world.guatemala):
            world.certify(issuer, not_before=now - timedelta(days=365))
        return world

    def add(self, entry_type: str, body: dict, signer: ActorKey, time: datetime) -> None:
        self.entries.append(sign_entry(entry_type, body, signer, time=time).encode())

    def certify(
        self, issuer: IssuerKeys, *, not_before: datetime, not_after: datetime | None = None
    ) -> None:
        self.add(
            "trust.issuer_certified",
            {
                "issuer_id": issuer.issuer_id,
                "state": issuer.state,
                "name": issuer.name,
                "list_key": _b64(issuer.list_key.public_key),
                "bbs_public_key": _b64(issuer.bbs_pk),
                "ciphersuite": bbs.SHA256,
                "nationals": [issuer.state],
                "document_types": ["consular_id"],
                "not_before": format_time(not_before),
                "not_after": format_time(not_after or self.now + timedelta(days=3650)),
            },
            self.roots[issuer.state],
            not_before,
        )

    def delegate(self, state: str, issuer: IssuerKeys, *, not_after: datetime) -> None:
        """``state`` lets ``issuer`` (another state's consulate) serve its nationals."""
        self.add(
            "trust.delegation_granted",
            {
                "state": state,
                "issuer_id": issuer.issuer_id,
                "nationals": [state],
                "document_types": ["consular_id"],
                "not_after": format_time(not_after),
            },
            self.roots[state],
            self.now - timedelta(days=30),
        )

    def revoke_issuer(self, issuer: IssuerKeys, *, revoked_from: datetime) -> None:
        self.add(
            "trust.issuer_revoked",
            {
                "issuer_id": issuer.issuer_id,
                "state": issuer.state,
                "revoked_from": format_time(revoked_from),
                "reason": "compromised",
            },
            self.roots[issuer.state],
            revoked_from,
        )

    def trust_list(self, *, now: datetime | None = None, operator: ActorKey | None = None) -> bytes:
        """The operator-signed trust list, naming the current version of every status list."""
        return build_trust_list(
            self.entries,
            operator or self.operator,
            origin="ledger.example/test",
            size=len(self.entries) + 10,
            now=now or self.now,
            status_lists=[
                StatusRef.of(list_id, issuer_id, 1, revocation, suspension)
                for list_id, (issuer_id, revocation, suspension) in self.status_documents().items()
            ],
        )

    def status_document(self, issuer: IssuerKeys, purpose: str, *, version: int = 1) -> bytes:
        bits = new_bits()
        for index in issuer.revoked if purpose == "revocation" else issuer.suspended:
            bits = set_status(bits, index, True)
        status_list = StatusList(
            list_id=issuer.list_id,
            issuer_key_id=issuer.issuer_id,
            purpose=purpose,  # type: ignore[arg-type]
            version=version,
            issued_at=format_time(self.now - timedelta(hours=1)),
            bits=bits,
        )
        return encode_status_list(status_list, issuer.list_key.sign)

    def status_documents(self) -> dict[str, tuple[str, bytes, bytes]]:
        return {
            issuer.list_id: (
                issuer.issuer_id,
                self.status_document(issuer, "revocation"),
                self.status_document(issuer, "suspension"),
            )
            for issuer in (self.madrid, self.guatemala)
        }

    def offer(
        self,
        issuer: IssuerKeys,
        *,
        batch: int = 5,
        nationality: str | None = None,
        issue_date: date | None = None,
        expiry: str | None = None,
        document_number: str = "MX-C-00012345",
    ) -> Offer:
        """A batch of credentials over the same attributes, each with its own status index."""
        issue_date = issue_date or (self.now - timedelta(days=30)).date()
        expiry = expiry or f"{self.now.year + 5}-06"
        credentials = []
        common: dict[str, str] | None = None
        for n in range(batch):
            index = self._next_index
            self._next_index += 7
            attrs = attributes_for(
                issuer,
                nationality=nationality or issuer.state,
                issue_date=issue_date,
                expiry=expiry,
                status_index=index,
                document_number=document_number,
            )
            common = split_attributes(attrs)
            signature = bbs.sign(
                issuer.bbs_sk, issuer.bbs_pk, credential_header(), attrs.messages()
            )
            credentials.append(
                OfferedCredential(f"cred-{index}-{n}", issuer.list_id, index, signature)
            )
        assert common is not None
        return Offer(
            issuer_id=issuer.issuer_id,
            ciphersuite=bbs.SHA256,
            common=common,
            credentials=tuple(credentials),
        )


def make_presentation(
    issuer: IssuerKeys,
    offer: Offer,
    names: list[str],
    header: bytes,
    *,
    position: int = 0,
    schema: tuple[int, int] = (1, 1),
    issuer_key_id: bytes | None = None,
) -> str:
    """A ``CL1:`` payload made directly (no wallet): disclose exactly the attributes ``names``."""
    item = offer.credentials[position]
    messages = offer.attributes(item).messages()
    indexes = sorted(ATTRIBUTES.index(name) for name in names)
    proof = bbs.proof_gen(
        issuer.bbs_pk, item.signature, credential_header(), header, messages, indexes
    )
    return encode_presentation(
        Presentation(
            issuer_key_id=issuer_key_id or bytes.fromhex(offer.issuer_id),
            ciphersuite=Ciphersuite.BLS12_381_SHA_256,
            schema_id=schema[0],
            schema_version=schema[1],
            disclosed={i: messages[i] for i in indexes},
            presentation_header=header,
            proof=proof,
        )
    )
