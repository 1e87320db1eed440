"""The baseline of ``benchmarks.bench_flow``: a bare python-telegram-bot echo bot, as the issue defines it.

``ApplicationBuilder().concurrent_updates(256)`` and otherwise PTB's defaults (its httpx request backend, no rate
limiter, long polling); every text message is answered with the same text. Run as
``python -m benchmarks.echo_bot <api url> <token>``; it stops on SIGINT/SIGTERM like any PTB bot.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    api_url, token = sys.argv[1], sys.argv[2]
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .concurrent_updates(256)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
