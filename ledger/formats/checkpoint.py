"""C2SP tlog checkpoints (c2sp.org/tlog-checkpoint): the signed tree head of the log.

The body is ``origin\\nsize\\nbase64(root)\\n`` followed by optional extension lines; it is
signed as a C2SP signed note (:mod:`ledger.formats.note`). Parsing is strict so that there is
exactly one byte form per checkpoint: decimal size with no leading zeros, canonical base64 of a
32-byte root, a non-empty origin without control characters, non-empty extension lines.

Origins: the spec says an origin SHOULD contain neither Unicode spaces nor '+', but clients
MUST NOT assume it, and the Go checksum database really uses ``go.sum database tree``. So
parsing accepts spaces, while :func:`sign_checkpoint` (our own log) insists on the recommended
form.

Errors: :class:`CheckpointError` "malformed checkpoint: …"; signature failures and an
unexpected origin are :class:`~ledger.errors.VerificationError`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass

from ledger.errors import MalformedError, VerificationError
from ledger.formats.note import Verifier, sign_note, verify_note

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CheckpointError",
    "open_checkpoint",
    "parse_checkpoint_body",
    "sign_checkpoint",
]

MAX_TREE_SIZE = 2**63 - 1
_SIZE_RE = re.compile(r"^(0|[1-9][0-9]*)$")
_SPACE_RE = re.compile(r"\s")
_CONTROL_RE = re.compile(r"[\x00-\x1f]")


class CheckpointError(MalformedError):
    """A checkpoint body that does not follow the tlog-checkpoint format."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash, and (discouraged) extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"malformed checkpoint: size {self.size} out of range")
        if len(self.root) != 32:
            raise CheckpointError(
                f"malformed checkpoint: root must be 32 bytes, got {len(self.root)}"
            )
        for line in self.extensions:
            if not line or "\n" in line or _CONTROL_RE.search(line):
                raise CheckpointError(f"malformed checkpoint: bad extension line {line!r}")

    def body(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` then one line per extension."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "".join(line + "\n" for line in (*lines, *self.extensions))


def _check_origin(origin: str) -> None:
    if not origin:
        raise CheckpointError("malformed checkpoint: empty origin")
    if _CONTROL_RE.search(origin):
        raise CheckpointError("malformed checkpoint: origin contains a control character")


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly (see the module docstring)."""
    if not text.endswith("\n"):
        raise CheckpointError("malformed checkpoint: text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"malformed checkpoint: expected at least 3 lines, got {len(lines)}")
    origin, size_text, root_text, *extensions = lines
    _check_origin(origin)
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(
            f"malformed checkpoint: size {size_text[:40]!r} is not a decimal without leading zeros"
        )
    if len(size_text) > 19 or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError(f"malformed checkpoint: size {size_text[:40]} out of range")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("malformed checkpoint: root is not valid base64") from None
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != root_text:
        raise CheckpointError(
            f"malformed checkpoint: root must be canonical base64 of 32 bytes, got {len(root)}"
        )
    for number, line in enumerate(extensions, 4):
        if not line:
            raise CheckpointError(f"malformed checkpoint: line {number} (extension) is empty")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    cp: Checkpoint, name: str, sign: Callable[[bytes], bytes], public_key: bytes
) -> str:
    """The signed note of ``cp`` by the key ``name``/``public_key`` (name SHOULD be the origin).

    Our own origins must follow the spec's recommendation: no Unicode spaces and no '+'.
    """
    if _SPACE_RE.search(cp.origin) or "+" in cp.origin:
        raise CheckpointError(
            f"malformed checkpoint: origin {cp.origin!r} contains a space or '+'; not signing"
        )
    return sign_note(cp.body(), name, sign, public_key)


def open_checkpoint(note: str | bytes, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """Verify the log's signature on a checkpoint note, then parse it.

    If ``origin`` is given, the checkpoint must carry exactly that origin
    (VerificationError "checkpoint origin mismatch: …").
    """
    text = verify_note(note, [verifier])
    cp = parse_checkpoint_body(text)
    if origin is not None and cp.origin != origin:
        raise VerificationError(
            f"checkpoint origin mismatch: expected {origin!r}, got {cp.origin!r}"
        )
    return cp
