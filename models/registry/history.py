"""The served-history file of a model: which versions were served, in order, so a rollback knows
where to go back to. Kept as ``<repository>/<model>/served_history.json`` (Triton ignores files
that are not version folders)::

    {"stack": [1, 2, 3],                         # served versions, current last
     "events": [{"at": "...", "action": "promote", "version": 3, "from": 2, "note": "..."}, ...]}

``promote`` pushes onto the stack, ``rollback`` pops the current version; ``events`` is the
append-only log (the newest MAX_EVENTS are kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HISTORY_FILE = "served_history.json"
MAX_EVENTS = 200


@dataclass
class ServedHistory:
    stack: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, model_dir: Path) -> ServedHistory:
        path = Path(model_dir) / HISTORY_FILE
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([int(v) for v in data.get("stack", [])], list(data.get("events", [])))

    def save(self, model_dir: Path) -> None:
        path = Path(model_dir) / HISTORY_FILE
        tmp = path.with_name(f".{HISTORY_FILE}.tmp")
        payload = {"stack": self.stack, "events": self.events[-MAX_EVENTS:]}
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)

    @property
    def current(self) -> int | None:
        return self.stack[-1] if self.stack else None

    def seed(self, served: list[int]) -> None:
        """Start the stack from what config.pbtxt serves when no history exists yet."""
        if not self.stack and served:
            self.stack = [served[-1]]

    def previous(self) -> int | None:
        """The version a rollback returns to."""
        return self.stack[-2] if len(self.stack) >= 2 else None

    def record_promote(self, version: int, note: str = "") -> None:
        before = self.current
        if before != version:
            self.stack.append(version)
        self._log("promote", version, before, note)

    def record_rollback(self, note: str = "") -> int:
        """Pop the current version; returns the one now served."""
        target = self.previous()
        if target is None:
            raise ValueError("no earlier served version to roll back to")
        before = self.stack.pop()
        self._log("rollback", target, before, note)
        return target

    def _log(self, action: str, version: int, before: int | None, note: str) -> None:
        self.events.append(
            {
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "action": action,
                "version": version,
                "from": before,
                "note": note,
            }
        )
