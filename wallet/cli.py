"""``consular-wallet``: the migrant's wallet and the verifier's scanner, from the command line.

Holder: ``init``, ``import OFFER``, ``list``, ``present``. Verifier: ``verifier sync URL``,
``verify IMAGE|PAYLOAD``. Errors print one line (``error: …``) and exit non-zero, never a
traceback, and never quote personal data. ``verify`` exits 0 only for a valid presentation, 1
for an invalid one, 2 for usage or environment problems (no trust list, unreadable cache).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from ledger.errors import LedgerError
from wallet.holder import Wallet
from wallet.qr import read_qr, render_png, render_svg, render_terminal
from wallet.trust_cache import CacheMissingError, CacheSnapshot, TrustCache
from wallet.verifier import FileReplayStore, Verdict, verify_image, verify_payload

__all__ = ["app", "main", "parse_duration"]

app = typer.Typer(
    help="Consular Ledger wallet: hold consular ID credentials, show them as QR codes, "
    "and verify them offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
verifier_app = typer.Typer(help="The verifier's offline trust cache.", no_args_is_help=True)
app.add_typer(verifier_app, name="verifier")

# markup off: values printed here may come from a scanned code; colour is applied with Text.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

PASSPHRASE_ENV = "CONSULAR_WALLET_PASSPHRASE"  # noqa: S105 (a variable name)
WalletDir = Annotated[
    Path,
    typer.Option(
        "--wallet-dir",
        envvar="CONSULAR_WALLET_DIR",
        help="the wallet's directory",
        show_default=True,
    ),
]
CacheDir = Annotated[
    Path,
    typer.Option("--cache-dir", envvar="CONSULAR_VERIFIER_DIR", help="the trust cache's directory"),
]
DEFAULT_WALLET = Path.home() / ".consular-wallet"
DEFAULT_CACHE = Path.home() / ".consular-verifier"


def _error(message: str) -> None:
    err.print(Text.assemble(("error:", "bold red"), " ", message))


def _fail(message: str, code: int = 1) -> NoReturn:
    _error(message)
    raise typer.Exit(code)


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``90s``, ``1w`` or combinations such as ``1d12h``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    cleaned = text.strip().lower()
    if not re.fullmatch(r"(\d+[smhdw])+", cleaned):
        raise typer.BadParameter(f"{text!r}: expected a duration such as 7d, 12h, 30m or 1d12h")
    seconds = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhdw])", cleaned))
    return timedelta(seconds=seconds)


def _passphrase(confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        _fail(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal", 2)
    return typer.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)


def _open_wallet(wallet_dir: Path) -> Wallet:
    return Wallet.open(wallet_dir, _passphrase())


def _snapshot_if_any(cache_dir: Path) -> CacheSnapshot | None:
    cache = TrustCache(cache_dir)
    if not cache.exists():
        return None
    try:
        return cache.load()
    except CacheMissingError as exc:
        _fail(str(exc), 2)


# --- holder -------------------------------------------------------------------------------


@app.command()
def init(wallet_dir: WalletDir = DEFAULT_WALLET) -> None:
    """Create a wallet: a sealed file with a new device key, protected by a passphrase."""
    wallet = Wallet.init(wallet_dir, _passphrase(confirm=True))
    key_b64 = base64.b64encode(wallet.device_public_key).decode()
    out.print(f"created wallet in {wallet_dir}")
    out.print(f"device key: {key_b64}")


@app.command("import")
def import_(
    offer: Annotated[
        str, typer.Argument(help="offer file (JSON, CLO1:/CLO2: text, or a QR picture), or -")
    ],
    wallet_dir: WalletDir = DEFAULT_WALLET,
    cache_dir: CacheDir = DEFAULT_CACHE,
) -> None:
    """Import a credential offer; its signatures are checked if a trust list is cached."""
    if offer == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(offer)
        try:
            data = path.read_bytes()
        except OSError as exc:
            _fail(f"cannot read {offer}: {exc.strerror or exc}", 2)
    if not data.lstrip().startswith((b"{", b"CLO1:", b"CLO2:")):
        data = read_qr(data).encode()  # a picture of the offer QR
    snapshot = _snapshot_if_any(cache_dir)
    wallet = _open_wallet(wallet_dir)
    result = wallet.import_offer(data, trust=snapshot)
    out.print(
        f"imported document {result.document_number} from {result.issuer}: "
        f"{result.credentials} credentials ({result.checked})"
    )


@app.command()
def key(
    qr: Annotated[
        str | None, typer.Option(help="also show it as a QR: out.png, out.svg or -")
    ] = None,
    wallet_dir: WalletDir = DEFAULT_WALLET,
) -> None:
    """Show this wallet's device key, for the consulate to seal your credential offer to it."""
    wallet = _open_wallet(wallet_dir)
    text = base64.b64encode(wallet.device_public_key).decode()
    out.print(text)
    if qr is not None:
        _write_qr(text, qr)


@app.command("list")
def list_(wallet_dir: WalletDir = DEFAULT_WALLET) -> None:
    """List the documents in the wallet (your own data, shown to you only)."""
    documents = _open_wallet(wallet_dir).list()
    if not documents:
        out.print("the wallet is empty")
    for doc in documents:
        out.print(f"[{doc.position}] {doc.document_number} — {doc.issuer}")
        for name, value in doc.attributes.items():
            out.print(f"    {name:<18} {value}")
        out.print(f"    credentials        {doc.credentials} (uses {list(doc.uses)})")
        out.print(f"    checked            {doc.checked}")


