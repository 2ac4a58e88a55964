from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from ledger import keyring
from ledger.crypto.actor_keys import ActorKey
from ledger.formats.entry import sign_entry


@dataclass
class Instance:
    client: TestClient
    settings: Settings
    operator: ActorKey
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def note(self, text: str, key: ActorKey | None = None) -> bytes:
        return sign_entry("log.note", {"text": text}, key or self.operator).encode()

    def append(self, data: bytes, **params: object):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/v1/log/entries",
            content=data,
            headers={**self.auth, "Content-Type": "application/json"},
            params=params,
        )

    def state(self) -> tuple[int, str]:
        cp = self.client.get("/v1/log/checkpoint").json()
        return cp["size"], cp["note"]


def make_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var", database_url=database_url, dev=True, batch_max_wait_ms=5
    )


@pytest.fixture
def instance(tmp_path: Path, database_url: str) -> Iterator[Instance]:
    settings = make_settings(tmp_path, database_url)
    with TestClient(create_app(settings)) as client:
        operator = keyring.load_key(settings.key_dir, "operator", settings.sealing_key())
        token = (settings.data_dir / "operator.token").read_text().strip()
        yield Instance(client, settings, operator, token)
