"""/api/v1/campaigns/: see docs/api.md."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Campaigns"])
