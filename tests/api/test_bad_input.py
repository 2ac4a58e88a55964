"""Bad input gets a clear 4xx problem, and the log is unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.crypto.actor_keys import ActorKey
from ledger.formats.entry import sign_entry

from .conftest import Instance

PROBLEM = "application/problem+json"


def _assert_problem(response, status: int, detail_part: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:consular-ledger:problem:")
    assert detail_part in body.get("detail", body["title"])


def _tamper(entry: bytes, **changes: object) -> bytes:
    obj = json.loads(entry)
    obj.update(changes)
    return json.dumps(obj).encode()


CASES = {
    "not json": (lambda i: b"{not json", 400, "not JSON"),
    "json array": (lambda i: b"[1, 2]", 400, "expected a JSON object"),
    "empty body": (lambda i: b"", 400, "not JSON"),
    "unknown type": (
        lambda i: sign_entry("log.nonsense", {"text": "x"}, i.operator).encode(),
        400,
        "unknown entry type 'log.nonsense'",
    ),
    "body breaks the schema": (
        lambda i: sign_entry("log.note", {"text": "x", "extra": 1}, i.operator).encode(),
        400,
        "malformed log.note body",
    ),
    "bad signature": (
        lambda i: _tamper(i.note("a"), body={"text": "b"}),
        422,
        "signature does not verify",
    ),
    "unknown actor": (
        lambda i: i.note("a", ActorKey.generate()),
        403,
        "unknown actor key",
    ),
    "float number": (
        lambda i: _tamper(i.note("a"), body={"text": "b", "n": 1.5}),
        400,
        "non-integer number",
    ),
    "duplicate key": (
        lambda i: b'{"v":1,"v":1,"type":"log.note"}',
        400,
        "duplicate key",
    ),
    "far future": (
        lambda i: sign_entry(
            "log.note", {"text": "x"}, i.operator, time=datetime.now(UTC) + timedelta(days=2)
        ).encode(),
        400,
        "in the future",
    ),
    "oversized": (
        lambda i: sign_entry("log.note", {"text": "x"}, i.operator).encode() + b" " * 70_000,
        413,
        "entry too large",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_entries_are_refused_and_change_nothing(instance: Instance, case: str) -> None:
    make, status, detail = CASES[case]
    before = instance.state()
    _assert_problem(instance.append(make(instance)), status, detail)
    assert instance.state() == before


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "bearer token is required"),
        ({"Authorization": "Bearer clt_wrong"}, 401, "unknown or revoked token"),
        ({"Authorization": "Basic abc"}, 401, "bearer token is required"),
    ],
    ids=["no token", "wrong token", "wrong scheme"],
)
def test_appends_need_a_valid_token(instance: Instance, headers, status, detail) -> None:  # type: ignore[no-untyped-def]
    before = instance.state()
    response = instance.client.post("/v1/log/entries", content=instance.note("x"), headers=headers)
    _assert_problem(response, status, detail)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert instance.state() == before


def test_an_auditor_token_cannot_append(instance: Instance) -> None:
    from ledger.store.database import create_database_engine
    from ledger.store.tokens import create_token

    engine = create_database_engine(instance.settings.resolved_database_url)
    token = create_token(engine, "auditor", "test")
    engine.dispose()
    before = instance.state()
    response = instance.client.post(
        "/v1/log/entries", content=instance.note("x"), headers={"Authorization": f"Bearer {token}"}
    )
    _assert_problem(response, 403, "needs the role operator or officer")
    assert instance.state() == before


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/log/tile/0/001", 404, "does not exist"),
        ("/log/tile/0/000.p/5", 404, "does not exist"),
        ("/log/tile/1/000.p/1", 404, "does not exist"),
        ("/log/tile/entries/000.p/2", 404, "does not exist"),
        ("/log/tile/0/000.p/0", 400, "malformed tile path"),
        ("/log/tile/0/000.p/256", 400, "malformed tile path"),
        ("/log/tile/0/1", 400, "malformed tile path"),
        ("/log/tile/x/000", 400, "malformed tile path"),
        ("/log/tile/0/x000/000", 400, "malformed tile path"),
        ("/v1/log/entries/99", 404, "no entry at index 99"),
        ("/v1/log/entries?start=5&end=2", 400, "bad range"),
        ("/v1/log/entries?start=0&end=5000", 400, "at most 1000"),
        ("/v1/log/proof/inclusion?index=5", 400, "outside a tree of size 1"),
        ("/v1/log/proof/inclusion?index=0&tree_size=9", 404, "beyond the log's size"),
        ("/v1/log/proof/inclusion", 400, "exactly one of index or leaf_hash"),
        ("/v1/log/proof/inclusion?leaf_hash=abc", 400, "leaf_hash must be base64"),
        ("/v1/log/proof/inclusion?index=-1", 400, "index"),
        ("/v1/log/proof/consistency?first=1&second=7", 404, "beyond the log's size"),
        ("/v1/log/proof/consistency?first=abc", 400, "first"),
        ("/v1/log/proof/inclusion?index=0&tree_size=99999999999999999999999", 400, "tree_size"),
        ("/v1/log/proof/consistency?first=1&second=99999999999999999999999", 400, "second"),
        ("/v1/log/entries/99999999999999999999999", 404, "no entry"),
        ("/v1/nothing-here", 404, "Not Found"),
    ],
)
def test_bad_reads_are_clear_problems(
    instance: Instance, path: str, status: int, detail: str
) -> None:
    _assert_problem(instance.client.get(path), status, detail)


def test_wrong_method_is_a_problem(instance: Instance) -> None:
    _assert_problem(instance.client.delete("/v1/log/checkpoint"), 405, "Method Not Allowed")


def test_a_database_outage_is_a_503_not_a_500(instance: Instance, tmp_path: Path) -> None:
    url = instance.settings.resolved_database_url
    if not url.startswith("sqlite:///"):
        pytest.skip("the outage is simulated by taking the SQLite file away")
    engine = instance.client.app.state.engine  # type: ignore[attr-defined]
    engine.dispose()
    db = Path(url.removeprefix("sqlite:///"))
    away = tmp_path / "away"
    away.mkdir()
    files = [f for f in db.parent.glob(db.name + "*")]
    for f in files:
        f.rename(away / f.name)
    db.mkdir()  # a directory where the database was: SQLite cannot open it
    try:
        response = instance.client.get("/v1/log/checkpoint")
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"] == "urn:consular-ledger:problem:unavailable"
    finally:
        engine.dispose()
        db.rmdir()
        for f in files:
            (away / f.name).rename(f)
    assert instance.client.get("/v1/log/checkpoint").status_code == 200


def test_a_lost_race_in_the_database_is_a_409(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from ledger.services import issuers

    def collide(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(issuers, "create_issuer", collide)
    response = instance.client.post(
        "/v1/issuers", json={"state": "MEX", "name": "Consulate"}, headers=instance.auth
    )
    _assert_problem(response, 409, "a concurrent change got there first")
