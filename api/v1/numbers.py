"""/api/v1/numbers/: see docs/api.md."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Numbers"])
