"""Backend selection: environment variable, in-process override, per-call choice."""

from __future__ import annotations

import sys

import pytest

from ledger.crypto import bbs
from ledger.crypto.bbs import _backends


@pytest.fixture(autouse=True)
def _restore_default() -> object:
    yield
    _backends.set_default_backend(None)


def test_fast_is_the_default_when_it_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bbs.BACKEND_ENV_VAR, raising=False)
    _backends.set_default_backend(None)
    assert bbs.available_backends() == [bbs.FAST, bbs.REFERENCE]
    assert bbs.default_backend_name() == bbs.FAST


@pytest.mark.parametrize("name", [bbs.REFERENCE, bbs.FAST])
def test_env_var_forces_a_backend(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(bbs.BACKEND_ENV_VAR, name)
    _backends.set_default_backend(None)
    assert bbs.default_backend_name() == name


def test_env_var_rejects_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bbs.BACKEND_ENV_VAR, "turbo")
    _backends.set_default_backend(None)
    with pytest.raises(bbs.BackendUnavailableError, match="must be 'fast' or 'reference'"):
        bbs.default_backend_name()


def test_forcing_fast_fails_clearly_when_the_wheel_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_backends, "_instances", {})
    monkeypatch.setitem(sys.modules, "py_arkworks_bls12381", None)
    monkeypatch.delitem(sys.modules, "ledger.crypto.bbs._backend_fast", raising=False)
    monkeypatch.setenv(bbs.BACKEND_ENV_VAR, "fast")
    _backends.set_default_backend(None)
    with pytest.raises(bbs.BackendUnavailableError, match="py-arkworks-bls12381"):
        bbs.default_backend_name()
    monkeypatch.delenv(bbs.BACKEND_ENV_VAR)
    _backends.set_default_backend(None)
    assert bbs.default_backend_name() == bbs.REFERENCE
    assert bbs.available_backends() == [bbs.REFERENCE]


def test_set_default_backend_and_per_call_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bbs.BACKEND_ENV_VAR, raising=False)
    bbs.set_default_backend(bbs.REFERENCE)
    assert bbs.default_backend_name() == bbs.REFERENCE
    sk = bbs.keygen(b"s" * 32)
    assert bbs.sk_to_pk(sk) == bbs.sk_to_pk(sk, backend=bbs.FAST)
    with pytest.raises(bbs.BBSFormatError, match="unknown BBS backend"):
        bbs.set_default_backend("gpu")
