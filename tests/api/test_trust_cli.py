"""The state-root commands against a real server: a delegation and an issuer revocation are
signed locally with the sealed root key, logged, and show in the signed trust list."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from ledger.trust import open_trust_list

from .server import Server, cli

ROOT_ENV = {"CONSULAR_LEDGER_ROOT_PASSPHRASE": "a long root passphrase for tests"}


def _ok(done) -> str:  # type: ignore[no-untyped-def]
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_roots_certify_delegate_and_revoke(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path / "var", database_url).start()
    try:
        url, token = server.url, str(server.data_dir / "operator.token")
        keys = {}
        for state in ("MEX", "GTM"):
            out = _ok(cli("trust", "root-key", "--out", str(tmp_path / state), env=ROOT_ENV))
            keys[state] = out.split("public key: ")[1].strip()
            _ok(
                cli(
                    "trust",
                    "add-root",
                    "--url",
                    url,
                    "--token-file",
                    token,
                    "--state",
                    state,
                    "--name",
                    f"MFA of {state}",
                    "--public-key",
                    keys[state],
                )
            )
        made = _ok(
            cli(
                "issuer",
                "create",
                "--url",
                url,
                "--token-file",
                token,
                "--state",
                "GTM",
                "--name",
                "Consulate of Guatemala in Tucson",
            )
        )
        issuer_id = made.split("issuer id: ")[1].strip()
        common = ("--url", url, "--token-file", token)
        _ok(
            cli(
                "trust",
                "certify",
                "--root-key",
                str(tmp_path / "GTM"),
                "--issuer-id",
                issuer_id,
                *common,
                env=ROOT_ENV,
            )
        )
        # Mexico lets the Guatemalan consulate serve Mexican nationals until 2030.
        _ok(
            cli(
                "trust",
                "delegate",
                "--root-key",
                str(tmp_path / "MEX"),
                "--state",
                "MEX",
                "--issuer-id",
                issuer_id,
                "--until",
                "2030-12-31",
                *common,
                env=ROOT_ENV,
            )
        )
        # Mexico cannot revoke Guatemala's consulate; Guatemala can.
        revoke = ("trust", "revoke-issuer", "--issuer-id", issuer_id, "--state", "GTM")
        when = ("--from", "2027-01-01T00:00:00Z", *common)
        refused = cli(*revoke, "--root-key", str(tmp_path / "MEX"), *when, env=ROOT_ENV)
        assert refused.returncode == 1 and "only the root of GTM" in refused.stderr
        _ok(cli(*revoke, "--root-key", str(tmp_path / "GTM"), *when, env=ROOT_ENV))
        wrong = cli(
            "trust",
            "certify",
            "--root-key",
            str(tmp_path / "GTM"),
            "--issuer-id",
            issuer_id,
            *common,
            env={"CONSULAR_LEDGER_ROOT_PASSPHRASE": "not the phrase!"},
        )
        assert wrong.returncode != 0 and "wrong passphrase" in wrong.stderr

        document = httpx.get(f"{url}/v1/trust-list").content
        operator = base64.b64decode(httpx.get(f"{url}/v1/trust-list").json()["operator"])
        view = open_trust_list(document, operator).view
        issuer = view.issuers[issuer_id]
        assert issuer.state == "GTM" and issuer.revoked_from == "2027-01-01T00:00:00Z"
        assert [(d.state, d.issuer_id) for d in view.delegations] == [("MEX", issuer_id)]
        assert view.ignored == []
    finally:
        server.stop()
