"""One loader for the tlog test vectors in tests/vectors/tlog (see its README.md)."""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "tlog"


@cache
def load(name: str) -> Any:
    """The parsed JSON of ``tests/vectors/tlog/<name>.json``."""
    return json.loads((VECTOR_DIR / f"{name}.json").read_text(encoding="utf-8"))


def b64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def merkle_params(kind: str) -> list[Any]:
    """pytest params for the inclusion/consistency vectors, one id per upstream file."""
    vectors = load(f"merkle_{kind}_vectors")["vectors"]
    return [
        pytest.param(v, id=v["_file"].removeprefix("testdata/").removesuffix(".json"))
        for v in vectors
    ]


def note_params() -> list[Any]:
    return [pytest.param(n, id=n["id"]) for n in load("signed_notes")["notes"]]


def tessera() -> dict[str, Any]:
    """The Tessera 15-entry test log."""
    return load("tessera_testlog")


def tessera_files() -> dict[str, bytes]:
    """Every resource of the Tessera log as path → bytes (checkpoint = latest)."""
    log = tessera()
    files = {path: b64(data) for path, data in {**log["tiles"], **log["entry_bundles"]}.items()}
    files["checkpoint"] = log["checkpoints"]["checkpoint"].encode("utf-8")
    return files
