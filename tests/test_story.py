"""The consular-ID story end to end, as its people would live it: a real server, HTTP calls,
the ``consular-ledger`` and ``consular-wallet`` command lines, QR images decoded with zxing-cpp
— on SQLite and on PostgreSQL. Then the privacy checks: no personal value anywhere in the
database, the log, or any answer to a caller without the right role."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import LargeBinary, String, Text, inspect, text

from ledger.store.database import create_database_engine
from tests.api.server import Server, cli
from wallet.qr import make_qr, read_qr, render_png

PERSON = {
    "family_name": "Hernández López",
    "given_names": "María José",
    "birth_date": "1990-04-17",
    "nationality": "MEX",
    "place_of_birth": "Oaxaca",
    "address": "Calle de Atocha 12, 28012 Madrid",
}
SECRET_VALUES = [
    PERSON[k] for k in ("family_name", "given_names", "birth_date", "address", "place_of_birth")
] + ["MEX-C-12345678"]


def wallet_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wallet.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _contains_personal(blob: str | bytes) -> list[str]:
    """The personal values in ``blob``: raw UTF-8 or JSON-escaped (``\\u00e1``)."""
    data = blob.encode() if isinstance(blob, str) else bytes(blob)
    return [v for v in SECRET_VALUES if v.encode() in data or json.dumps(v)[1:-1].encode() in data]


def test_the_privacy_scanner_finds_what_it_looks_for() -> None:
    assert _contains_personal(json.dumps(PERSON)) == SECRET_VALUES[:-1]
    assert _contains_personal(json.dumps(PERSON, ensure_ascii=False).encode()) == SECRET_VALUES[:-1]
    assert _contains_personal(b"MEX-C-12345678") == ["MEX-C-12345678"]


def _scan_database(url: str) -> list[str]:
    """Every text and binary column of every table, searched for the personal values."""
    engine = create_database_engine(url)
    found = []
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    if not isinstance(column["type"], (String, Text, LargeBinary)):
                        continue
                    rows = conn.execute(text(f'SELECT "{column["name"]}" FROM "{table}"'))
                    for (value,) in rows:
                        if value is not None and _contains_personal(value):
                            found.append(f"{table}.{column['name']}")
    finally:
        engine.dispose()
    return found


@pytest.mark.slow
def test_the_consular_id_story(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path / "var", database_url).start()
    try:
        _story(server, tmp_path, database_url)
    finally:
        server.stop()


def _story(server: Server, tmp_path: Path, database_url: str) -> None:
    url = server.url
    ledger_env = {
        "CONSULAR_LEDGER_DATABASE_URL": database_url,
        "CONSULAR_LEDGER_ROOT_PASSPHRASE": "a long root passphrase for tests",
    }
    token_file = str(server.data_dir / "operator.token")
    http = httpx.Client(base_url=url, timeout=60)
    public_responses: list[bytes] = []

    # The state of Mexico's root key (kept offline by its ministry) and the consulate's keys.
    root_file = tmp_path / "root-mex.key"
    created = _ok(cli("trust", "root-key", "--out", str(root_file), env=ledger_env))
    root_public = created.split("public key: ")[1].strip()
    _ok(
        cli(
            "trust",
            "add-root",
            "--url",
            url,
            "--token-file",
            token_file,
            "--state",
            "MEX",
            "--name",
            "Secretaría de Relaciones Exteriores",
            "--public-key",
            root_public,
        )
    )
    made = _ok(
        cli(
            "issuer",
            "create",
            "--url",
            url,
            "--token-file",
            token_file,
            "--state",
            "MEX",
            "--name",
            "Consulate of Mexico in Madrid",
        )
    )
    issuer_id = made.split("issuer id: ")[1].strip()
    _ok(
        cli(
            "trust",
            "certify",
            "--root-key",
            str(root_file),
            "--issuer-id",
            issuer_id,
            "--url",
            url,
            "--token-file",
            token_file,
            env=ledger_env,
        )
    )
    for role in ("officer", "supervisor"):
        _ok(
            cli(
                "token",
                "create",
                "--role",
                role,
                "--issuer",
                issuer_id,
                "--out",
                str(tmp_path / f"{role}.token"),
                "--data-dir",
                str(server.data_dir),
                env=ledger_env,
            )
        )
    officer = {"Authorization": "Bearer " + (tmp_path / "officer.token").read_text().strip()}
    supervisor = {"Authorization": "Bearer " + (tmp_path / "supervisor.token").read_text().strip()}

    # Her phone: a wallet with its own trust cache; it shows its device key at the desk.
    phone = {
        "CONSULAR_WALLET_DIR": str(tmp_path / "phone"),
        "CONSULAR_VERIFIER_DIR": str(tmp_path / "phone-trust"),
        "CONSULAR_WALLET_PASSPHRASE": "her own long passphrase",
    }
    _ok(wallet_cli(phone, "init"))
    wallet_key = _ok(wallet_cli(phone, "key")).strip()

    # The officer registers María and issues her consular ID; the offer QR is sealed to it.
    registered = http.post("/v1/subjects", json={"record": PERSON}, headers=officer)
    assert registered.status_code == 201, registered.text
    subject, subject_token = registered.json()["subject"], registered.json()["subject_token"]
    issued = http.post(
        f"/v1/subjects/{subject}/credentials",
        headers=officer,
        json={"document_number": "MEX-C-12345678", "wallet_key": wallet_key},
    )
    assert issued.status_code == 201, issued.text
    document = issued.json()["document_id"]
    offer_png = tmp_path / "offer.png"
    render_png(issued.json()["offer_qr"], offer_png)

    # Her phone: a wallet with its own trust cache; it imports the offer from the QR image.
    trust_doc = http.get("/v1/trust-list")
    public_responses.append(trust_doc.content)
    operator_key = trust_doc.json()["operator"]
    bank = {"CONSULAR_VERIFIER_DIR": str(tmp_path / "bank")}
    _ok(wallet_cli(phone, "verifier", "sync", url, "--operator-key", operator_key))
    stranger = {**phone, "CONSULAR_WALLET_DIR": str(tmp_path / "stranger")}
    _ok(wallet_cli(stranger, "init"))
    stolen = wallet_cli(stranger, "import", str(offer_png))  # a photo of the desk screen
    assert stolen.returncode != 0 and "sealed for another wallet" in stolen.stderr
    _ok(wallet_cli(phone, "import", str(offer_png)))

    # At the bank: a challenge, a QR on the phone, an offline check of the photo of it.
    _ok(wallet_cli(bank, "verifier", "sync", url, "--operator-key", operator_key))
    challenge = secrets.token_hex(4)
    shown = tmp_path / "shown.png"
    _ok(
        wallet_cli(
            phone,
            "present",
            "--disclose",
            "name,birth_date,nationality,document_number",
            "--challenge",
            challenge,
            "--qr",
            str(shown),
        )
    )
    verdict = wallet_cli(bank, "verify", str(shown), "--challenge", challenge)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    for value in (
        "Hernández López",
        "María José",
        "1990-04-17",
        "MEX",
        "MEX-C-12345678",
        "Consulate of Mexico in Madrid",
    ):
        assert value in verdict.stdout
    for hidden in ("Oaxaca", "Atocha", "age_over_18", "holder_secret"):
        assert hidden not in verdict.stdout
    assert make_qr(read_qr(shown)).version <= 20  # the bank presentation, error correction M
    replayed = wallet_cli(bank, "verify", str(shown), "--challenge", challenge)
    assert replayed.returncode == 1 and "replayed" in replayed.stdout

    # The same QR, verified online instead (the service keeps its own replay memory).
    payload = read_qr(shown)
    online = http.post(
        "/v1/presentations/verify", json={"payload": payload, "challenge": challenge}
    )
    assert online.status_code == 200 and online.json()["valid"], online.text
    again = http.post("/v1/presentations/verify", json={"payload": payload, "challenge": challenge})
    assert again.json()["code"] == "replayed"

    # The consulate revokes the document; after the bank's next sync the scan says revoked.
    assert http.post(f"/v1/credentials/{document}/revoke", headers=officer).status_code == 200
    _ok(wallet_cli(bank, "verifier", "sync", url, "--operator-key", operator_key))
    challenge = secrets.token_hex(4)
    _ok(
        wallet_cli(
            phone, "present", "--disclose", "name", "--challenge", challenge, "--qr", str(shown)
        )
    )
    revoked = wallet_cli(bank, "verify", str(shown), "--challenge", challenge)
    assert revoked.returncode == 1 and "revoked" in revoked.stdout

    # Public answers carry no personal value.
    size = http.get("/v1/log/checkpoint").json()["size"]
    for path in (
        "/v1/log/checkpoint",
        "/log/checkpoint",
        f"/v1/log/entries?start=0&end={size}",
        "/v1/status-lists",
        f"/v1/issuers/{issuer_id}",
        "/log/tile/0/000.p/" + str(size),
        "/log/tile/entries/000.p/" + str(size),
    ):
        response = http.get(path)
        assert response.status_code == 200, path
        public_responses.append(response.content)
    for list_id in http.get("/v1/status-lists").json()["lists"]:
        public_responses.append(http.get(f"/v1/status-lists/{list_id}").content)
    history = http.get(
        f"/v1/subjects/{subject}/access-history",
        headers={"Authorization": f"Bearer {subject_token}"},
    )
    assert history.status_code == 200 and history.json()["events"]
    public_responses.append(history.content)
    for body in public_responses:
        assert _contains_personal(body) == []
    assert _scan_database(database_url) == []

    # Erasure: the record is gone for everyone; the log still audits.
    assert (
        http.delete(f"/v1/subjects/{subject}/personal-data", headers=supervisor).status_code == 200
    )
    gone = http.get(f"/v1/subjects/{subject}", params={"purpose": "oversight"}, headers=supervisor)
    assert gone.status_code == 410
    vkey = http.get("/v1/log/vkey").text.strip()
    audit = cli("audit", url, "--vkey", vkey, "--state", str(tmp_path / "audit.json"))
    assert audit.returncode == 0, audit.stdout + audit.stderr
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        vault = conn.execute(text("SELECT wrapped_key, ciphertext FROM subjects")).all()
    engine.dispose()
    assert vault == [(None, None)]
    http.close()


def test_the_demo_tells_the_story(tmp_path: Path) -> None:
    """The README's main command, run as a user runs it."""
    done = cli("demo", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID (valid)" in done.stdout and "INVALID (revoked)" in done.stdout
    assert "personal values found in the log: none" in done.stdout
    assert "The story holds." in done.stdout
    assert read_qr(tmp_path / "out" / "bank-presentation.png").startswith("CL1:")
