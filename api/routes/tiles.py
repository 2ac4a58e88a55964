"""The log as C2SP tlog-tiles, so any standard tiles client can audit it with no code of ours.

Full tiles and partial tiles never change once they exist, so they are served as immutable;
the checkpoint changes with every integration and is served uncached.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ledger.errors import NotFoundError
from ledger.formats.tiles import ENTRIES_LEVEL, encode_entry_bundle, parse_tile_path

router = APIRouter(prefix="/log", tags=["tiles"])

_IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/checkpoint")
async def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    latest = await run_in_threadpool(request.app.state.log.store.latest_checkpoint)
    if latest is None:
        raise NotFoundError("the log has no checkpoint yet")
    return Response(
        latest.note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/tile/{path:path}")
async def tile(path: str, request: Request) -> Response:
    """A hash tile (``tile/<L>/<N>[.p/<W>]``) or an entry bundle (``tile/entries/<N>[.p/<W>]``)."""
    tile_id = parse_tile_path("tile/" + path)
    store = request.app.state.log.store
    if tile_id.level == ENTRIES_LEVEL:
        entries = await run_in_threadpool(store.entry_bundle, tile_id.index, tile_id.width)
        body = encode_entry_bundle(entries)
    else:
        body = await run_in_threadpool(store.hash_tile, tile_id.level, tile_id.index, tile_id.width)
    return Response(
        body, media_type="application/octet-stream", headers={"Cache-Control": _IMMUTABLE}
    )
