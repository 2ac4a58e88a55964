"""The online verifier's memory of accepted presentations, so a proof cannot be used twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from ledger.formats.entry import format_time
from ledger.store.database import writing
from ledger.store.models import SeenPresentationRow

__all__ = ["DatabaseReplayStore"]


class DatabaseReplayStore:
    """Replay memory in the database: one row per accepted presentation digest."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def check_and_record(self, digest: bytes, now: datetime) -> bool:
        """Record ``digest``; True if it was recorded before (a replay). Atomic across processes."""
        try:
            with writing(self._engine) as conn:
                conn.execute(
                    insert(SeenPresentationRow).values(digest=digest, seen_at=format_time(now))
                )
        except IntegrityError:
            return True
        return False
