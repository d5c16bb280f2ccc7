"""/api/v1/recordings/: see docs/api.md."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Recordings"])
