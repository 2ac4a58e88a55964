"""Dependencies point down only: the core never imports the web layer or the wallet, the pure
layers do no database work, and the wallet never touches the store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


RULES = [
    ("ledger", ("api", "wallet", "fastapi", "starlette", "uvicorn")),
    ("ledger/crypto", ("sqlalchemy", "ledger.store", "httpx", "ledger.services")),
    ("ledger/formats", ("sqlalchemy", "ledger.store", "httpx", "ledger.services")),
    ("wallet", ("sqlalchemy", "ledger.store", "ledger.services", "api", "fastapi")),
]


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layers_point_down(folder: str, forbidden: tuple[str, ...]) -> None:
    offences = []
    for path in _modules(folder):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_pure_modules_do_no_io() -> None:
    for name in ("ledger/merkle.py", "ledger/audit.py", "ledger/replay.py"):
        imported = _imports(ROOT / name)
        assert not imported & {"sqlalchemy", "httpx", "socket", "os", "pathlib"}, name
