"""Loader for the draft's BBS fixture files in tests/vectors/bbs/ (hex-encoded JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ledger.crypto.bbs import SHA256, SHAKE256

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "bbs"
SUITE_DIRS = {SHA256: "bls12-381-sha-256", SHAKE256: "bls12-381-shake-256"}
SUITES = (SHA256, SHAKE256)


def suite_dir(suite: str) -> Path:
    return VECTORS / SUITE_DIRS[suite]


@cache
def load(suite: str, name: str) -> dict[str, Any]:
    """One fixture file, e.g. load(SHA256, "keypair") or load(SHA256, "proof/proof003")."""
    return json.loads((suite_dir(suite) / f"{name}.json").read_text())


def h(value: str) -> bytes:
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Case:
    suite: str
    name: str  # e.g. "signature001"
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{SUITE_DIRS[self.suite]}/{self.name}"


def cases(kind: str) -> list[Case]:
    """All signature or proof fixtures of both suites, in file order."""
    out = []
    for suite in SUITES:
        for path in sorted((suite_dir(suite) / kind).glob("*.json")):
            out.append(Case(suite, path.stem, load(suite, f"{kind}/{path.stem}")))
    return out
