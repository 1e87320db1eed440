"""Every user-facing string is in every catalog, translated, with the same placeholders and markup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from chat.i18n import LOCALES_DIR, SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?[a-z]+>")


def catalog(locale: str):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def source_ids(tmp_path: Path) -> set[str]:
    """Extract the strings from the code as it is now (not from a possibly stale .pot)."""
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fp:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return source_ids(tmp_path_factory.mktemp("pot"))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_has_every_string_of_the_code(locale: str, extracted: set[str]) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    missing = sorted(extracted - ids)
    assert not missing, f"run scripts/update_catalogs.py and translate: {missing[:5]}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_entry_is_translated_with_the_same_placeholders_and_tags(locale: str) -> None:
    problems: list[tuple[str, ...]] = []
    for message in catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(("untranslated", ids[0]))
            continue
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(" ".join(ids))):
                problems.append(("unknown placeholder", ids[0], text))
            if set(PLACEHOLDER.findall(ids[0])) - set(PLACEHOLDER.findall(text)) - {"{count}"}:
                problems.append(("placeholder dropped", ids[0], text))
            if sorted(TAG.findall(text)) != sorted(TAG.findall(ids[0])):
                problems.append(("markup differs", ids[0], text))
            if _written_twice(text) and not _written_twice(ids[0]):  # a merge of two translations, glued
                problems.append(("translation written twice", ids[0], text))
    assert not problems, problems[:5]


def _written_twice(text: str) -> bool:
    half = len(text) // 2
    return len(text) > 1 and len(text) % 2 == 0 and text[:half] == text[half:]


def test_a_translation_written_twice_is_found() -> None:
    assert _written_twice("Ок.Ок.") and not _written_twice("Ок.") and not _written_twice("Ок. Ок")
