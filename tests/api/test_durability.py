"""SIGKILL the server while clients append; after a restart every acknowledged entry is there,
the tree is consistent with every checkpoint served before the kill, and appends go on."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.config import Settings
from ledger import keyring, merkle
from ledger.formats.checkpoint import open_checkpoint
from ledger.formats.entry import sign_entry
from ledger.formats.note import parse_vkey

from .server import Server, cli


@pytest.mark.slow
def test_acknowledged_entries_survive_sigkill(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path / "var", database_url).start()
    settings = Settings(data_dir=server.data_dir, dev=True)
    operator = keyring.load_key(settings.key_dir, "operator", settings.sealing_key())
    verifier = parse_vkey(server.vkey)
    acknowledged: dict[int, bytes] = {}
    checkpoints: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(worker: int) -> None:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            n = 0
            while not stop.is_set():
                entry = sign_entry("log.note", {"text": f"w{worker} n{n}"}, operator).encode()
                n += 1
                try:
                    response = http.post("/v1/log/entries", content=entry)
                    if n % 5 == 0:
                        cp = http.get("/log/checkpoint")
                        if cp.status_code == 200:
                            with lock:
                                checkpoints.append(cp.text)
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code in (200, 201):
                    body = response.json()
                    with lock:
                        acknowledged[body["index"]] = base64.b64decode(body["leaf_hash"])

    threads = [threading.Thread(target=client, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-stream: requests are in flight
    stop.set()
    for thread in threads:
        thread.join(15)
    assert len(acknowledged) >= 150 and checkpoints

    server.start()
    try:
        http = httpx.Client(base_url=server.url, timeout=30)
        latest = open_checkpoint(http.get("/log/checkpoint").text, verifier)
        assert latest.size > max(acknowledged)
        entries = []
        for start in range(0, latest.size, 1000):
            page = http.get("/v1/log/entries", params={"start": start}).json()["entries"]
            entries += [base64.b64decode(e["leaf_hash"]) for e in page]
        assert merkle.root(entries) == latest.root
        for index, leaf in acknowledged.items():
            assert entries[index] == leaf, f"acknowledged entry {index} changed or vanished"
        for note in set(checkpoints):
            seen = open_checkpoint(note, verifier)
            assert merkle.root(entries[: seen.size]) == seen.root
            proof = http.get(
                "/v1/log/proof/consistency", params={"first": seen.size, "second": latest.size}
            ).json()["proof"]
            merkle.verify_consistency(
                seen.size, latest.size, [base64.b64decode(p) for p in proof], seen.root, latest.root
            )
        # appends go on, at the next index
        entry = sign_entry("log.note", {"text": "after the restart"}, operator).encode()
        after = http.post(
            "/v1/log/entries", content=entry, headers={"Authorization": f"Bearer {server.token}"}
        )
        assert after.status_code == 201 and after.json()["index"] == latest.size
        audit = cli("audit", server.url, "--vkey", server.vkey, "--state", str(tmp_path / "s.json"))
        assert audit.returncode == 0, audit.stdout + audit.stderr
    finally:
        server.stop()
