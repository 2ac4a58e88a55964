"""Start-up settings: secrets are required outside development and refused when placeholders."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from api.config import Settings
from api.runtime import init_instance, start_runtime
from ledger.errors import MalformedError, UnavailableError

from .server import cli


def test_production_needs_a_real_secret(tmp_path: Path) -> None:
    with pytest.raises(MalformedError, match="CONSULAR_LEDGER_PASSPHRASE"):
        Settings(data_dir=tmp_path).sealing_key()
    with pytest.raises(MalformedError, match="placeholder"):
        Settings(data_dir=tmp_path, passphrase="changeme").sealing_key()
    with pytest.raises(MalformedError, match="CONSULAR_LEDGER_VAULT_KEY"):
        Settings(data_dir=tmp_path).vault_kek()
    with pytest.raises(MalformedError, match="32 bytes"):
        Settings(data_dir=tmp_path, vault_key=base64.b64encode(b"x" * 8).decode()).vault_kek()
    with pytest.raises(ValueError, match="origin"):
        Settings(data_dir=tmp_path, origin="has space")
    assert "changeme" not in repr(Settings(data_dir=tmp_path, passphrase="changeme"))


def test_init_then_start_with_a_master_key(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        master_key=base64.b64encode(b"k" * 32).decode(),
        vault_key=base64.b64encode(b"v" * 32).decode(),
    )
    first = init_instance(settings)
    assert set(first.created_keys) == {"log", "operator"} and first.token_file is not None
    assert init_instance(settings).created_keys == ()  # idempotent: keys kept
    runtime = start_runtime(settings)
    try:
        assert runtime.log.store.size() == 1  # the operator's own key, first
    finally:
        runtime.close()
    wrong = Settings(
        data_dir=tmp_path / "var",
        master_key=base64.b64encode(b"z" * 32).decode(),
        vault_key=base64.b64encode(b"v" * 32).decode(),
    )
    with pytest.raises(Exception, match="wrong passphrase or key"):
        start_runtime(wrong)


def test_an_old_schema_is_refused_when_migrations_are_off(tmp_path: Path) -> None:
    init_instance(Settings(data_dir=tmp_path / "var", dev=True))
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings(
        data_dir=tmp_path / "var", dev=True, migrate_on_start=False, database_url=empty
    )
    with pytest.raises(UnavailableError, match="consular-ledger db upgrade"):
        start_runtime(settings)
    done = cli(
        "db",
        "upgrade",
        "--data-dir",
        str(tmp_path / "var"),
        env={"CONSULAR_LEDGER_DATABASE_URL": empty},
    )
    assert done.returncode == 0 and "revision" in done.stdout
    start_runtime(settings).close()


def test_init_without_a_secret_fails_in_one_line(tmp_path: Path) -> None:
    done = cli(
        "init",
        "--data-dir",
        str(tmp_path / "var"),
        env={"CONSULAR_LEDGER_PASSPHRASE": "", "CONSULAR_LEDGER_MASTER_KEY": ""},
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "CONSULAR_LEDGER" in done.stderr
