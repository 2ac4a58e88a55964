"""One router per resource: ``log`` (JSON API) and ``tiles`` (C2SP tlog-tiles)."""
