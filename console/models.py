"""The console's own tables (Django finds models here)."""

from console.traffic.models import DailyTraffic

__all__ = ["DailyTraffic"]
