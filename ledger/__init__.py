"""Consular Ledger core: a signed, append-only RFC 9162 Merkle log and the cryptography around it.

Layers point down only: ``ledger.crypto``, ``ledger.formats`` and ``ledger.merkle`` do no I/O
and import neither the database nor the web layer, so the wallet and any auditor can use them alone.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
