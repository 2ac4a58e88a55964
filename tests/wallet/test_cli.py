"""``consular-wallet``: init, import, list, present, verify and verifier sync, with exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.formats.offer import encode_offer_json, encode_offer_qr
from tests.wallet.conftest import PASSPHRASE
from tests.wallet.issuing import FAMILY_NAME, World
from wallet.cli import main, parse_duration
from wallet.qr import render_png
from wallet.trust_cache import TrustCache

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("CONSULAR_WALLET_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CONSULAR_WALLET_DIR", str(tmp_path / "wallet"))
    monkeypatch.setenv("CONSULAR_VERIFIER_DIR", str(tmp_path / "verifier"))
    return {"wallet": tmp_path / "wallet", "verifier": tmp_path / "verifier", "tmp": tmp_path}


@pytest.fixture
def live_world(env: dict[str, Path]) -> World:
    """A world at the real current time, with the verifier cache synced now (the CLI uses the
    clock)."""
    now = datetime.now(UTC)
    world = World.build(now)
    TrustCache(env["verifier"]).save(
        trust_list=world.trust_list(),
        operator_public_key=world.operator.public_key,
        status_lists=world.status_documents(),
        fetched_at=now,
    )
    return world


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (
        (code if isinstance(code, int) else (0 if code is None else 1)),
        captured.out,
        captured.err,
    )


def _init_and_import(capsys, env, world) -> None:
    assert run(capsys, "init")[0] == 0
    offer_file = env["tmp"] / "offer.json"
    offer_file.write_bytes(encode_offer_json(world.offer(world.madrid, batch=3)))
    code, out, _ = run(capsys, "import", str(offer_file))
    assert code == 0
    assert "3 credentials" in out
    assert "verified against the trust list" in out


def test_full_flow(capsys, env, live_world) -> None:
    _init_and_import(capsys, env, live_world)
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert FAMILY_NAME in out  # the holder sees their own data
    assert "hs-" not in out  # never the holder secret

    png = env["tmp"] / "code.png"
    code, _, err = run(
        capsys,
        "present",
        "--disclose",
        "name,birth_date,nationality,document_number",
        "--qr",
        str(png),
    )
    assert code == 0, err
    assert png.read_bytes().startswith(b"\x89PNG")

    code, out, _ = run(capsys, "verify", str(png))
    assert code == 0, out
    assert out.startswith("VALID")
    assert "Consulate of Mexico in Madrid (MEX)" in out
    assert FAMILY_NAME in out and "birth_date" in out
    assert "trust list  fetched" in out and "status list fetched" in out

    code, out, _ = run(capsys, "verify", str(png))  # the same code again
    assert code == 1
    assert out.startswith("INVALID") and "replayed" in out


def test_present_payload_challenge_and_terminal(capsys, env, live_world) -> None:
    _init_and_import(capsys, env, live_world)
    code, out, _ = run(capsys, "present", "--disclose", "age_over_18", "--challenge", "bank-42")
    assert code == 0
    payload = out.strip()
    assert payload.startswith("CL1:")
    assert run(capsys, "verify", payload, "--challenge", "bank-41")[1].count("wrong_challenge") == 1
    code, out, _ = run(capsys, "verify", payload, "--challenge", "bank-42")
    assert code == 0, out
    code, out, _ = run(capsys, "present", "--disclose", "name", "--qr", "-")
    assert code == 0
    assert "█" in out or "▀" in out or "▄" in out
    svg = env["tmp"] / "code.svg"
    assert run(capsys, "present", "--qr", str(svg))[0] == 0
    assert b"<svg" in svg.read_bytes()


def test_import_from_qr_picture(capsys, env, live_world) -> None:
    assert run(capsys, "init")[0] == 0
    picture = env["tmp"] / "offer.png"
    render_png(encode_offer_qr(live_world.offer(live_world.madrid, batch=2)), picture)
    code, out, _ = run(capsys, "import", str(picture))
    assert code == 0, out
    assert "2 credentials" in out


def test_verify_invalid_inputs(capsys, env, live_world) -> None:
    garbage = env["tmp"] / "garbage.png"
    garbage.write_bytes(b"not a picture")
    code, out, _ = run(capsys, "verify", str(garbage))
    assert code == 1 and "unreadable_image" in out
    code, out, _ = run(capsys, "verify", "XX1:ABCDEF")
    assert code == 1 and "malformed_payload" in out
    code, _, err = run(capsys, "verify", str(env["tmp"] / "missing.png"))
    assert code == 2 and "no such file" in err


def test_verify_without_cache_is_environment_error(capsys, env) -> None:
    code, _, err = run(capsys, "verify", "CL1:ABC")
    assert code == 2
    assert "verifier sync" in err
    assert "Traceback" not in err


def test_usage_errors(capsys, env, live_world) -> None:
    assert run(capsys, "verify", "CL1:ABC", "--max-trust-age", "soon")[0] == 2
    assert run(capsys, "verifier", "sync", "http://127.0.0.1:9", "--operator-key", "abc")[0] == 2


def test_wrong_passphrase_one_line(capsys, env, live_world, monkeypatch) -> None:
    assert run(capsys, "init")[0] == 0
    monkeypatch.setenv("CONSULAR_WALLET_PASSPHRASE", "not the passphrase at all")
    code, out, err = run(capsys, "list")
    assert code == 1
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_no_wallet(capsys, env) -> None:
    code, _, err = run(capsys, "present", "--disclose", "name")
    assert code == 1 and "consular-wallet init" in err


def test_sync_unreachable_server(capsys, env, live_world) -> None:
    import base64

    key = base64.b64encode(live_world.operator.public_key).decode()
    code, _, err = run(capsys, "verifier", "sync", "http://127.0.0.1:9", "--operator-key", key)
    assert code == 1
    assert "cannot fetch" in err and "Traceback" not in err


def test_parse_duration() -> None:
    assert parse_duration("7d").total_seconds() == 7 * 86400
    assert parse_duration("1d12h").total_seconds() == 36 * 3600
    assert parse_duration("90s").total_seconds() == 90


def test_subprocess_exit_codes(env, live_world) -> None:
    """The real entry point: no traceback, exit 1 for an invalid code, 2 without a cache."""
    command = [sys.executable, "-m", "wallet.cli", "verify", "CL1:%%%%"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    invalid = subprocess.run(
        command, capture_output=True, text=True, env=environ, cwd=ROOT, check=False
    )
    assert invalid.returncode == 1, invalid.stderr
    assert "malformed_payload" in invalid.stdout
    environ["CONSULAR_VERIFIER_DIR"] = str(env["tmp"] / "none")
    missing = subprocess.run(
        command, capture_output=True, text=True, env=environ, cwd=ROOT, check=False
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
