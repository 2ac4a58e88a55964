"""The consular ID credential: its ordered attribute list, the BBS header, and how attribute
values and presentation headers are written as bytes.

Schema 1, version 1 — thirteen BBS messages, in this order::

    0 document_number   1 family_name   2 given_names   3 birth_date   4 age_over_18
    5 age_over_21       6 nationality   7 issuing_consulate             8 issue_date
    9 expiry (YYYY-MM)  10 status_list_id               11 status_index
    12 holder_secret (random, never disclosed)

Every presentation discloses the attributes a verifier needs to decide validity offline
(:data:`ALWAYS_DISCLOSED`): nationality and issuing consulate (for the issuer's scope), issue
date (the issuer key must have been valid then), expiry (month only) and the status reference
(random per credential, one of a batch). The holder chooses the rest. The BBS header is the
same for every credential of this schema and holds no per-person value.

Example::

    attrs = CredentialAttributes(document_number="MX-C-1", family_name="Ruiz", ...)
    messages = attrs.messages()          # 13 byte strings for bbs.sign
    header = credential_header()         # the same for everyone
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta

import rfc8785

from ledger.errors import MalformedError

__all__ = [
    "ALWAYS_DISCLOSED",
    "ATTRIBUTES",
    "DOCUMENT_TYPE",
    "NEVER_DISCLOSED",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "CredentialAttributes",
    "PresentationContext",
    "age_over",
    "attribute_index",
    "challenge_header",
    "credential_header",
    "decode_disclosed",
    "disclosure_indexes",
    "parse_presentation_header",
    "time_header",
]

SCHEMA_ID = 1
SCHEMA_VERSION = 1
DOCUMENT_TYPE = "consular_id"

ATTRIBUTES: tuple[str, ...] = (
    "document_number",
    "family_name",
    "given_names",
    "birth_date",
    "age_over_18",
    "age_over_21",
    "nationality",
    "issuing_consulate",
    "issue_date",
    "expiry",
    "status_list_id",
    "status_index",
    "holder_secret",
)
ALWAYS_DISCLOSED: tuple[str, ...] = (
    "nationality",
    "issuing_consulate",
    "issue_date",
    "expiry",
    "status_list_id",
    "status_index",
)
NEVER_DISCLOSED: tuple[str, ...] = ("holder_secret",)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_CHALLENGE_PREFIX = b"cl-challenge:"
_TIME_PREFIX = b"cl-time:"
_TIME_FORMAT = "%Y-%m-%dT%H:%MZ"


def attribute_index(name: str) -> int:
    """The message index of attribute ``name``."""
    try:
        return ATTRIBUTES.index(name)
    except ValueError:
        raise MalformedError(
            f"unknown attribute {name!r}; attributes are {', '.join(ATTRIBUTES[:-1])}"
        ) from None


def credential_header() -> bytes:
    """The BBS header of every schema-1 credential: document type and schema, nothing personal."""
    return rfc8785.dumps({"doctype": DOCUMENT_TYPE, "schema": SCHEMA_ID, "v": SCHEMA_VERSION})


def age_over(birth_date: str, years: int, on: date) -> bool:
    """Whether someone born on ``birth_date`` is at least ``years`` old on ``on``."""
    born = date.fromisoformat(birth_date)
    had_birthday = (on.month, on.day) >= (born.month, born.day)
    return on.year - born.year - (0 if had_birthday else 1) >= years


@dataclass(frozen=True)
class CredentialAttributes:
    """The thirteen signed values, as text. Construction checks each one's form."""

    document_number: str
    family_name: str
    given_names: str
    birth_date: str
    age_over_18: str
    age_over_21: str
    nationality: str
    issuing_consulate: str
    issue_date: str
    expiry: str
    status_list_id: str
    status_index: str
    holder_secret: str

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, str) or not value or len(value) > 200:
                raise MalformedError(f"credential attribute {f.name}: 1..200 characters of text")
        if not _DATE.match(self.birth_date) or not _valid_date(self.birth_date):
            raise MalformedError("credential attribute birth_date: expected YYYY-MM-DD")
        if not _DATE.match(self.issue_date) or not _valid_date(self.issue_date):
            raise MalformedError("credential attribute issue_date: expected YYYY-MM-DD")
        if not _MONTH.match(self.expiry):
            raise MalformedError("credential attribute expiry: expected YYYY-MM")
        for name in ("age_over_18", "age_over_21"):
            if getattr(self, name) not in ("true", "false"):
                raise MalformedError(f"credential attribute {name}: expected true or false")
        if not _COUNTRY.match(self.nationality):
            raise MalformedError("credential attribute nationality: expected ISO 3166 alpha-3")
        if not self.status_index.isdigit():
            raise MalformedError("credential attribute status_index: expected a decimal number")

    def messages(self) -> list[bytes]:
        """The BBS messages, in schema order, UTF-8."""
        return [getattr(self, name).encode() for name in ATTRIBUTES]

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, str]) -> CredentialAttributes:
        missing = [name for name in ATTRIBUTES if name not in values]
        extra = [name for name in values if name not in ATTRIBUTES]
        if missing or extra:
            raise MalformedError(f"credential attributes: missing {missing}, unknown {extra}")
        return cls(**{name: values[name] for name in ATTRIBUTES})


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def decode_disclosed(disclosed: Mapping[int, bytes]) -> dict[str, str]:
    """Disclosed messages by attribute name; refuses an index outside the schema or non-UTF-8."""
    result: dict[str, str] = {}
    for index, value in disclosed.items():
        if not 0 <= index < len(ATTRIBUTES):
            raise MalformedError(f"disclosed index {index} is not an attribute of schema 1")
        try:
            result[ATTRIBUTES[index]] = value.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError(f"disclosed {ATTRIBUTES[index]} is not UTF-8") from None
    return result


