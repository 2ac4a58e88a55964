"""The two ciphersuites of draft-irtf-cfrg-bbs-signatures-09 and their fixed parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._errors import BBSFormatError
from ._hashing import expand_message_xmd_sha256, expand_message_xof_shake256

__all__ = ["SHA256", "SHAKE256", "Ciphersuite", "ciphersuite"]

SHA256 = "BLS12-381-SHA-256"
"""Name of the ``BBS_BLS12381G1_XMD:SHA-256_SSWU_RO_H2G_HM2S_`` ciphersuite (the default)."""

SHAKE256 = "BLS12-381-SHAKE-256"
"""Name of the ``BBS_BLS12381G1_XOF:SHAKE-256_SSWU_RO_H2G_HM2S_`` ciphersuite."""


@dataclass(frozen=True)
class Ciphersuite:
    """The parameters that differ between the two suites: identifiers and the expander."""

    name: str
    ciphersuite_id: bytes
    expand_message: Callable[[bytes, bytes, int], bytes]

    @property
    def api_id(self) -> bytes:
        """Identifier of the hash-to-scalar message interface, prefix of every DST."""
        return self.ciphersuite_id + b"H2G_HM2S_"

    @property
    def base_point_seed(self) -> bytes:
        """The generator seed of the base point P1 (draft §7: "BP_MESSAGE_GENERATOR_SEED")."""
        return self.ciphersuite_id + b"H2G_HM2S_BP_MESSAGE_GENERATOR_SEED"


_SUITES = {
    SHA256: Ciphersuite(
        name=SHA256,
        ciphersuite_id=b"BBS_BLS12381G1_XMD:SHA-256_SSWU_RO_",
        expand_message=expand_message_xmd_sha256,
    ),
    SHAKE256: Ciphersuite(
        name=SHAKE256,
        ciphersuite_id=b"BBS_BLS12381G1_XOF:SHAKE-256_SSWU_RO_",
        expand_message=expand_message_xof_shake256,
    ),
}


def ciphersuite(name: str) -> Ciphersuite:
    """The ciphersuite called ``name`` (``SHA256`` or ``SHAKE256``)."""
    try:
        return _SUITES[name]
    except (KeyError, TypeError):
        raise BBSFormatError(
            f"unknown ciphersuite: expected one of {sorted(_SUITES)}, got {name!r}"
        ) from None
