"""What the sandbox keeps beside its database (``data/sandbox.json``): the people in it and how far its clock has
been moved. The bot's own data lives in the database; the chats themselves live only while the sandbox runs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person in the sandbox: their Telegram user id (= their chat with the bot), name and app language."""

    id: int
    first_name: str
    language_code: str
    last_name: str | None = None


@dataclass(slots=True)
class SandboxRecord:
    clock_offset_seconds: float = 0.0
    people: list[PersonRecord] = field(default_factory=list)


def load(path: Path) -> SandboxRecord | None:
    """The record at ``path``, or None when there is none (a new sandbox)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    people = [
        PersonRecord(int(p["id"]), str(p["first_name"]), str(p["language_code"]), p.get("last_name"))
        for p in raw["people"]
    ]
    return SandboxRecord(float(raw["clock_offset_seconds"]), people)


def save(path: Path, record: SandboxRecord) -> None:
    """Write ``record`` whole or not at all (a new file moved over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(asdict(record), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)
