"""The CLI against a real server: init, tokens, append, show, and the auditor's verdicts —
including tampering with the database behind the server's back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from api.config import Settings
from ledger import keyring
from ledger.formats.entry import sign_entry
from ledger.store.database import create_database_engine
from ledger.store.models import CheckpointRow

from .server import Server, cli


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    running = Server(tmp_path / "var", database_url).start()
    yield running
    running.stop()


def _fill(server: Server, count: int) -> None:
    import httpx

    settings = Settings(data_dir=server.data_dir, dev=True)
    operator = keyring.load_key(settings.key_dir, "operator", settings.sealing_key())
    entries = [
        sign_entry("log.note", {"text": f"note {i}"}, operator).encode() for i in range(count)
    ]
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as c, ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda e: c.post("/v1/log/entries", content=e).status_code, entries))
    assert codes == [201] * count


def _audit(server: Server, state: Path) -> tuple[int, str]:
    done = cli("audit", server.url, "--vkey", server.vkey, "--state", str(state))
    return done.returncode, done.stdout + done.stderr


def test_cli_append_show_and_audit(server: Server, tmp_path: Path) -> None:
    token_file = server.data_dir / "operator.token"
    done = cli(
        "log",
        "append",
        "--url",
        server.url,
        "--token-file",
        str(token_file),
        "--dev",
        "--data-dir",
        str(server.data_dir),
        "--type",
        "log.note",
        "--body",
        '{"text": "hi"}',
    )
    assert done.returncode == 0, done.stderr
    assert "entry 1 in a tree of size 2" in done.stdout
    shown = cli("log", "show", "--url", server.url)
    assert shown.returncode == 0 and "size   2" in shown.stdout
    state = tmp_path / "audit.json"
    code, output = _audit(server, state)
    assert code == 0, output
    assert "OK" in output and "at size 2" in output and state.exists()
    _fill(server, 3)
    code, output = _audit(server, state)
    assert code == 0 and "consistent with size 2 seen before" in output


def test_cli_errors_are_one_line_and_non_zero(server: Server, tmp_path: Path) -> None:
    bad_body = cli(
        "log",
        "append",
        "--url",
        server.url,
        "--token-file",
        str(server.data_dir / "operator.token"),
        "--dev",
        "--data-dir",
        str(server.data_dir),
        "--type",
        "log.note",
        "--body",
        "{oops",
    )
    assert bad_body.returncode != 0 and "--body is not JSON" in bad_body.stderr
    assert "Traceback" not in bad_body.stderr
    wrong_type = cli(
        "log",
        "append",
        "--url",
        server.url,
        "--token-file",
        str(server.data_dir / "operator.token"),
        "--dev",
        "--data-dir",
        str(server.data_dir),
        "--type",
        "log.nope",
        "--body",
        "{}",
    )
    assert wrong_type.returncode == 1 and "unknown entry type 'log.nope'" in wrong_type.stderr
    unreachable = cli("log", "show", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
    bad_vkey = cli("audit", server.url, "--vkey", "nonsense")
    assert bad_vkey.returncode == 1 and "Traceback" not in bad_vkey.stderr
    tokens = cli(
        "token",
        "create",
        "--role",
        "wizard",
        "--out",
        str(tmp_path / "t"),
        "--data-dir",
        str(server.data_dir),
        env={"CONSULAR_LEDGER_DATABASE_URL": server.env["CONSULAR_LEDGER_DATABASE_URL"]},
    )
    assert tokens.returncode == 1 and "unknown role 'wizard'" in tokens.stderr
    assert not (tmp_path / "t").exists()


def test_token_create_writes_a_private_file(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "auditor.token"
    done = cli(
        "token",
        "create",
        "--role",
        "auditor",
        "--out",
        str(out),
        "--data-dir",
        str(server.data_dir),
        env={"CONSULAR_LEDGER_DATABASE_URL": server.env["CONSULAR_LEDGER_DATABASE_URL"]},
    )
    assert done.returncode == 0, done.stderr
    token = out.read_text().strip()
    assert token not in done.stdout + done.stderr
    assert out.stat().st_mode & 0o777 == 0o600


def _flip(value: bytes, at: int) -> bytes:
    return value[:at] + bytes([value[at] ^ 0x01]) + value[at + 1 :]


TAMPERING = {
    "entry byte": ("entries", "data", "idx = 17", 40, "entry 17"),
    "leaf hash": ("tree_nodes", "hash", "level = 0 AND idx = 200", 5, "entry 200: leaf hash"),
    "subtree hash": ("tree_nodes", "hash", "level = 8 AND idx = 0", 0, "tile/1/000.p/1"),
    "first entry": ("entries", "data", "idx = 0", 3, "entry 0"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_audit_reports_one_changed_byte(server: Server, tmp_path: Path, case: str) -> None:
    _fill(server, 299)
    state = tmp_path / "audit.json"
    assert _audit(server, state)[0] == 0
    table, column, where, at, expected = TAMPERING[case]
    engine = create_database_engine(server.env["CONSULAR_LEDGER_DATABASE_URL"])
    with engine.begin() as conn:
        old = conn.execute(text(f"SELECT {column} FROM {table} WHERE {where}")).scalar_one()
        conn.execute(
            text(f"UPDATE {table} SET {column} = :v WHERE {where}"), {"v": _flip(bytes(old), at)}
        )
    engine.dispose()
    code, output = _audit(server, state)
    assert code == 1, output
    assert "FAILED" in output and expected in output


def test_audit_reports_a_rewritten_checkpoint(server: Server, tmp_path: Path) -> None:
    _fill(server, 3)
    engine = create_database_engine(server.env["CONSULAR_LEDGER_DATABASE_URL"])
    with engine.begin() as conn:
        size, note = conn.execute(
            select(CheckpointRow.size, CheckpointRow.note).order_by(CheckpointRow.size.desc())
        ).first()
        lines = note.split("\n")
        lines[2] = "A" * 43 + "="
        conn.execute(
            update(CheckpointRow).where(CheckpointRow.size == size).values(note="\n".join(lines))
        )
    engine.dispose()
    code, output = _audit(server, tmp_path / "audit.json")
    assert code == 1 and "checkpoint" in output
