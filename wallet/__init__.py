"""The phone-wallet side of Consular Ledger: it runs offline and never touches a database.

* :mod:`wallet.holder` / :mod:`wallet.store` — the migrant's wallet: a sealed file (Argon2id
  passphrase → XSalsa20-Poly1305) holding the device key and imported credential offers; it
  presents a credential as a ``CL1:`` payload disclosing only what the holder chooses.
* :mod:`wallet.verifier` — offline verification of a presentation (from a QR picture or the
  payload text) into a :class:`~wallet.verifier.Verdict` with one code per failure.
* :mod:`wallet.trust_cache` — the signed trust list and status lists a verifier last fetched.
* :mod:`wallet.qr` — QR rendering (PNG, SVG, terminal) and reading.
* :mod:`wallet.cli` — the ``consular-wallet`` command.

Only :mod:`ledger.crypto`, :mod:`ledger.formats`, :mod:`ledger.trust` and :mod:`ledger.errors`
are used from the core.
"""

__all__ = ["cli", "holder", "qr", "store", "trust_cache", "verifier"]
