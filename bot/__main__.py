"""``python -m bot``: check the settings, apply migrations, then long-poll Telegram."""

from __future__ import annotations

import logging
import sys

from telegram import Update

from bot.app import build_application
from bot.config import ConfigError, load_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"mentor-desk: {error}", file=sys.stderr)
        return 2
    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
