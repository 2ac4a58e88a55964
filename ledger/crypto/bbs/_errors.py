"""The one exception this package raises for input that breaks a BBS encoding or API rule."""

from __future__ import annotations

from ledger.errors import MalformedError

__all__ = ["BBSFormatError"]


class BBSFormatError(MalformedError):
    """Malformed BBS input: a wrong length, an invalid point or scalar, bad message indexes.

    Raised before (or instead of) any verification equation is checked, so a caller can tell
    "this is not a BBS object at all" apart from "this object does not verify" (``False``).
    """
