"""Use cases of the ledger over the store: the log itself, then identity and consent."""