# --- presentation headers --------------------------------------------------------------------


def challenge_header(challenge: str) -> bytes:
    """The presentation header binding a verifier's challenge (1..64 printable characters)."""
    if not 1 <= len(challenge) <= 64 or not challenge.isprintable() or not challenge.isascii():
        raise MalformedError("challenge must be 1..64 printable ASCII characters")
    return _CHALLENGE_PREFIX + challenge.encode()


def time_header(moment: datetime) -> bytes:
    """The presentation header when no challenge can be exchanged: the time to the minute."""
    return _TIME_PREFIX + moment.astimezone(UTC).strftime(_TIME_FORMAT).encode()


@dataclass(frozen=True)
class PresentationContext:
    """What a presentation header says: a challenge, or the minute it was made."""

    challenge: str | None = None
    made_at: datetime | None = None

    def within(self, now: datetime, window: timedelta) -> bool:
        return self.made_at is not None and abs(now - self.made_at) <= window


def parse_presentation_header(header: bytes) -> PresentationContext:
    if header.startswith(_CHALLENGE_PREFIX):
        text = header[len(_CHALLENGE_PREFIX) :].decode("ascii", "replace")
        return PresentationContext(challenge=text)
    if header.startswith(_TIME_PREFIX):
        try:
            text = header[len(_TIME_PREFIX) :].decode("ascii")
            moment = datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
        except (UnicodeDecodeError, ValueError):
            raise MalformedError("presentation header: malformed time") from None
        return PresentationContext(made_at=moment)
    raise MalformedError("presentation header: neither a challenge nor a time")


def disclosure_indexes(chosen: Sequence[str]) -> list[int]:
    """The sorted message indexes to disclose: the holder's choice plus :data:`ALWAYS_DISCLOSED`."""
    names = set(chosen) | set(ALWAYS_DISCLOSED)
    for name in names:
        attribute_index(name)
    if names & set(NEVER_DISCLOSED):
        raise MalformedError("the holder secret is never disclosed")
    return sorted(attribute_index(name) for name in names)
