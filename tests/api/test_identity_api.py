"""Registration, the vault, issuance and status changes through the HTTP API."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from ledger.crypto import bbs
from ledger.crypto.actor_keys import ActorKey
from ledger.errors import MalformedError
from ledger.formats.credential import credential_header
from ledger.formats.entry import sign_entry
from ledger.formats.offer import decode_offer, open_sealed_offer
from ledger.formats.status_list import decode_status_list, get_status
from ledger.store.database import create_database_engine
from ledger.store.models import SubjectRow
from ledger.store.tokens import create_token
from ledger.trust import open_trust_list

from .conftest import Instance
from .identity_flow import Consulate, setup_consulate

RECORD = {
    "family_name": "Hernández López",
    "given_names": "María José",
    "birth_date": "1990-04-17",
    "nationality": "MEX",
    "address": "Calle Mayor 1, Madrid",
}


def _token(instance: Instance, role: str, issuer_id: str | None = None) -> str:
    engine = create_database_engine(instance.settings.resolved_database_url)
    try:
        return create_token(engine, role, "test", issuer_id=issuer_id)
    finally:
        engine.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def consulate(instance: Instance) -> Consulate:
    return setup_consulate(
        instance.client, instance.token, lambda role, issuer=None: _token(instance, role, issuer)
    )


def _register(instance: Instance, consulate: Consulate) -> dict:  # type: ignore[type-arg]
    response = instance.client.post(
        "/v1/subjects", json={"record": RECORD}, headers=_auth(consulate.officer_token)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _entries(instance: Instance) -> list[dict]:  # type: ignore[type-arg]
    size = instance.client.get("/v1/log/checkpoint").json()["size"]
    page = instance.client.get("/v1/log/entries", params={"start": 0, "end": size}).json()
    return [e["entry"] for e in page["entries"]]


def test_registration_logs_a_pseudonym_and_stores_the_record_encrypted(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    registered = [e for e in _entries(instance) if e["type"] == "subject.registered"]
    assert registered[-1]["body"]["subject"] == done["subject"]
    assert set(registered[-1]["body"]) == {"subject", "commitment"}
    engine = create_database_engine(instance.settings.resolved_database_url)
    with engine.connect() as conn:
        ciphertext = conn.execute(
            select(SubjectRow.ciphertext).where(SubjectRow.id == done["subject"])
        ).scalar_one()
    engine.dispose()
    assert "Hernández".encode() not in bytes(ciphertext)


def test_reads_are_logged_and_the_subject_sees_them(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    read = instance.client.get(
        f"/v1/subjects/{done['subject']}",
        params={"purpose": "consular_assistance"},
        headers=_auth(consulate.officer_token),
    )
    assert read.status_code == 200 and read.json()["record"] == RECORD
    accessed = [e for e in _entries(instance) if e["type"] == "record.accessed"]
    assert accessed[-1]["body"]["subject"] == done["subject"]
    assert accessed[-1]["body"]["purpose"] == "consular_assistance"
    history = instance.client.get(
        f"/v1/subjects/{done['subject']}/access-history", headers=_auth(done["subject_token"])
    )
    assert history.status_code == 200
    assert [e["purpose"] for e in history.json()["events"]] == ["consular_assistance"]


def test_who_may_do_what(instance: Instance, consulate: Consulate) -> None:
    done = _register(instance, consulate)
    other = _register(instance, consulate)
    subject = done["subject"]
    path = f"/v1/subjects/{subject}"
    params = {"purpose": "consular_assistance"}
    auditor = _token(instance, "auditor")
    assert instance.client.get(path, params=params, headers=_auth(auditor)).status_code == 403
    assert instance.client.get(path, params=params).status_code == 401
    elsewhere = setup_consulate(
        instance.client,
        instance.token,
        lambda r, i=None: _token(instance, r, i),
        state="GTM",
        name="Consulate of Guatemala in Madrid",
    )
    denied = instance.client.get(path, params=params, headers=_auth(elsewhere.officer_token))
    assert denied.status_code == 403 and "another consulate" in denied.json()["detail"]
    history = instance.client.get(f"{path}/access-history", headers=_auth(other["subject_token"]))
    assert history.status_code == 403
    erase = instance.client.delete(f"{path}/personal-data", headers=_auth(consulate.officer_token))
    assert erase.status_code == 403
    assert not [e for e in _entries(instance) if e["type"] == "record.accessed"]


@pytest.mark.parametrize(
    ("record", "detail"),
    [
        ({**RECORD, "birth_date": "17/04/1990"}, "birth_date"),
        ({**RECORD, "nationality": "Mexico"}, "nationality"),
        ({**RECORD, "favourite_colour": "blue"}, "favourite_colour"),
        ({k: v for k, v in RECORD.items() if k != "family_name"}, "family_name"),
    ],
)
def test_bad_records_change_nothing(
    instance: Instance,
    consulate: Consulate,
    record: dict,
    detail: str,  # type: ignore[type-arg]
) -> None:
    before = instance.state()
    response = instance.client.post(
        "/v1/subjects", json={"record": record}, headers=_auth(consulate.officer_token)
    )
    assert response.status_code == 400 and detail in response.json()["detail"]
    assert "María" not in response.text and "Hernández" not in response.text
    assert instance.state() == before


def test_issuance_gives_a_batch_of_valid_credentials(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    device = ActorKey.generate()
    response = instance.client.post(
        f"/v1/subjects/{done['subject']}/credentials",
        json={
            "document_number": "MEX-C-12345678",
            "batch": 5,
            "wallet_key": base64.b64encode(device.public_key).decode(),
        },
        headers=_auth(consulate.officer_token),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    offer = decode_offer(json.dumps(body["offer"]).encode())
    assert body["offer_qr"].startswith("CLO2:")
    assert offer == open_sealed_offer(body["offer_qr"], device.seed)
    with pytest.raises(MalformedError, match="sealed for another wallet"):
        open_sealed_offer(body["offer_qr"], ActorKey.generate().seed)
    assert len(offer.credentials) == 5
    assert len({c.status_index for c in offer.credentials}) == 5
    operator = instance.client.app.state.runtime.identity.operator.public_key  # type: ignore[attr-defined]
    trust = open_trust_list(instance.client.get("/v1/trust-list").content, operator)
    issuer = trust.view.issuers[offer.issuer_id]
    for item in offer.credentials:
        messages = offer.attributes(item).messages()
        assert bbs.verify(issuer.bbs_public_key, item.signature, credential_header(), messages)
    issued = [e for e in _entries(instance) if e["type"] == "credential.issued"]
    assert len(issued) == 5
    assert all(
        set(e["body"]) == {"credential", "commitment", "status_list", "status_index"}
        for e in issued
    )


def test_revocation_and_suspension_flip_the_whole_batch(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    issued = instance.client.post(
        f"/v1/subjects/{done['subject']}/credentials",
        json={"document_number": "MEX-C-1"},
        headers=_auth(consulate.officer_token),
    ).json()
    offer = decode_offer(json.dumps(issued["offer"]).encode())
    document = issued["document_id"]
    officer = _auth(consulate.officer_token)
    operator = instance.client.app.state.runtime.identity.operator.public_key  # type: ignore[attr-defined]

    def bits(purpose: str) -> list[bool]:
        trust = open_trust_list(instance.client.get("/v1/trust-list").content, operator)
        list_key = trust.view.issuers[offer.issuer_id].list_key
        lists = instance.client.get(f"/v1/status-lists/{offer.credentials[0].status_list_id}")
        assert lists.headers["cache-control"].startswith("public")
        doc = decode_status_list(base64.b64decode(lists.json()[purpose]), list_key)
        return [get_status(doc.bits, c.status_index) for c in offer.credentials]

    assert bits("revocation") == [False] * 5 and bits("suspension") == [False] * 5
    assert (
        instance.client.post(f"/v1/credentials/{document}/suspend", headers=officer).status_code
        == 200
    )
    assert bits("suspension") == [True] * 5
    assert (
        instance.client.post(f"/v1/credentials/{document}/reinstate", headers=officer).status_code
        == 200
    )
    assert bits("suspension") == [False] * 5
    assert (
        instance.client.post(f"/v1/credentials/{document}/revoke", headers=officer).status_code
        == 200
    )
    assert bits("revocation") == [True] * 5
    again = instance.client.post(f"/v1/credentials/{document}/reinstate", headers=officer)
    assert again.status_code == 409 and "final" in again.json()["detail"]
    published = [e for e in _entries(instance) if e["type"] == "status_list.published"]
    assert [e["body"]["version"] for e in published] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_erasure_shreds_the_record_and_the_log_still_audits(
    instance: Instance, consulate: Consulate
) -> None:
    from ledger.audit import audit_log
    from ledger.formats.note import parse_vkey
    from ledger.replay import EntryReplayer

    done = _register(instance, consulate)
    supervisor = _token(instance, "supervisor", consulate.issuer["issuer_id"])
    path = f"/v1/subjects/{done['subject']}"
    erased = instance.client.delete(f"{path}/personal-data", headers=_auth(supervisor))
    assert erased.status_code == 200
    gone = instance.client.get(path, params={"purpose": "oversight"}, headers=_auth(supervisor))
    assert gone.status_code == 410
    again = instance.client.delete(f"{path}/personal-data", headers=_auth(supervisor))
    assert again.status_code == 409
    engine = create_database_engine(instance.settings.resolved_database_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(SubjectRow.wrapped_key, SubjectRow.ciphertext).where(
                SubjectRow.id == done["subject"]
            )
        ).one()
    engine.dispose()
    assert row == (None, None)
    verifier = parse_vkey(instance.client.get("/v1/log/vkey").text.strip())
    report = audit_log(
        lambda p: instance.client.get(f"/log/{p}").content,
        verifier,
        None,
        None,
        check_entry=EntryReplayer().check,
    )
    assert report.ok, report.problems


def test_a_root_cannot_certify_another_states_consulate(
    instance: Instance, consulate: Consulate
) -> None:
    gtm_root = ActorKey.generate()
    instance.client.post(
        "/v1/trust/roots",
        json={
            "state": "GTM",
            "name": "MFA of Guatemala",
            "public_key": base64.b64encode(gtm_root.public_key).decode(),
        },
        headers=_auth(instance.token),
    )
    issuer = consulate.issuer
    body = {
        "issuer_id": issuer["issuer_id"],
        "state": "MEX",
        "name": "forged",
        "list_key": issuer["list_key"],
        "bbs_public_key": issuer["bbs_public_key"],
        "ciphersuite": issuer["ciphersuite"],
        "nationals": ["MEX"],
        "document_types": ["consular_id"],
        "not_before": "2026-01-01T00:00:00Z",
        "not_after": "2030-01-01T00:00:00Z",
    }
    forged = sign_entry("trust.issuer_certified", body, gtm_root).encode()
    response = instance.append(forged)
    assert response.status_code == 403 and "root of MEX" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("HC1:6BFOXN", "malformed_payload"),
        ("CL1:!!!", "malformed_payload"),
        ("CL1:", "malformed_payload"),
    ],
)
def test_online_verification_answers_every_payload_with_a_verdict(
    instance: Instance, consulate: Consulate, payload: str, code: str
) -> None:
    response = instance.client.post("/v1/presentations/verify", json={"payload": payload})
    assert response.status_code == 200
    assert response.json()["valid"] is False and response.json()["code"] == code


def test_online_verification_refuses_a_malformed_request(instance: Instance) -> None:
    response = instance.client.post("/v1/presentations/verify", json={"qr": "x"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_the_trust_list_vouches_for_the_current_status_lists(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    issued = instance.client.post(
        f"/v1/subjects/{done['subject']}/credentials",
        json={"document_number": "MEX-C-9"},
        headers=_auth(consulate.officer_token),
    ).json()
    list_id = issued["offer"]["credentials"][0]["status_list_id"]
    operator = instance.client.app.state.runtime.identity.operator.public_key  # type: ignore[attr-defined]

    def vouched_and_served() -> tuple[int, int]:
        trust = open_trust_list(instance.client.get("/v1/trust-list").content, operator)
        served = instance.client.get(f"/v1/status-lists/{list_id}").json()
        ref = trust.status_lists[list_id]
        ref.check(
            served["issuer_id"],
            base64.b64decode(served["revocation"]),
            base64.b64decode(served["suspension"]),
        )
        return ref.version, served["version"]

    assert vouched_and_served() == (1, 1)
    instance.client.post(
        f"/v1/credentials/{issued['document_id']}/revoke", headers=_auth(consulate.officer_token)
    )
    assert vouched_and_served() == (2, 2)


def test_a_bad_wallet_key_is_refused_before_anything_is_issued(
    instance: Instance, consulate: Consulate
) -> None:
    done = _register(instance, consulate)
    size = instance.state()[0]
    for key in (
        "not base64!",
        base64.b64encode(b"short").decode(),
        base64.b64encode(b"\xff" * 32).decode(),
    ):
        response = instance.client.post(
            f"/v1/subjects/{done['subject']}/credentials",
            json={"document_number": "MEX-C-1", "wallet_key": key},
            headers=_auth(consulate.officer_token),
        )
        assert response.status_code == 400, key
        assert "wallet" in response.json()["detail"]
    assert instance.state()[0] == size
