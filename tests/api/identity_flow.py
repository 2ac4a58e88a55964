"""Setting up a consulate through the API, as the tests and the demo do: the operator admits a
state root, the consulate's issuer keys are created here, the root certifies them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.crypto.actor_keys import ActorKey
from ledger.formats.entry import sign_entry
from ledger.trust import certification_body


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
) -> Consulate:
    """A certified consulate; a new root for ``state`` is admitted unless ``root`` is given."""
    auth = {"Authorization": f"Bearer {operator_token}"}
    if root is None:
        root = ActorKey.generate()
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
    body = certification_body(
        issuer, not_before=now - timedelta(days=1), not_after=now + timedelta(days=3650)
    )
    certification = sign_entry("trust.issuer_certified", body, root).encode()
    _ok(http.post("/v1/log/entries", content=certification, headers=auth))
    return Consulate(issuer, root, make_token("officer", issuer["issuer_id"]))
