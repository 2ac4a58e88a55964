"""``consular-ledger``: run, initialise and audit a log from the command line.

A thin layer over the library: every command calls what the API calls. Errors print one line
(``error: …``) and exit non-zero; nothing secret is printed (new tokens go to 0600 files).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.config import Settings, load_settings
from ledger import keyring
from ledger.audit import AuditState, FetchError, audit_log
from ledger.crypto.actor_keys import ActorKey
from ledger.crypto.sealed import SealingKey, open_sealed, seal
from ledger.errors import LedgerError
from ledger.formats.entry import sign_entry
from ledger.formats.note import parse_vkey
from ledger.replay import EntryReplayer
from ledger.trust import certification_body

__all__ = ["app", "main"]

app = typer.Typer(
    help="Consular Ledger: a signed, append-only log of identity and consent statements.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
log_app = typer.Typer(help="Append to and read a running log.", no_args_is_help=True)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(log_app, name="log")
app.add_typer(token_app, name="token")

out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path, typer.Option("--data-dir", envvar="CONSULAR_LEDGER_DATA_DIR", help="keys, config, db")
]
Dev = Annotated[
    bool, typer.Option("--dev", help="development: keep a generated master key in the data dir")
]
Url = Annotated[str, typer.Option("--url", envvar="CONSULAR_LEDGER_URL", help="the log's base URL")]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _settings(data_dir: Path, dev: bool = False, **overrides: object) -> Settings:
    try:
        return load_settings(data_dir, **({"dev": True} if dev else {}), **overrides)
    except ValueError as exc:
        _fail(f"bad settings: {exc}")


@app.command()
def init(
    data_dir: DataDir = Path("var"),
    origin: Annotated[str | None, typer.Option(help="the log's origin line")] = None,
    dev: Dev = False,
) -> None:
    """Create sealed keys, the config file, the database schema and an operator token."""
    from api.runtime import init_instance

    settings = _settings(data_dir, dev, **({"origin": origin} if origin else {}))
    try:
        result = init_instance(settings)
    except LedgerError as exc:
        _fail(str(exc))
    keys = ", ".join(result.created_keys) or "none (kept the existing ones)"
    out.print(f"data directory: {result.data_dir}")
    out.print(f"new keys: {keys}")
    if result.token_file:
        out.print(f"operator token written to {result.token_file} (mode 0600)")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="where the QR images go")] = Path(
        "demo-out"
    ),
) -> None:
    """Run the whole story on a fresh SQLite file: register, issue, present, verify, revoke,
    audit — through the real HTTP service, wallet and offline verifier."""
    from api.demo import run_demo

    step = 0

    def say(title: str, lines: list[str]) -> None:
        nonlocal step
        step += 1
        out.print(f"\n[bold]{step}. {title}[/]", highlight=False, soft_wrap=True)
        for line in lines:
            out.print(f"   {line}", highlight=False, soft_wrap=True, markup=False)

    result = run_demo(out_dir, say)
    good = (
        result.first_verdict.valid
        and result.after_revocation.code == "revoked"
        and result.audit_ok
        and not result.personal_values_in_log
    )
    out.print(
        f"\n{'[bold green]The story holds.[/]' if good else '[bold red]Something failed.[/]'}"
    )
    if not good:
        raise typer.Exit(1)


@app.command()
def serve(
    data_dir: DataDir = Path("var"),
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    dev: Dev = False,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="refuse an old schema")] = False,
) -> None:
    """Run the log's HTTP service (uvicorn)."""
    import uvicorn

    from api.app import create_app
    from api.logs import configure_logging

    overrides = {"migrate_on_start": False} if no_migrate else {}
    settings = _settings(data_dir, dev, **overrides)
    configure_logging()
    if settings.dev:
        err.print("[yellow]development mode: the master key is kept in the data directory[/]")
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="warning")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = Path("var")) -> None:
    """Apply every pending migration."""
    from ledger.store.database import create_database_engine
    from ledger.store.migrate import current_revision, upgrade

    settings = _settings(data_dir)
    engine = create_database_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        out.print(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="operator, officer, supervisor or auditor")],
    out_file: Annotated[Path, typer.Option("--out", help="file to write the token to (0600)")],
    label: Annotated[str, typer.Option(help="who or what the token is for")] = "",
    issuer: Annotated[
        str | None, typer.Option(help="bind an officer or supervisor to one consulate")
    ] = None,
    data_dir: DataDir = Path("var"),
) -> None:
    """Create an API token; it is written to a new file, never printed."""
    from ledger.store.database import create_database_engine
    from ledger.store.tokens import create_token

    settings = _settings(data_dir)
    if out_file.exists():
        _fail(f"{out_file} exists; choose a new file")
    engine = create_database_engine(settings.resolved_database_url)
    try:
        token = create_token(engine, role, label, issuer_id=issuer)
    except LedgerError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    out.print(f"{role} token written to {out_file} (mode 0600)")


