"""Service settings, read once from the environment (prefix ``CONSULAR_LEDGER_``) and from
``<data_dir>/config.env`` written by ``consular-ledger init``; environment variables win.

Secrets (passphrase, master key) are ``SecretStr`` so they never appear in a repr or a log.
Outside development the key-sealing secret must be given and must not be a placeholder.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.crypto.sealed import SealingKey
from ledger.errors import MalformedError
from ledger.sequencer import SequencerConfig
from ledger.services.log import LogConfig

__all__ = ["CONFIG_FILE", "DEV_MASTER_KEY_FILE", "Settings", "load_settings"]

CONFIG_FILE = "config.env"
DEV_MASTER_KEY_FILE = "dev-master.key"
DEV_VAULT_KEY_FILE = "dev-vault.key"
_PLACEHOLDERS = {"changeme", "change-me", "password", "secret", "passphrase", "example"}


class Settings(BaseSettings):
    """Everything the service reads at start. Validated at once; a bad value stops the start."""

    model_config = SettingsConfigDict(env_prefix="CONSULAR_LEDGER_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    origin: str = "consular-ledger.localhost/log"
    passphrase: SecretStr | None = None
    master_key: SecretStr | None = None  # base64 of 32 bytes
    vault_key: SecretStr | None = None  # base64 of 32 bytes: wraps the personal records' keys
    dev: bool = False
    migrate_on_start: bool = True
    batch_max_size: int = Field(256, ge=1, le=4096)
    batch_max_wait_ms: int = Field(100, ge=0, le=10_000)
    batch_idle_ms: int = Field(5, ge=0, le=10_000)
    append_timeout_s: float = Field(30.0, gt=0)

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        LogConfig(origin=value)  # raises ValueError with the rule
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'consular-ledger.db'}"

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"

    def log_config(self) -> LogConfig:
        return LogConfig(
            origin=self.origin,
            sequencer=SequencerConfig(
                max_batch=self.batch_max_size,
                max_wait=self.batch_max_wait_ms / 1000,
                idle=self.batch_idle_ms / 1000,
            ),
        )

    def sealing_key(self) -> SealingKey:
        """The key that seals the service's private keys at rest.

        In development only, a random master key is kept in ``<data_dir>/dev-master.key``
        (mode 0600) so the service starts with no set-up; never use that in production.
        """
        if _given(self.master_key):
            assert self.master_key is not None
            try:
                raw = base64.b64decode(self.master_key.get_secret_value(), validate=True)
            except binascii.Error:
                raise MalformedError("CONSULAR_LEDGER_MASTER_KEY is not base64") from None
            return SealingKey(master_key=raw)
        if _given(self.passphrase):
            assert self.passphrase is not None
            phrase = self.passphrase.get_secret_value()
            if not self.dev and phrase.lower() in _PLACEHOLDERS:
                raise MalformedError("CONSULAR_LEDGER_PASSPHRASE is a placeholder; set a real one")
            return SealingKey(passphrase=phrase.encode())
        if self.dev:
            return SealingKey(master_key=_dev_key(self.data_dir / DEV_MASTER_KEY_FILE))
        raise MalformedError(
            "no key-sealing secret: set CONSULAR_LEDGER_PASSPHRASE or CONSULAR_LEDGER_MASTER_KEY "
            "(or use --dev on a development machine)"
        )

    def vault_kek(self) -> bytes:
        """The key-encryption key of the personal-records vault (32 bytes)."""
        if _given(self.vault_key):
            assert self.vault_key is not None
            try:
                raw = base64.b64decode(self.vault_key.get_secret_value(), validate=True)
            except binascii.Error:
                raise MalformedError("CONSULAR_LEDGER_VAULT_KEY is not base64") from None
            if len(raw) != 32:
                raise MalformedError("CONSULAR_LEDGER_VAULT_KEY must be 32 bytes")
            return raw
        if self.dev:
            return _dev_key(self.data_dir / DEV_VAULT_KEY_FILE)
        raise MalformedError(
            "no vault key: set CONSULAR_LEDGER_VAULT_KEY (base64 of 32 random bytes)"
        )


def _given(secret: SecretStr | None) -> bool:
    """An empty environment variable counts as not set."""
    return secret is not None and bool(secret.get_secret_value())


def _dev_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return base64.b64decode(path.read_text().strip())


def load_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment and ``<data_dir>/config.env``, then ``overrides``."""
    base = Settings() if data_dir is None else Settings(data_dir=data_dir)
    env_file = base.data_dir / CONFIG_FILE
    kwargs: dict[str, object] = {"data_dir": base.data_dir, **overrides}
    settings = Settings(_env_file=env_file if env_file.exists() else None, **kwargs)  # type: ignore[call-arg]
    return settings