@app.command()
def present(
    disclose: Annotated[
        str, typer.Option(help="attributes to show, comma separated (name = both names)")
    ] = "",
    challenge: Annotated[str | None, typer.Option(help="the verifier's challenge")] = None,
    qr: Annotated[
        str | None,
        typer.Option(help="write the QR code: out.png, out.svg, or - for the terminal"),
    ] = None,
    document: Annotated[
        str | None, typer.Option(help="document position or number (default: the latest)")
    ] = None,
    wallet_dir: WalletDir = DEFAULT_WALLET,
    cache_dir: CacheDir = DEFAULT_CACHE,
) -> None:
    """Make a fresh presentation; without --qr, print the CL1: payload text."""
    if qr is not None and qr != "-" and not qr.lower().endswith((".png", ".svg")):
        _fail("--qr must end in .png or .svg, or be -", 2)
    wallet = _open_wallet(wallet_dir)
    payload = wallet.present(
        disclose.split(","),
        challenge,
        datetime.now(UTC),
        document=document,
        trust=_snapshot_if_any(cache_dir),
    )
    if qr is None:
        out.print(payload, soft_wrap=True)
    else:
        _write_qr(payload, qr)


def _write_qr(text: str, qr: str) -> None:
    if qr == "-":
        sys.stdout.write(render_terminal(text))
    elif qr.lower().endswith(".png"):
        render_png(text, qr)
        err.print(f"wrote {qr}")
    elif qr.lower().endswith(".svg"):
        render_svg(text, qr)
        err.print(f"wrote {qr}")
    else:
        _fail("--qr must end in .png or .svg, or be -", 2)


# --- verifier -----------------------------------------------------------------------------


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "not used"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h ago"
    if hours:
        return f"{hours}h {minutes}m ago"
    return f"{minutes}m {seconds % 60}s ago"


def _print_verdict(verdict: Verdict) -> None:
    if verdict.valid:
        out.print(Text("VALID", style="bold green"))
    else:
        out.print(Text("INVALID", style="bold red"))
    out.print(f"code        {verdict.code}")
    out.print(f"message     {verdict.message}")
    out.print(f"issuer      {verdict.issuer or '-'}")
    if verdict.attributes:
        out.print("disclosed")
        for name, value in verdict.attributes.items():
            out.print(f"    {name:<18} {value}")
    out.print(f"trust list  fetched {_age(verdict.trust_age_s)}")
    out.print(f"status list fetched {_age(verdict.status_age_s)}")


@app.command()
def verify(
    code: Annotated[str, typer.Argument(help="a QR picture (PNG/JPEG), a CL1: payload, or -")],
    challenge: Annotated[
        str | None, typer.Option(help="the challenge you asked the holder to answer")
    ] = None,
    max_trust_age: Annotated[str, typer.Option(help="oldest trust list accepted")] = "7d",
    max_status_age: Annotated[str, typer.Option(help="oldest status list accepted")] = "1d",
    time_window: Annotated[str, typer.Option(help="± window for time-bound codes")] = "5m",
    cache_dir: CacheDir = DEFAULT_CACHE,
) -> None:
    """Verify a presentation offline. Exit 0: valid; 1: invalid; 2: usage or environment."""
    trust_age, status_age, window = (
        parse_duration(max_trust_age),
        parse_duration(max_status_age),
        parse_duration(time_window),
    )
    cache = TrustCache(cache_dir)
    try:
        snapshot = cache.load()
    except CacheMissingError as exc:
        _fail(str(exc), 2)
    options = {
        "now": datetime.now(UTC),
        "expected_challenge": challenge,
        "max_trust_age": trust_age,
        "max_status_age": status_age,
        "time_window": window,
        "replay": FileReplayStore(cache_dir / "replay.json", retention=2 * window),
    }
    if code == "-":
        data = sys.stdin.buffer.read()
        if data.lstrip().startswith(b"CL"):
            verdict = verify_payload(data.decode("utf-8", "replace").strip(), snapshot, **options)
        else:
            verdict = verify_image(data, snapshot, **options)
    elif Path(code).is_file():
        verdict = verify_image(Path(code), snapshot, **options)
    elif ":" in code[:8]:  # a payload such as CL1:… (a wrong prefix is an invalid verdict)
        verdict = verify_payload(code, snapshot, **options)
    else:
        _fail(f"no such file, and not a CL1: payload: {code[:80]}", 2)
    _print_verdict(verdict)
    raise typer.Exit(0 if verdict.valid else 1)


@verifier_app.command("sync")
def sync(
    url: Annotated[str, typer.Argument(help="the ledger's base URL")],
    operator_key: Annotated[
        str, typer.Option(help="the log operator's Ed25519 public key (base64), pinned")
    ],
    cache_dir: CacheDir = DEFAULT_CACHE,
) -> None:
    """Fetch the trust list and status lists for offline verification."""
    try:
        key = base64.b64decode(operator_key, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        _fail("--operator-key must be a base64 Ed25519 public key (32 bytes)", 2)
    result = TrustCache(cache_dir).sync(url, key)
    out.print(
        f"synced: trust list issued {result.trust_issued_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"{result.issuers} issuers, {len(result.status_lists)} status lists"
    )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: ledger errors become one line, never a traceback."""
    try:
        app(args=argv)
    except LedgerError as exc:
        _error(str(exc))
        sys.exit(2 if isinstance(exc, CacheMissingError) else 1)


if __name__ == "__main__":
    main()
