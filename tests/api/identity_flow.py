"""Setting up a consulate through the API, as the tests and the demo do: the operator admits a
state root, the consulate's issuer keys are created here, the root certifies them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.crypto.actor_keys import ActorKey
from ledger.formats.entry import format_time, sign_entry


@dataclass
class Consulate:
    issuer: dict[str, Any]
    root: ActorKey
    officer_token: str


def _ok(response, status: int = 201):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def setup_consulate(
    http,  # type: ignore[no-untyped-def]
    operator_token: str,
    make_token,  # type: ignore[no-untyped-def]
    *,
    state: str = "MEX",
    name: str = "Consulate of Mexico in Madrid",
    root: ActorKey | None = None,
    nationals: list[str] | None = None,
) -> Consulate:
    auth = {"Authorization": f"Bearer {operator_token}"}
    root = root or ActorKey.generate()
    if root is not None and nationals is None:
        _ok(
            http.post(
                "/v1/trust/roots",
                json={
                    "state": state,
                    "name": f"Ministry of Foreign Affairs of {state}",
                    "public_key": base64.b64encode(root.public_key).decode(),
                },
                headers=auth,
            )
        )
    issuer = _ok(http.post("/v1/issuers", json={"state": state, "name": name}, headers=auth))
    now = datetime.now(UTC)
    body = {
        "issuer_id": issuer["issuer_id"],
        "state": state,
        "name": name,
        "list_key": issuer["list_key"],
        "bbs_public_key": issuer["bbs_public_key"],
        "ciphersuite": issuer["ciphersuite"],
        "nationals": nationals or [state],
        "document_types": ["consular_id"],
        "not_before": format_time(now - timedelta(days=1)),
        "not_after": format_time(now + timedelta(days=3650)),
    }
    certification = sign_entry("trust.issuer_certified", body, root).encode()
    _ok(http.post("/v1/log/entries", content=certification, headers=auth))
    return Consulate(issuer, root, make_token("officer", issuer["issuer_id"]))
