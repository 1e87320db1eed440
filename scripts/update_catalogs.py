"""Re-extract every translatable string and bring the catalogs up to date.

    python scripts/update_catalogs.py

Runs ``pybabel extract`` into ``chat/locales/messages.pot`` and ``pybabel update`` for each locale (``init``
for a new one). The English catalog is the source language: its ``msgstr`` is filled from ``msgid`` so that
English wording can be adjusted there without touching code. Other locales keep empty entries for translators
(``tests/unit/test_catalogs.py`` fails until they are filled).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "chat" / "locales"
POT = LOCALES / "messages.pot"
SOURCE_LOCALE = "en"
WIDTH = 115  # every catalog is wrapped the same way, so an update changes only the entries that changed


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT, check=True)


def main() -> None:
    from chat.i18n import SUPPORTED_LOCALES

    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "N_",
        "-k",
        "ngettext:1,2",
        "--no-location",
        "--sort-output",
        "--add-comments",
        "TRANSLATORS:",
        "--project",
        "Mentor Desk",
        "-w",
        str(WIDTH),
        "-o",
        str(POT),
        ".",
    )
    for locale in SUPPORTED_LOCALES:
        po = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
        pybabel(
            command, "-i", str(POT), "-d", str(LOCALES), "-D", "messages", "-l", locale, "-w", str(WIDTH), *extra
        )
    source = LOCALES / SOURCE_LOCALE / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as fp:
        catalog = read_po(fp, locale=SOURCE_LOCALE)
    for message in catalog:
        plural_untranslated = isinstance(message.string, tuple | list) and not all(message.string)
        if (message.id and not message.string) or (isinstance(message.id, tuple) and plural_untranslated):
            message.string = message.id if isinstance(message.id, str) else tuple(message.id)
    with source.open("wb") as fp:
        write_po(fp, catalog, width=WIDTH, omit_header=False, sort_output=True)


if __name__ == "__main__":
    main()
