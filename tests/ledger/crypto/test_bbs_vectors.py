"""The draft's published BBS fixtures (tests/vectors/bbs/), replayed on both backends."""

from __future__ import annotations

import pytest

from ledger.crypto import bbs
from ledger.crypto.bbs import _scheme
from ledger.crypto.bbs._hashing import hash_to_scalar
from ledger.crypto.bbs._mocked import mocked_random_scalars, seeded_random_scalars

from .bbs_fixtures import SUITE_DIRS, SUITES, Case, cases, h, load

BACKENDS = bbs.available_backends()
SIGNATURE_CASES = cases("signature")
PROOF_CASES = cases("proof")

# How each invalid fixture must fail: False (does not verify) or a BBSFormatError whose message
# contains the given text. The fixtures state the reason; these are our failure modes for it.
PROOF_FAILURES = {
    "re-ordered messages": "unsorted",  # disclosed indexes not ascending: rejected as malformed
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _suite_ids(suite: str) -> str:
    return SUITE_DIRS[suite]


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_keypair(suite: str, backend: str) -> None:
    data = load(suite, "keypair")
    sk = bbs.keygen(h(data["keyMaterial"]), h(data["keyInfo"]), h(data["keyDst"]), suite)
    assert sk.hex() == data["keyPair"]["secretKey"]
    assert bbs.sk_to_pk(sk, suite, backend=backend).hex() == data["keyPair"]["publicKey"]


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_keygen_default_dst_is_api_id_keygen_dst(suite: str) -> None:
    data = load(suite, "keypair")
    expected_dst = _scheme.ciphersuite(suite).api_id + b"KEYGEN_DST_"
    assert h(data["keyDst"]) == expected_dst
    assert (
        bbs.keygen(h(data["keyMaterial"]), h(data["keyInfo"]), ciphersuite=suite).hex()
        == (data["keyPair"]["secretKey"])
    )


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_generators(suite: str, backend: str) -> None:
    data = load(suite, "generators")
    got = [g.hex() for g in _scheme.create_generators(11, suite, backend=backend)]
    assert got == [data["P1"], data["Q1"], *data["MsgGenerators"]]


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_hash_to_scalar(suite: str) -> None:
    data = load(suite, "h2s")
    expand = _scheme.ciphersuite(suite).expand_message
    got = hash_to_scalar(h(data["message"]), h(data["dst"]), expand)
    assert got.to_bytes(32, "big").hex() == data["scalar"]


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_map_message_to_scalar_as_hash(suite: str) -> None:
    data = load(suite, "MapMessageToScalarAsHash")
    assert h(data["dst"]) == _scheme.ciphersuite(suite).api_id + b"MAP_MSG_TO_SCALAR_AS_HASH_"
    got = _scheme.messages_to_scalars([h(c["message"]) for c in data["cases"]], suite)
    assert [s.to_bytes(32, "big").hex() for s in got] == [c["scalar"] for c in data["cases"]]


@pytest.mark.parametrize("suite", SUITES, ids=_suite_ids)
def test_mocked_rng(suite: str) -> None:
    data = load(suite, "mockedRng")
    got = seeded_random_scalars(h(data["seed"]), h(data["dst"]), data["count"], suite)
    assert [s.to_bytes(32, "big").hex() for s in got] == data["mockedScalars"]
    assert mocked_random_scalars(suite)(data["count"]) == got


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[c.id for c in SIGNATURE_CASES])
def test_signature_fixture(case: Case, backend: str) -> None:
    d = case.data
    pk = h(d["signerKeyPair"]["publicKey"])
    messages = [h(m) for m in d["messages"]]
    ok = bbs.verify(pk, h(d["signature"]), h(d["header"]), messages, case.suite, backend=backend)
    assert ok is d["result"]["valid"], d["result"]
    if d["result"]["valid"]:
        sk = h(d["signerKeyPair"]["secretKey"])
        sig = bbs.sign(sk, pk, h(d["header"]), messages, case.suite, backend=backend)
        assert sig.hex() == d["signature"]


@pytest.mark.parametrize("case", PROOF_CASES, ids=[c.id for c in PROOF_CASES])
def test_proof_fixture(case: Case, backend: str) -> None:
    d = case.data
    pk = h(d["signerPublicKey"])
    messages = [h(m) for m in d["messages"]]
    indexes = d["disclosedIndexes"]
    args = (pk, h(d["proof"]), h(d["header"]), h(d["presentationHeader"]))
    disclosed = [messages[i] for i in indexes]
    reason = d["result"].get("reason")
    if reason in PROOF_FAILURES:
        with pytest.raises(bbs.BBSFormatError, match=PROOF_FAILURES[reason]):
            bbs.proof_verify(*args, disclosed, indexes, case.suite, backend=backend)
        return
    ok = bbs.proof_verify(*args, disclosed, indexes, case.suite, backend=backend)
    assert ok is d["result"]["valid"], d["result"]
    if not d["result"]["valid"]:
        return
    # Regenerate the proof byte for byte with the draft's mocked random scalars.
    trace = d["trace"]["random_scalars"]
    expected_randoms = [
        trace["r1"],
        trace["r2"],
        trace["e_tilde"],
        trace["r1_tilde"],
        trace["r3_tilde"],
        *trace["m_tilde_scalars"],
    ]
    draw = mocked_random_scalars(case.suite)
    assert [s.to_bytes(32, "big").hex() for s in draw(len(expected_randoms))] == expected_randoms
    proof = bbs.proof_gen(
        pk,
        h(d["signature"]),
        h(d["header"]),
        h(d["presentationHeader"]),
        messages,
        indexes,
        case.suite,
        backend=backend,
        _random_scalars=draw,
    )
    assert proof.hex() == d["proof"]
    assert proof[: 3 * 48].hex() == d["trace"]["A_bar"] + d["trace"]["B_bar"] + d["trace"]["D"]
    assert proof[-32:].hex() == d["trace"]["challenge"]
