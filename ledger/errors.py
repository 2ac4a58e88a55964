"""The one exception root of the ledger, with its two branches.

* :class:`InvalidDataError` — data that cannot be trusted: malformed input, a bad signature,
  a proof that does not verify, an expired or revoked credential. Retrying will not help.
* :class:`UnavailableError` — the service cannot answer now (store down, back-pressure).
  Retrying later may help.

Ledger errors carry no HTTP status; ``api`` maps each class to a problem type in one place.
Messages never contain personal data or secrets.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidDataError",
    "LedgerError",
    "MalformedError",
    "NotFoundError",
    "TooLargeError",
    "UnavailableError",
    "VerificationError",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class InvalidDataError(LedgerError):
    """Data that cannot be trusted or used as given."""


class MalformedError(InvalidDataError, ValueError):
    """Input that does not parse or breaks a format rule; raised before any cryptography runs."""


class TooLargeError(MalformedError):
    """Input over a documented size limit; rejected before it is parsed further."""


class VerificationError(InvalidDataError):
    """Well-formed input whose signature, proof or consistency check failed."""


class NotFoundError(LedgerError):
    """The thing asked for does not exist (yet)."""


class GoneError(NotFoundError):
    """The thing existed but is gone for good (e.g. erased personal data)."""


class ForbiddenError(LedgerError):
    """The caller is known but not allowed to do this."""


class ConflictError(LedgerError):
    """The request contradicts the current state (e.g. a duplicate)."""


class UnavailableError(LedgerError):
    """The ledger cannot serve this now; retrying later may succeed."""
