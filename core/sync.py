"""The report every provider-sync step writes to (console.sync runs the steps)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncResult:
    skipped: bool = False
    updated: int = 0
    orphans: list[str] = field(default_factory=list)
    # One line per later step (numbers, messages...), for the command and the staff page.
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.skipped:
            return "Skipped: another provider sync is running."
        head = f"Updated {self.updated} tenant(s); {len(self.orphans)} unknown subaccount(s)."
        return " ".join([head, *self.notes])
