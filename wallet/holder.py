"""The holder's side: create a wallet, import credential offers, list documents and present a
credential as a ``CL1:`` QR payload that discloses only what the holder chooses.

Example::

    wallet = Wallet.init(path, "correct horse battery staple")
    wallet.import_offer(offer_text, trust=TrustCache(cache_dir).load())
    payload = wallet.present(["name", "birth_date"], challenge=None, now=datetime.now(UTC))

Each document is a batch of credentials over the same attributes, each with its own random
status index. A presentation uses the least-used credential of the batch (ties: the lowest
index), so the same status index is not shown twice while an unused one remains: two verifiers
cannot link two visits through it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.crypto import bbs
from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import SealingKey
from ledger.errors import ConflictError, MalformedError, NotFoundError, VerificationError
from ledger.formats.credential import (
    ATTRIBUTES,
    NEVER_DISCLOSED,
    SCHEMA_ID,
    SCHEMA_VERSION,
    challenge_header,
    credential_header,
    disclosure_indexes,
    time_header,
)
from ledger.formats.offer import (
    SEALED_PREFIX,
    Offer,
    decode_offer,
    encode_offer_json,
    open_sealed_offer,
)
from ledger.formats.presentation import Ciphersuite, Presentation, encode_presentation
from wallet.store import WalletContents, WalletStore, sealing_key
from wallet.trust_cache import CacheSnapshot

__all__ = ["ALIASES", "DocumentSummary", "ImportResult", "Wallet", "expand_disclosure"]

ALIASES = {"name": ("family_name", "given_names")}
NOT_CHECKED = "not checked: no trust list"
_SUITE_CODES = {
    bbs.SHA256: Ciphersuite.BLS12_381_SHA_256,
    bbs.SHAKE256: Ciphersuite.BLS12_381_SHAKE_256,
}


def expand_disclosure(names: Sequence[str]) -> list[str]:
    """Attribute names for the holder's choice (``name`` = family and given names), plus the
    attributes every presentation discloses. Refuses unknown names and the holder secret."""
    chosen: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        expanded = ALIASES.get(name, (name,))
        for item in expanded:
            if item in NEVER_DISCLOSED:
                raise MalformedError(f"{item} is never disclosed")
            if item not in ATTRIBUTES:
                choices = ", ".join(["name", *(a for a in ATTRIBUTES if a not in NEVER_DISCLOSED)])
                raise MalformedError(f"unknown attribute {item!r}; choose from {choices}")
            chosen.append(item)
    return [ATTRIBUTES[i] for i in disclosure_indexes(chosen)]


@dataclass(frozen=True)
class ImportResult:
    document_number: str
    credentials: int
    issuer: str
    checked: str


@dataclass(frozen=True)
class DocumentSummary:
    position: int
    document_number: str
    issuer: str
    attributes: dict[str, str]
    credentials: int
    uses: tuple[int, ...]
    checked: str
    imported_at: str


class Wallet:
    """An opened wallet. Every change is saved (sealed) before the method returns."""

    def __init__(self, store: WalletStore, key: SealingKey, contents: WalletContents) -> None:
        self._store = store
        self._key = key
        self._contents = contents

    # --- lifecycle ------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        directory: Path | str,
        passphrase: str | bytes,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
        now: datetime | None = None,
    ) -> Wallet:
        """Create a wallet with a fresh Ed25519 device key; refuses to overwrite one."""
        store = WalletStore(directory)
        key = sealing_key(passphrase, opslimit=opslimit, memlimit=memlimit)
        created = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        contents = WalletContents(ActorKey.generate().seed, created, [])
        store.create(contents, key)
        return cls(store, key, contents)

    @classmethod
    def open(
        cls,
        directory: Path | str,
        passphrase: str | bytes,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> Wallet:
        """Open an existing wallet (the passphrase's Argon2 cost is read from the file; the
        limits given here apply when it is saved again)."""
        store = WalletStore(directory)
        key = sealing_key(passphrase, opslimit=opslimit, memlimit=memlimit)
        return cls(store, key, store.load(key))

    @property
    def device_key(self) -> ActorKey:
        return ActorKey(self._contents.device_seed)

    @property
    def device_public_key(self) -> bytes:
        return self.device_key.public_key

    def _save(self) -> None:
        self._store.save(self._contents, self._key)

    # --- import ---------------------------------------------------------------------------

    def import_offer(
        self, offer: str | bytes | Offer, *, trust: CacheSnapshot | None = None
    ) -> ImportResult:
        """Import a credential offer (JSON bytes, ``CLO1:`` text, or ``CLO2:`` text sealed to
        this wallet's device key).

        With a trust cache, the issuer must be on the trust list and every signature of the
        batch must verify under its BBS key, else nothing is imported. Without one the offer is
        imported unchecked, and the result says so.
        """
        if isinstance(offer, Offer):
            parsed = offer
        elif _text(offer).startswith(SEALED_PREFIX):
            parsed = open_sealed_offer(_text(offer), self._contents.device_seed)
        else:
            parsed = decode_offer(offer)
        existing = {c["id"] for doc in self._contents.documents for c in doc["credentials"]}
        if any(item.credential_id in existing for item in parsed.credentials):
            raise ConflictError("this offer is already in the wallet")
        if parsed.ciphersuite not in _SUITE_CODES:
            raise MalformedError("malformed offer: unknown ciphersuite")
        bbs_key: bytes | None = None
        issuer_name = parsed.common["issuing_consulate"]
        if trust is None:
            checked = NOT_CHECKED
        else:
            issuer = trust.trust.view.issuers.get(parsed.issuer_id)
            if issuer is None:
                raise VerificationError(
                    "the offer's issuer is not on the cached trust list: sync it and retry"
                )
            if issuer.ciphersuite != parsed.ciphersuite:
                raise VerificationError("the offer's ciphersuite is not the issuer's")
            header = credential_header()
            for item in parsed.credentials:
                messages = parsed.attributes(item).messages()
                if not bbs.verify(
                    issuer.bbs_public_key, item.signature, header, messages, parsed.ciphersuite
                ):
                    raise VerificationError(
                        "an offered credential's signature does not verify for the issuer's key: "
                        "refused"
                    )
            bbs_key = issuer.bbs_public_key
            issuer_name = issuer.name
            checked = (
                f"verified against the trust list issued {trust.trust.issued_at:%Y-%m-%d %H:%M} UTC"
            )
        self._contents.documents.append(
            {
                "offer": encode_offer_json(parsed).decode(),
                "credentials": [{"id": c.credential_id} for c in parsed.credentials],
                "uses": [0] * len(parsed.credentials),
                "bbs_public_key": base64.b64encode(bbs_key).decode() if bbs_key else None,
                "issuer": issuer_name,
                "checked": checked,
                "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        self._save()
        return ImportResult(
            parsed.common["document_number"], len(parsed.credentials), issuer_name, checked
        )

    # --- reading --------------------------------------------------------------------------

    def list(self) -> list[DocumentSummary]:
        result = []
        for position, doc in enumerate(self._contents.documents):
            offer = decode_offer(doc["offer"])
            result.append(
                DocumentSummary(
                    position,
                    offer.common["document_number"],
                    doc["issuer"],
                    {k: v for k, v in offer.common.items() if k not in NEVER_DISCLOSED},
                    len(offer.credentials),
                    tuple(doc["uses"]),
                    doc["checked"],
                    doc["imported_at"],
                )
            )
        return result

    # --- presenting -----------------------------------------------------------------------

    def present(
        self,
        disclose: Sequence[str],
        challenge: str | None,
        now: datetime,
        *,
        document: int | str | None = None,
        trust: CacheSnapshot | None = None,
    ) -> str:
        """The ``CL1:`` payload of a fresh proof disclosing ``disclose`` (plus the always
        disclosed attributes), bound to ``challenge`` or, without one, to ``now``.

        ``document`` picks a document by position or document number; default: the most
        recently imported one.
        """
        doc = self._pick(document)
        offer = decode_offer(doc["offer"])
        names = expand_disclosure(disclose)
        indexes = [ATTRIBUTES.index(name) for name in names]
        header = challenge_header(challenge) if challenge is not None else time_header(now)
        pk = self._issuer_key(doc, offer, trust)
        uses: list[int] = doc["uses"]
        position = min(range(len(uses)), key=lambda i: (uses[i], i))
        item = offer.credentials[position]
        messages = offer.attributes(item).messages()
        proof = bbs.proof_gen(
            pk, item.signature, credential_header(), header, messages, indexes, offer.ciphersuite
        )
        payload = encode_presentation(
            Presentation(
                issuer_key_id=bytes.fromhex(offer.issuer_id),
                ciphersuite=_SUITE_CODES[offer.ciphersuite],
                schema_id=SCHEMA_ID,
                schema_version=SCHEMA_VERSION,
                disclosed={i: messages[i] for i in indexes},
                presentation_header=header,
                proof=proof,
            )
        )
        uses[position] += 1
        self._save()  # counted before the code is shown
        return payload

    def _pick(self, document: int | str | None) -> dict:
        docs = self._contents.documents
        if not docs:
            raise NotFoundError("the wallet holds no document: import an offer first")
        if document is None:
            return docs[-1]
        if isinstance(document, int) or (isinstance(document, str) and document.isdigit()):
            position = int(document)
            if 0 <= position < len(docs):
                return docs[position]
        for doc in docs:
            if decode_offer(doc["offer"]).common["document_number"] == document:
                return doc
        raise NotFoundError("no such document in the wallet (see 'consular-wallet list')")

    def _issuer_key(self, doc: dict, offer: Offer, trust: CacheSnapshot | None) -> bytes:
        if doc.get("bbs_public_key"):
            return base64.b64decode(doc["bbs_public_key"])
        issuer = trust.trust.view.issuers.get(offer.issuer_id) if trust is not None else None
        if issuer is None:
            raise NotFoundError(
                "the issuer's public key is needed to present: sync a trust list that lists it"
            )
        header = credential_header()
        for item in offer.credentials:  # checked now, since the import could not check it
            if not bbs.verify(
                issuer.bbs_public_key,
                item.signature,
                header,
                offer.attributes(item).messages(),
                offer.ciphersuite,
            ):
                raise VerificationError(
                    "a credential's signature does not verify for the issuer's key"
                )
        doc["bbs_public_key"] = base64.b64encode(issuer.bbs_public_key).decode()
        doc["issuer"] = issuer.name
        doc["checked"] = "verified against the trust list when first presented"
        return issuer.bbs_public_key


def _text(data: str | bytes) -> str:
    return (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).strip()
