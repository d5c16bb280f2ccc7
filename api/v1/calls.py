"""/api/v1/calls/: see docs/api.md."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Calls"])
