"""``consular-ledger demo``: the whole consular-ID story on a fresh SQLite file, in one command.

A real server (uvicorn on a loopback port), real HTTP calls, the wallet library, QR images
written to disk and read back with a QR decoder. Each step prints what happened and what the
log learned. Nothing here is mocked: it is the product, driven in order.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app
from api.config import Settings
from ledger.audit import FetchError, audit_log
from ledger.crypto.actor_keys import ActorKey
from ledger.formats.credential import ALWAYS_DISCLOSED
from ledger.formats.entry import sign_entry
from ledger.formats.note import parse_vkey
from ledger.replay import EntryReplayer
from ledger.store.database import create_database_engine
from ledger.store.tokens import create_token
from ledger.trust import certification_body
from wallet.holder import Wallet
from wallet.qr import make_qr, read_qr, render_png
from wallet.trust_cache import TrustCache
from wallet.verifier import MemoryReplayStore, Verdict, verify_image

__all__ = ["run_demo"]

PERSON = {
    "family_name": "Hernández López",
    "given_names": "María José",
    "birth_date": "1990-04-17",
    "nationality": "MEX",
    "place_of_birth": "Oaxaca",
    "address": "Calle de Atocha 12, 28012 Madrid",
}
BANK_DISCLOSES = ["name", "birth_date", "nationality", "document_number"]


@dataclass
class DemoResult:
    """What the demo produced, for its test."""

    out_dir: Path
    first_verdict: Verdict
    after_revocation: Verdict
    audit_ok: bool
    personal_values_in_log: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _server(settings: Settings) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
    return response.json()


def _verdict_lines(verdict: Verdict) -> list[str]:
    lines = [f"{'VALID' if verdict.valid else 'INVALID'} ({verdict.code}): {verdict.message}"]
    if verdict.issuer:
        lines.append(f"issued by {verdict.issuer}")
    chosen = {k: v for k, v in verdict.attributes.items() if k not in ALWAYS_DISCLOSED}
    checks = {k: v for k, v in verdict.attributes.items() if k in ALWAYS_DISCLOSED}
    if chosen:
        lines.append("disclosed by the holder:")
        lines += [f"  {name:18} {value}" for name, value in chosen.items()]
    if checks:
        lines.append(
            "shown on every presentation, for the offline checks: "
            + ", ".join(f"{k}={v}" for k, v in checks.items())
        )
    if verdict.trust_age_s is not None:
        lines.append(
            f"trust list age {verdict.trust_age_s:.0f} s; status age "
            f"{verdict.status_age_s or 0:.0f} s"
        )
    return lines


def run_demo(
    out_dir: Path, say: Callable[[str, list[str]], None], data_dir: Path | None = None
) -> DemoResult:
    """Run the story; ``say(step title, detail lines)`` reports each step."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="consular-ledger-demo-"))
    data_dir = data_dir or work / "var"
    settings = Settings(data_dir=data_dir, dev=True, batch_max_wait_ms=10)
    with _server(settings) as url, httpx.Client(base_url=url, timeout=60) as http:
        operator_token = (data_dir / "operator.token").read_text().strip()
        as_operator = {"Authorization": f"Bearer {operator_token}"}
        engine = create_database_engine(settings.resolved_database_url)
        say(
            "The ledger is running",
            [
                f"{url} on {settings.resolved_database_url}",
                f"log verifier key: {http.get('/v1/log/vkey').text.strip()}",
            ],
        )

        root = ActorKey.generate()  # in real life: held offline by the Mexican foreign ministry
        _ok(
            http.post(
                "/v1/trust/roots",
                headers=as_operator,
                json={
                    "state": "MEX",
                    "name": "Secretaría de Relaciones Exteriores (Mexico)",
                    "public_key": base64.b64encode(root.public_key).decode(),
                },
            )
        )
        issuer = _ok(
            http.post(
                "/v1/issuers",
                headers=as_operator,
                json={"state": "MEX", "name": "Consulate of Mexico in Madrid"},
            )
        )
        now = datetime.now(UTC)
        body = certification_body(
            issuer, not_before=now - timedelta(minutes=1), not_after=now + timedelta(days=5 * 365)
        )
        certified = _ok(
            http.post(
                "/v1/log/entries",
                headers=as_operator,
                content=sign_entry("trust.issuer_certified", body, root).encode(),
            )
        )
        say(
            "Mexico's root key certifies the Consulate of Mexico in Madrid",
            [
                f"issuer {issuer['issuer_id']} (BBS key for credentials, Ed25519 key for lists)",
                f"certification logged at index {certified['index']}",
            ],
        )

        officer = {
            "Authorization": "Bearer "
            + create_token(engine, "officer", "demo desk officer", issuer_id=issuer["issuer_id"])
        }
        registered = _ok(http.post("/v1/subjects", headers=officer, json={"record": PERSON}))
        logged = _ok(http.get(f"/v1/log/entries/{registered['log_index']}"))["entry"]
        say(
            "A consular officer registers María José Hernández López",
            [
                f"pseudonym {registered['subject']}; the record is stored encrypted",
                f"the log got only: {json.dumps(logged['body'])}",
            ],
        )

        wallet = Wallet.init(work / "phone-wallet", secrets.token_urlsafe(16))
        wallet_key = base64.b64encode(wallet.device_public_key).decode()
        issued = _ok(
            http.post(
                f"/v1/subjects/{registered['subject']}/credentials",
                headers=officer,
                json={"document_number": "MEX-C-12345678", "wallet_key": wallet_key},
            )
        )
        offer_png = out_dir / "offer.png"
        render_png(issued["offer_qr"], offer_png, scale=4)
        say(
            "Her phone wallet shows its device key; the consulate issues her consular ID, a batch "
            "of 5 BBS credentials, as a QR sealed to that key",
            [
                f"document {issued['document_id']}; log indexes {issued['log_indexes']}",
                f"offer QR (only her wallet can open it): {offer_png}",
            ],
        )

        operator_key = http.get("/v1/trust-list").json()["operator"]
        wallet_cache = TrustCache(work / "phone-trust")
        wallet_cache.sync(url, base64.b64decode(operator_key))
        imported = wallet.import_offer(read_qr(offer_png), trust=wallet_cache.load())
        say(
            "Her wallet scans the offer QR, opens it with its device key and imports it",
            [f"{imported.credentials} credentials, every signature checked against the trust list"],
        )

        bank = TrustCache(work / "bank-verifier")
        bank.sync(url, base64.b64decode(operator_key))
        replay = MemoryReplayStore()

        def visit_bank(image: Path) -> tuple[str, str, Verdict]:
            """She shows a fresh QR for the bank's challenge; the bank verifies the picture."""
            challenge = secrets.token_hex(4)
            payload = wallet.present(
                BANK_DISCLOSES, challenge, datetime.now(UTC), trust=wallet_cache.load()
            )
            render_png(payload, image)
            verdict = verify_image(
                image, bank.load(), now=datetime.now(UTC), expected_challenge=challenge,
                max_trust_age=timedelta(days=7), max_status_age=timedelta(days=1), replay=replay,
            )  # fmt: skip
            return challenge, payload, verdict

        shown = out_dir / "bank-presentation.png"
        challenge, payload, first = visit_bank(shown)
        version = make_qr(payload).version
        say(
            f"At the bank: she shows a QR code for challenge {challenge}; the bank verifies it "
            "offline",
            [
                f"{len(payload)} characters, QR version {version} at error correction M: {shown}",
                *_verdict_lines(first),
            ],
        )

        _ok(http.post(f"/v1/credentials/{issued['document_id']}/revoke", headers=officer))
        bank.sync(url, base64.b64decode(operator_key))
        _, _, second = visit_bank(out_dir / "bank-presentation-after-revocation.png")
        say(
            "The consulate revokes the document; the bank refreshes its status lists and scans "
            "again",
            _verdict_lines(second),
        )

        vkey = parse_vkey(http.get("/v1/log/vkey").text.strip())
        report = audit_log(
            lambda p: _fetch(http, p), vkey, None, None, check_entry=EntryReplayer().check
        )
        size = report.checkpoint.size if report.checkpoint else 0
        entries = _ok(http.get("/v1/log/entries", params={"start": 0, "end": size}))["entries"]
        text = json.dumps(entries, ensure_ascii=False)
        # nationality is left out: "MEX" is also the state code in every trust entry
        leaks = [v for k, v in PERSON.items() if k != "nationality" and v in text]
        say(
            "Oversight audits the whole log from its public tiles",
            [
                f"{'OK' if report.ok else 'FAILED'}: {report.entries_checked} entries, "
                f"{report.tiles_checked} tiles re-derived; checkpoint signature valid",
                f"entry types: {sorted({e['entry']['type'] for e in entries})}",
                "personal values found in the log: " + (", ".join(leaks) or "none"),
            ]
            + [f"  problem: {p}" for p in report.problems[:5]],
        )
        engine.dispose()
    return DemoResult(out_dir, first, second, report.ok, leaks)


def _fetch(http: httpx.Client, path: str) -> bytes:
    response = http.get(f"/log/{path}")
    if response.status_code != 200:
        raise FetchError(f"HTTP {response.status_code}")
    return response.content