def _token(token_file: Path | None) -> str:
    env = os.environ.get("CONSULAR_LEDGER_TOKEN")
    if token_file is not None:
        try:
            return token_file.read_text().strip()
        except OSError as exc:
            _fail(f"cannot read token file: {exc.strerror}")
    if env:
        return env.strip()
    _fail("give --token-file or set CONSULAR_LEDGER_TOKEN")


def _request(method: str, url: str, **kwargs: object) -> httpx.Response:
    try:
        response = httpx.request(method, url, timeout=60, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        _fail(f"cannot reach {url}: {type(exc).__name__}", 2)
    if response.status_code >= 400:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title")
        except ValueError:
            detail = response.reason_phrase
        _fail(f"{response.status_code}: {detail}")
    return response


@log_app.command("append")
def log_append(
    entry_type: Annotated[str, typer.Option("--type", help="entry type, e.g. log.note")],
    body: Annotated[str, typer.Option(help="the entry body as JSON")],
    url: Url = "http://127.0.0.1:8000",
    token_file: Annotated[Path | None, typer.Option(help="file holding the bearer token")] = None,
    data_dir: DataDir = Path("var"),
    dev: Dev = False,
) -> None:
    """Sign an entry with the operator key and append it; prints its index and checkpoint."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        _fail(f"--body is not JSON: {exc.msg}")
    settings = _settings(data_dir, dev)
    try:
        operator = keyring.load_key(settings.key_dir, "operator", settings.sealing_key())
        entry = sign_entry(entry_type, parsed, operator)
    except LedgerError as exc:
        _fail(str(exc))
    response = _request(
        "POST",
        f"{url.rstrip('/')}/v1/log/entries",
        content=entry.encode(),
        headers={
            "Authorization": f"Bearer {_token(token_file)}",
            "Content-Type": "application/json",
        },
    )
    result = response.json()
    out.print(f"entry {result['index']} in a tree of size {result['tree_size']}")


@log_app.command("show")
def log_show(
    url: Url = "http://127.0.0.1:8000",
    start: Annotated[int | None, typer.Option(help="first index")] = None,
    end: Annotated[int | None, typer.Option(help="end index (exclusive)")] = None,
) -> None:
    """Show the latest checkpoint, or the entries of a range."""
    base = url.rstrip("/")
    if start is None:
        cp = _request("GET", f"{base}/v1/log/checkpoint").json()
        out.print(f"origin {cp['origin']}\nsize   {cp['size']}\nroot   {cp['root']}")
        return
    params = {"start": start, **({"end": end} if end is not None else {})}
    for item in _request("GET", f"{base}/v1/log/entries", params=params).json()["entries"]:
        out.print_json(json.dumps({"index": item["index"], **item["entry"]}))


trust_app = typer.Typer(help="State roots and consulate certification.", no_args_is_help=True)
app.add_typer(trust_app, name="trust")
issuer_app = typer.Typer(help="Consulates' issuer keys on this instance.", no_args_is_help=True)
app.add_typer(issuer_app, name="issuer")

TokenFile = Annotated[Path | None, typer.Option(help="file holding the bearer token")]
RootKey = Annotated[Path, typer.Option(help="the state's sealed root key file")]


def _root_sealing() -> SealingKey:
    phrase = os.environ.get("CONSULAR_LEDGER_ROOT_PASSPHRASE")
    if phrase is None:
        if not sys.stdin.isatty():
            _fail("set CONSULAR_LEDGER_ROOT_PASSPHRASE (no terminal to ask on)", 2)
        phrase = typer.prompt("root key passphrase", hide_input=True)
    try:
        return SealingKey(passphrase=phrase.encode())
    except LedgerError as exc:
        _fail(str(exc), 2)


def _load_root(path: Path) -> ActorKey:
    try:
        sealed = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}", 2)
    try:
        return ActorKey(open_sealed(sealed, _root_sealing(), label="consular-ledger/state-root"))
    except LedgerError as exc:
        _fail(str(exc))


def _post_entry(url: str, token_file: Path | None, entry: bytes) -> dict[str, object]:
    response = _request(
        "POST",
        f"{url.rstrip('/')}/v1/log/entries",
        content=entry,
        headers={
            "Authorization": f"Bearer {_token(token_file)}",
            "Content-Type": "application/json",
        },
    )
    return response.json()


@trust_app.command("root-key")
def trust_root_key(
    out_file: Annotated[Path, typer.Option("--out", help="new file for the sealed key")],
) -> None:
    """Create a state root key, sealed with CONSULAR_LEDGER_ROOT_PASSPHRASE (kept offline)."""
    if out_file.exists():
        _fail(f"{out_file} exists; choose a new file")
    key = ActorKey.generate()
    sealed = seal(key.seed, _root_sealing(), label="consular-ledger/state-root")
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(sealed)
    out.print(f"root key written to {out_file}")
    out.print(f"public key: {base64.b64encode(key.public_key).decode()}")


@trust_app.command("add-root")
def trust_add_root(
    state: Annotated[str, typer.Option(help="ISO 3166 alpha-3, e.g. MEX")],
    name: Annotated[str, typer.Option(help="e.g. Ministry of Foreign Affairs of Mexico")],
    public_key: Annotated[str, typer.Option(help="the root's Ed25519 public key, base64")],
    url: Url = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
) -> None:
    """(operator) Admit a state's root key to the trust list."""
    response = _request(
        "POST",
        f"{url.rstrip('/')}/v1/trust/roots",
        json={"state": state, "name": name, "public_key": public_key},
        headers={"Authorization": f"Bearer {_token(token_file)}"},
    )
    out.print(f"root of {state} added at log index {response.json()['log_index']}")


@issuer_app.command("create")
def issuer_create(
    state: Annotated[str, typer.Option(help="ISO 3166 alpha-3 of the consulate's state")],
    name: Annotated[str, typer.Option(help="e.g. Consulate of Mexico in Madrid")],
    url: Url = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
) -> None:
    """(operator) Create a consulate's issuer keys; its state root then certifies them."""
    response = _request(
        "POST",
        f"{url.rstrip('/')}/v1/issuers",
        json={"state": state, "name": name},
        headers={"Authorization": f"Bearer {_token(token_file)}"},
    )
    out.print(f"issuer id: {response.json()['issuer_id']}")


@trust_app.command("certify")
def trust_certify(
    root_key: RootKey,
    issuer_id: Annotated[str, typer.Option(help="the issuer to certify")],
    years: Annotated[int, typer.Option(help="validity of the certification")] = 5,
    url: Url = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
) -> None:
    """(state root) Certify a consulate's issuer keys for this state's nationals."""
    issuer = _request("GET", f"{url.rstrip('/')}/v1/issuers/{issuer_id}").json()
    now = datetime.now(UTC)
    body = certification_body(issuer, not_before=now, not_after=now + timedelta(days=365 * years))
    entry = _signed("trust.issuer_certified", body, _load_root(root_key))
    result = _post_entry(url, token_file, entry)
    out.print(f"{issuer['name']} certified at log index {result['index']}")


@trust_app.command("delegate")
def trust_delegate(
    root_key: RootKey,
    state: Annotated[str, typer.Option(help="the delegating state (whose nationals)")],
    issuer_id: Annotated[str, typer.Option(help="the other state's consulate")],
    until: Annotated[str, typer.Option(help="end of the agreement, YYYY-MM-DD")],
    url: Url = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
) -> None:
    """(state root) Let another state's consulate serve this state's nationals."""
    body = {
        "state": state,
        "issuer_id": issuer_id,
        "nationals": [state],
        "document_types": ["consular_id"],
        "not_after": f"{until}T23:59:59Z",
    }
    result = _post_entry(
        url, token_file, _signed("trust.delegation_granted", body, _load_root(root_key))
    )
    out.print(f"delegation logged at index {result['index']}")


@trust_app.command("revoke-issuer")
def trust_revoke_issuer(
    root_key: RootKey,
    issuer_id: Annotated[str, typer.Option(help="the issuer whose key is revoked")],
    state: Annotated[str, typer.Option(help="the issuer's state (whose root you hold)")],
    revoked_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DDTHH:MM:SSZ")],
    reason: Annotated[str, typer.Option(help="compromised, retired or superseded")] = "compromised",
    url: Url = "http://127.0.0.1:8000",
    token_file: TokenFile = None,
) -> None:
    """(state root) Distrust an issuer key for credentials issued from a given time on."""
    body = {"issuer_id": issuer_id, "state": state, "revoked_from": revoked_from, "reason": reason}
    result = _post_entry(
        url, token_file, _signed("trust.issuer_revoked", body, _load_root(root_key))
    )
    out.print(f"revocation logged at index {result['index']}")


def _signed(kind: str, body: dict[str, object], key: ActorKey) -> bytes:
    try:
        return sign_entry(kind, body, key).encode()
    except LedgerError as exc:
        _fail(str(exc))


def _default_state_file(url: str) -> Path:
    home = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return home / "consular-ledger" / f"audit-{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"


@app.command()
def audit(
    url: Annotated[str, typer.Argument(help="the log's base URL (tiles under <url>/log/)")],
    vkey: Annotated[str, typer.Option(help="the log's verifier key (GET /v1/log/vkey)")],
    state: Annotated[
        Path | None, typer.Option(help="where the last seen checkpoint is kept")
    ] = None,
) -> None:
    """Re-derive the whole log from its public tiles and check it; exit 0 only if it holds."""
    try:
        verifier = parse_vkey(vkey.strip())
    except LedgerError as exc:
        _fail(str(exc))
    base = url.rstrip("/")
    state_file = state or _default_state_file(base)
    previous = None
    if state_file.exists():
        try:
            previous = AuditState.from_json(state_file.read_text())
        except (LedgerError, ValueError) as exc:
            _fail(f"state file {state_file} is unreadable: {exc}")
    client = httpx.Client(base_url=f"{base}/log/", timeout=60)

    def fetch(path: str) -> bytes:
        try:
            response = client.get(path)
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise FetchError(f"HTTP {response.status_code}")
        return response.content

    with Progress(
        TextColumn("auditing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("entries", total=None)
        report = audit_log(
            fetch,
            verifier,
            verifier.name,
            previous,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            check_entry=EntryReplayer().check,
        )
    client.close()
    if not report.ok:
        out.print(f"[bold red]FAILED[/]: {len(report.problems)} problem(s) in {base}")
        for problem in report.problems[:50]:
            out.print(f"  - {problem}", highlight=False)
        if len(report.problems) > 50:
            out.print(f"  … and {len(report.problems) - 50} more")
        raise typer.Exit(1)
    assert report.checkpoint is not None and report.state is not None
    since = f"; consistent with size {previous.size} seen before" if previous else ""
    out.print(
        f"[bold green]OK[/]: {report.checkpoint.origin} at size {report.checkpoint.size}: "
        f"{report.entries_checked} entries and {report.tiles_checked} tiles re-derived, "
        f"checkpoint signature valid{since}",
        highlight=False,
    )
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(report.state.to_json())


def main() -> None:
    """Console-script entry point: ledger errors become one line, never a traceback."""
    try:
        app()
    except LedgerError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
