"""/api/v1/contacts/: see docs/api.md."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Contacts"])
