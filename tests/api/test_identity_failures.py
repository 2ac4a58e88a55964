"""What happens when things go wrong: the database and the log must still agree, and every
real event must reach the log even when it repeats within one second."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from ledger.errors import UnavailableError
from ledger.formats.status_list import decode_status_list, get_status
from ledger.services.context import AppendPendingError, IdentityContext
from ledger.store.models import CredentialRow, DocumentRow, StatusListRow
from ledger.store.tokens import create_token

from .conftest import Instance
from .identity_flow import Consulate, setup_consulate
from .test_identity_api import RECORD, _auth, _entries, _register, _token


@pytest.fixture
def consulate(instance: Instance) -> Consulate:
    return setup_consulate(
        instance.client, instance.token, lambda role, issuer=None: _token(instance, role, issuer)
    )


def _issue(instance: Instance, consulate: Consulate) -> dict:  # type: ignore[type-arg]
    subject = _register(instance, consulate)["subject"]
    response = instance.client.post(
        f"/v1/subjects/{subject}/credentials",
        json={"document_number": "MEX-C-1"},
        headers=_auth(consulate.officer_token),
    )
    assert response.status_code == 201, response.text
    return {"subject": subject, **response.json()}


def _ctx(instance: Instance) -> IdentityContext:
    return instance.client.app.state.runtime.identity  # type: ignore[attr-defined,no-any-return]


def _refuse_appends(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def refuse(self, signer, items):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(IdentityContext, "append", refuse)


def test_repeated_events_in_one_second_are_all_logged(
    instance: Instance, consulate: Consulate
) -> None:
    issued = _issue(instance, consulate)
    officer = _auth(consulate.officer_token)
    path = f"/v1/credentials/{issued['document_id']}"
    indexes = []
    for action in ("suspend", "reinstate", "suspend", "reinstate"):
        response = instance.client.post(f"{path}/{action}", headers=officer)
        assert response.status_code == 200, response.text
        indexes += response.json()["log_indexes"]
    assert len(indexes) == len(set(indexes)) == 4 * (5 + 2)
    for _ in range(3):
        read = instance.client.get(
            f"/v1/subjects/{issued['subject']}", params={"purpose": "correction"}, headers=officer
        )
        assert read.status_code == 200
    reads = [e for e in _entries(instance) if e["type"] == "record.accessed"]
    assert [e["body"]["purpose"] for e in reads].count("correction") == 3


def test_a_refused_status_change_leaves_the_lists_as_they_were(
    instance: Instance, consulate: Consulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = _issue(instance, consulate)
    list_id = issued["offer"]["credentials"][0]["status_list_id"]
    before = instance.client.get(f"/v1/status-lists/{list_id}").json()
    size = instance.state()[0]
    _refuse_appends(monkeypatch, UnavailableError("the log is down"))
    response = instance.client.post(
        f"/v1/credentials/{issued['document_id']}/revoke",
        headers=_auth(consulate.officer_token),
    )
    assert response.status_code == 503
    assert instance.client.get(f"/v1/status-lists/{list_id}").json() == before
    assert instance.state()[0] == size
    monkeypatch.undo()
    again = instance.client.post(
        f"/v1/credentials/{issued['document_id']}/revoke",
        headers=_auth(consulate.officer_token),
    )
    assert again.status_code == 200  # the document was never revoked, so it can be now
    after = instance.client.get(f"/v1/status-lists/{list_id}").json()
    list_key = base64.b64decode(consulate.issuer["list_key"])
    bits = decode_status_list(base64.b64decode(after["revocation"]), list_key).bits
    assert all(get_status(bits, c["status_index"]) for c in issued["offer"]["credentials"])


def test_a_change_that_lost_a_race_is_refused_before_it_is_logged(
    instance: Instance, consulate: Consulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = _issue(instance, consulate)
    ctx = _ctx(instance)
    size = instance.state()[0]
    from ledger.services import credentials

    real_sign = credentials._sign_list

    def sign_then_race(issuer, list_id, purpose, version, bits):  # type: ignore[no-untyped-def]
        if purpose == "suspension":  # another process publishes a new version meanwhile
            with ctx.engine.begin() as conn:
                conn.execute(
                    StatusListRow.__table__.update()
                    .where(StatusListRow.id == list_id)
                    .values(version=StatusListRow.version + 1)
                )
        return real_sign(issuer, list_id, purpose, version, bits)

    monkeypatch.setattr(credentials, "_sign_list", sign_then_race)
    response = instance.client.post(
        f"/v1/credentials/{issued['document_id']}/revoke", headers=_auth(consulate.officer_token)
    )
    assert response.status_code == 409 and "try again" in response.json()["detail"]
    assert instance.state()[0] == size


def test_a_refused_issuance_leaves_no_document(
    instance: Instance, consulate: Consulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    _issue(instance, consulate)  # the status list exists already
    subject = _register(instance, consulate)["subject"]
    ctx = _ctx(instance)

    def counts() -> tuple[int, int, int]:
        with ctx.engine.connect() as conn:
            return (
                conn.execute(select(func.count()).select_from(DocumentRow)).scalar_one(),
                conn.execute(select(func.count()).select_from(CredentialRow)).scalar_one(),
                conn.execute(select(func.sum(StatusListRow.used))).scalar_one(),
            )

    before = counts()
    real_append = IdentityContext.append

    def refuse_credentials(self, signer, items):  # type: ignore[no-untyped-def]
        if items and items[0][0] == "credential.issued":
            raise UnavailableError("the log is down")
        return real_append(self, signer, items)

    monkeypatch.setattr(IdentityContext, "append", refuse_credentials)
    response = instance.client.post(
        f"/v1/subjects/{subject}/credentials",
        json={"document_number": "MEX-C-2"},
        headers=_auth(consulate.officer_token),
    )
    assert response.status_code == 503
    assert counts() == before


def test_an_unconfirmed_append_is_a_503_and_keeps_the_record(
    instance: Instance, consulate: Consulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_appends(monkeypatch, AppendPendingError("not confirmed in time"))
    response = instance.client.post(
        "/v1/subjects", json={"record": RECORD}, headers=_auth(consulate.officer_token)
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


def test_issuance_outside_the_consulates_scope_is_refused_before_logging(
    instance: Instance, consulate: Consulate
) -> None:
    guatemalan = {**RECORD, "nationality": "GTM"}
    subject = instance.client.post(
        "/v1/subjects", json={"record": guatemalan}, headers=_auth(consulate.officer_token)
    ).json()["subject"]
    size = instance.state()[0]
    response = instance.client.post(
        f"/v1/subjects/{subject}/credentials",
        json={"document_number": "X-1"},
        headers=_auth(consulate.officer_token),
    )
    assert response.status_code == 422 and "GTM nationals" in response.json()["detail"]
    assert instance.state()[0] == size


def test_impossible_birth_dates_are_refused(instance: Instance, consulate: Consulate) -> None:
    for bad in ("1990-13-45", "2999-01-01"):
        response = instance.client.post(
            "/v1/subjects",
            json={"record": {**RECORD, "birth_date": bad}},
            headers=_auth(consulate.officer_token),
        )
        assert response.status_code == 400 and "birth_date" in response.json()["detail"]


def test_record_tokens_are_always_bound_to_one_existing_consulate(
    instance: Instance, consulate: Consulate
) -> None:
    from ledger.errors import MalformedError, NotFoundError

    engine = _ctx(instance).engine
    for role in ("officer", "supervisor"):
        with pytest.raises(MalformedError, match="bound to one consulate"):
            create_token(engine, role, "unscoped")
        with pytest.raises(NotFoundError):
            create_token(engine, role, "x", issuer_id="0" * 32)
    with pytest.raises(MalformedError, match="bound to one consulate"):
        create_token(engine, "auditor", "x", issuer_id=consulate.issuer["issuer_id"])


def test_a_read_the_log_refused_is_neither_answered_nor_in_the_history(
    instance: Instance, consulate: Consulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _register(instance, consulate)
    path = f"/v1/subjects/{done['subject']}"
    officer = _auth(consulate.officer_token)
    history = f"{path}/access-history"
    subject = {"Authorization": f"Bearer {done['subject_token']}"}
    assert (
        instance.client.get(path, params={"purpose": "correction"}, headers=officer).status_code
        == 200
    )
    _refuse_appends(monkeypatch, UnavailableError("the log is down"))
    refused = instance.client.get(path, params={"purpose": "oversight"}, headers=officer)
    assert refused.status_code == 503 and "Hernández" not in refused.text
    monkeypatch.undo()
    events = instance.client.get(history, headers=subject).json()["events"]
    assert [e["purpose"] for e in events] == ["correction"]
    logged = [e for e in _entries(instance) if e["type"] == "record.accessed"]
    size = instance.state()[0]
    page = instance.client.get("/v1/log/entries", params={"start": 0, "end": size}).json()
    index_of = {json.dumps(e["entry"]["body"], sort_keys=True): e["index"] for e in page["entries"]}
    assert events[0]["log_index"] == index_of[json.dumps(logged[-1]["body"], sort_keys=True)]
