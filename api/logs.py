"""Structured logs: one JSON object per line on stderr.

Only whitelisted fields are written, so an entry body, a token or a personal value passed in a
log call's ``extra`` by mistake is dropped rather than logged.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["configure_logging"]

_FIELDS = ("method", "route", "status", "ms", "batch", "size", "error", "index", "origin", "url")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("consular_ledger")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
