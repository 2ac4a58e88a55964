"""A credential offer: what the consulate hands the migrant's wallet — a batch of BBS
credentials over the same attributes, each with its own status-list index.

JSON for the API; for import at the desk, the same content as a QR payload sealed to the
holder's wallet: ``"CLO2:" + base45(SealedBox_wallet(zlib(CBOR)))``. The wallet shows its device
key first; the offer is encrypted to it (X25519 from the Ed25519 device key, libsodium sealed
box), so a photo of the desk screen is not a copy of someone's ID. The plain ``"CLO1:"`` form
exists for files handed over by other means. An offer holds personal data: it goes only to the
officer who issued it and to the holder's wallet.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing

from ledger.errors import MalformedError
from ledger.formats._inflate import inflate
from ledger.formats.base45 import b45decode, b45encode
from ledger.formats.credential import ATTRIBUTES, SCHEMA_ID, SCHEMA_VERSION, CredentialAttributes

__all__ = [
    "FORMAT",
    "QR_PREFIX",
    "SEALED_PREFIX",
    "Offer",
    "OfferError",
    "OfferedCredential",
    "decode_offer",
    "encode_offer_json",
    "encode_offer_qr",
    "open_sealed_offer",
    "seal_offer",
    "split_attributes",
    "wallet_box",
]

FORMAT = "consular-ledger/offer/v1"
QR_PREFIX = "CLO1:"
SEALED_PREFIX = "CLO2:"
MAX_BATCH = 32
_MAX_CBOR = 64 * 1024
_PER_CREDENTIAL = ("status_list_id", "status_index")
_COMMON = tuple(name for name in ATTRIBUTES if name not in _PER_CREDENTIAL)


class OfferError(MalformedError):
    """An offer that cannot be imported."""


@dataclass(frozen=True)
class OfferedCredential:
    credential_id: str
    status_list_id: str
    status_index: int
    signature: bytes


@dataclass(frozen=True)
class Offer:
    issuer_id: str
    ciphersuite: str
    common: Mapping[str, str]
    credentials: tuple[OfferedCredential, ...]
    schema_id: int = SCHEMA_ID
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if set(self.common) != set(_COMMON):
            raise OfferError("malformed offer: wrong attribute names")
        if not 1 <= len(self.credentials) <= MAX_BATCH:
            raise OfferError(f"malformed offer: 1..{MAX_BATCH} credentials")
        if (self.schema_id, self.schema_version) != (SCHEMA_ID, SCHEMA_VERSION):
            raise OfferError("malformed offer: unsupported credential schema")
        for item in self.credentials:
            if len(item.signature) != 80:
                raise OfferError("malformed offer: a BBS signature is 80 bytes")
            self.attributes(item)

    def attributes(self, item: OfferedCredential) -> CredentialAttributes:
        """The full signed attribute list of one credential of the batch."""
        return CredentialAttributes.from_dict(
            {
                **self.common,
                "status_list_id": item.status_list_id,
                "status_index": str(item.status_index),
            }
        )


def _to_obj(offer: Offer, binary: bool) -> dict[str, Any]:
    def enc(data: bytes) -> Any:
        return data if binary else base64.b64encode(data).decode()

    return {
        "format": FORMAT,
        "issuer_id": offer.issuer_id,
        "ciphersuite": offer.ciphersuite,
        "schema": [offer.schema_id, offer.schema_version],
        "attributes": dict(offer.common),
        "credentials": [
            {
                "id": c.credential_id,
                "status_list_id": c.status_list_id,
                "status_index": c.status_index,
                "signature": enc(c.signature),
            }
            for c in offer.credentials
        ],
    }


def encode_offer_json(offer: Offer) -> bytes:
    return json.dumps(_to_obj(offer, binary=False), ensure_ascii=False, indent=1).encode()


def encode_offer_qr(offer: Offer) -> str:
    return QR_PREFIX + b45encode(zlib.compress(cbor2.dumps(_to_obj(offer, binary=True)), 9))


def wallet_box(wallet_key: bytes) -> nacl.public.SealedBox:
    """The sealed box for a wallet's Ed25519 device key; refuses anything that is not one."""
    try:
        curve = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(wallet_key)
    except (nacl.exceptions.CryptoError, TypeError, ValueError):
        raise OfferError("malformed wallet key: not an Ed25519 public key") from None
    return nacl.public.SealedBox(nacl.public.PublicKey(curve))


def seal_offer(offer: Offer, wallet_key: bytes) -> str:
    """The ``CLO2:`` QR text: the offer encrypted to the wallet's Ed25519 device key."""
    plain = zlib.compress(cbor2.dumps(_to_obj(offer, binary=True)), 9)
    return SEALED_PREFIX + b45encode(wallet_box(wallet_key).encrypt(plain))


def open_sealed_offer(text: str, device_seed: bytes) -> Offer:
    """Open a ``CLO2:`` offer with the wallet's device key; another wallet cannot."""
    signing = nacl.signing.SigningKey(device_seed)
    box = nacl.public.SealedBox(signing.to_curve25519_private_key())
    try:
        sealed = b45decode(text.strip()[len(SEALED_PREFIX) :])
        plain = box.decrypt(sealed)
    except (MalformedError, nacl.exceptions.CryptoError):
        raise OfferError("this offer was sealed for another wallet, or is damaged") from None
    return _from_cbor(plain)


def _from_cbor(compressed: bytes) -> Offer:
    try:
        raw = inflate(compressed, _MAX_CBOR)
    except ValueError as exc:
        raise OfferError(f"malformed offer: {exc}") from None
    try:
        obj = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError):
        raise OfferError("malformed offer: not a CBOR offer") from None
    return _from_obj(obj, binary=True)


def _from_obj(obj: Any, binary: bool) -> Offer:
    def dec(value: Any) -> bytes:
        if binary:
            if not isinstance(value, bytes):
                raise TypeError("signature")
            return value
        return base64.b64decode(value, validate=True)

    try:
        if obj["format"] != FORMAT:
            raise OfferError("malformed offer: unknown format")
        schema_id, schema_version = obj["schema"]
        credentials = tuple(
            OfferedCredential(
                str(c["id"]), str(c["status_list_id"]), int(c["status_index"]), dec(c["signature"])
            )
            for c in obj["credentials"]
        )
        return Offer(
            issuer_id=str(obj["issuer_id"]),
            ciphersuite=str(obj["ciphersuite"]),
            common={str(k): str(v) for k, v in obj["attributes"].items()},
            credentials=credentials,
            schema_id=int(schema_id),
            schema_version=int(schema_version),
        )
    except OfferError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
        raise OfferError("malformed offer: missing or mistyped fields") from None


def decode_offer(data: bytes | str) -> Offer:
    """An offer from its JSON bytes or its ``CLO1:`` QR text."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    stripped = text.strip()
    if stripped.startswith(SEALED_PREFIX):
        raise OfferError("this offer is sealed for a wallet: open it with the wallet's key")
    if stripped.startswith(QR_PREFIX):
        try:
            compressed = b45decode(stripped[len(QR_PREFIX) :])
        except MalformedError:
            raise OfferError("malformed offer: not a CLO1: payload") from None
        return _from_cbor(compressed)
    try:
        obj = json.loads(stripped)
    except ValueError:
        raise OfferError("malformed offer: neither JSON nor a CLO1: payload") from None
    return _from_obj(obj, binary=False)


def split_attributes(attrs: CredentialAttributes) -> dict[str, str]:
    """The attributes shared by every credential of a batch."""
    values = attrs.as_dict()
    return {name: values[name] for name in _COMMON}
