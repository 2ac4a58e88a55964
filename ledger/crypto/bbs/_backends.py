"""Choosing the group backend: the native one when it imports, else the pure-Python reference.

``CONSULAR_LEDGER_BBS_BACKEND`` (``reference`` or ``fast``) overrides the automatic choice when
the default is first needed; :func:`set_default_backend` overrides it in-process, and every
public BBS function also takes a ``backend=`` argument.
"""

from __future__ import annotations

import os
import threading

from ._errors import BBSFormatError
from ._group import Backend

__all__ = [
    "BACKEND_ENV_VAR",
    "FAST",
    "REFERENCE",
    "BackendUnavailableError",
    "available_backends",
    "default_backend",
    "get_backend",
    "set_default_backend",
]

BACKEND_ENV_VAR = "CONSULAR_LEDGER_BBS_BACKEND"
FAST = "fast"
REFERENCE = "reference"

_lock = threading.Lock()
_instances: dict[str, Backend] = {}
_default: str | None = None


class BackendUnavailableError(RuntimeError):
    """The requested backend cannot be loaded (e.g. the native wheel is not installed)."""


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``"fast"`` or ``"reference"``), loaded once."""
    with _lock:
        backend = _instances.get(name)
        if backend is not None:
            return backend
        if name == REFERENCE:
            from ._backend_reference import ReferenceBackend

            backend = ReferenceBackend()
        elif name == FAST:
            try:
                from ._backend_fast import FastBackend
            except ImportError as exc:
                raise BackendUnavailableError(
                    f"BBS backend 'fast' needs py-arkworks-bls12381, which failed to import: {exc}"
                ) from exc
            backend = FastBackend()
        else:
            raise BBSFormatError(
                f"unknown BBS backend: expected 'fast' or 'reference', got {name!r}"
            )
        _instances[name] = backend
        return backend


def available_backends() -> list[str]:
    """Names of the backends that load on this platform, fast first."""
    names = []
    for name in (FAST, REFERENCE):
        try:
            get_backend(name)
        except BackendUnavailableError:
            continue
        names.append(name)
    return names


def _resolve_default() -> str:
    forced = os.environ.get(BACKEND_ENV_VAR, "").strip().lower()
    if forced:
        if forced not in (FAST, REFERENCE):
            raise BackendUnavailableError(
                f"{BACKEND_ENV_VAR} must be 'fast' or 'reference', got {forced!r}"
            )
        get_backend(forced)  # fails loudly if 'fast' is forced but missing
        return forced
    try:
        get_backend(FAST)
    except BackendUnavailableError:
        return REFERENCE
    return FAST


def default_backend() -> Backend:
    """The backend used when a call does not name one."""
    global _default
    if _default is None:
        _default = _resolve_default()
    return get_backend(_default)


def set_default_backend(name: str | None) -> None:
    """Make ``name`` the default backend; ``None`` re-reads the environment on next use."""
    global _default
    if name is not None:
        get_backend(name)
    _default = name
