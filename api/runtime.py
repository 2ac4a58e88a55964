"""Starting an instance: database, migrations, sealed keys and the log service, in that order.

Shared by the web app and the CLI so that both start (and fail) the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from api.config import CONFIG_FILE, Settings
from ledger import keyring
from ledger.crypto.vault import Vault
from ledger.errors import UnavailableError
from ledger.sequencer import BatchObserver
from ledger.services.context import IdentityContext
from ledger.services.log import LogService
from ledger.store.database import create_database_engine
from ledger.store.migrate import current_revision, head_revision, upgrade
from ledger.store.tokens import create_token

__all__ = ["Runtime", "init_instance", "start_runtime"]


@dataclass
class Runtime:
    """A running instance's parts; ``close`` integrates what is queued and releases the DB."""

    settings: Settings
    engine: Engine
    log: LogService
    identity: IdentityContext

    def close(self) -> None:
        self.log.close()
        self.engine.dispose()


def _prepare_schema(settings: Settings, engine: Engine) -> None:
    if settings.migrate_on_start:
        upgrade(engine)
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise UnavailableError(
            f"database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `consular-ledger db upgrade`"
        )


def start_runtime(settings: Settings, *, on_batch: BatchObserver | None = None) -> Runtime:
    """Open the database (migrating unless told not to), unseal the keys, start the log.

    In development mode a fresh data directory is initialised on the fly.
    """
    if settings.dev and not keyring.key_path(settings.key_dir, "log").exists():
        init_instance(settings)
    sealing = settings.sealing_key()
    log_key = keyring.load_key(settings.key_dir, "log", sealing)
    operator = keyring.load_key(settings.key_dir, "operator", sealing)
    engine = create_database_engine(settings.resolved_database_url)
    try:
        _prepare_schema(settings, engine)
        service = LogService(engine, log_key, settings.log_config(), on_batch=on_batch)
        service.bootstrap(operator)
        identity = IdentityContext(
            engine,
            service,
            sealing,
            Vault(settings.vault_kek()),
            operator,
            append_timeout=settings.append_timeout_s,
        )
    except BaseException:
        engine.dispose()
        raise
    return Runtime(settings, engine, service, identity)


@dataclass(frozen=True)
class InitResult:
    data_dir: Path
    created_keys: tuple[str, ...]
    token_file: Path | None


def init_instance(settings: Settings) -> InitResult:
    """Create the data directory, sealed keys, config file, schema and an operator token.

    Idempotent: existing keys are kept; a token file is written only when none exists. The token
    goes to a 0600 file, never to the terminal.
    """
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    sealing = settings.sealing_key()
    created = []
    for name in keyring.KEY_NAMES:
        if not keyring.key_path(settings.key_dir, name).exists():
            keyring.create_key(settings.key_dir, name, sealing)
            created.append(name)
    config = data_dir / CONFIG_FILE
    if not config.exists():
        config.write_text(
            "# Written by `consular-ledger init`; environment variables override these.\n"
            f"CONSULAR_LEDGER_ORIGIN={settings.origin}\n"
            f"CONSULAR_LEDGER_DATABASE_URL={settings.resolved_database_url}\n"
        )
    engine = create_database_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        token_file = data_dir / "operator.token"
        written = None
        if not token_file.exists():
            token = create_token(engine, "operator", "created by init")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(token + "\n")
            written = token_file
    finally:
        engine.dispose()
    return InitResult(data_dir, tuple(created), written)
