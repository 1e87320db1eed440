"""``python -m bot``: check the settings, apply migrations, then take updates from Telegram.

Long polling when ``WEBHOOK_URL`` is unset (one process: the ``worker`` of the Procfile). With ``WEBHOOK_URL``
set, webhook mode (``bot.web``): an HTTP server on ``WEBHOOK_LISTEN:PORT`` takes Telegram's updates and answers
``GET /healthz`` - the ``web`` process, which may run as several workers behind one URL. Run one or the other,
never both: polling deletes the webhook.

Exit status: 0 after a clean stop (SIGTERM/SIGINT); 2 when a setting is missing or invalid; 1 when start-up fails
for a reason outside the program (the database or the Bot API cannot be reached, the token is rejected, the port
is taken). Both failures are one line on stderr (``bot.config``, ``bot.lifecycle``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Sequence

from bot.app import build_application
from bot.config import ConfigError, load_settings
from bot.lifecycle import StartupError, database_failure, run_polling
from bot.web import create_runner, run_webhook
from domain.ports import Clock


def main(clock: Clock | None = None) -> int:
    """``clock``: the real one unless given (tests run whole processes on a clock of their own)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # the outbox wake-up job runs every few seconds
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"mentor-desk: {error}", file=sys.stderr)
        return 2
    try:
        application = build_application(settings, clock=clock)
    except OSError as error:  # a SQLite file's directory that cannot be made
        return _startup_failed(database_failure(error, settings))
    # Everything imported and built so far lives as long as the process: move it out of the collector's sight,
    # so that full collections walk only what updates allocate (they took up to 127 ms each without this;
    # benchmarks/bench_flow.py, p99 latency).
    gc.collect()
    gc.freeze()
    # The collector's default - a young-generation pass every 700 net new container objects - ran 100-150 times a
    # second under load; with hundreds of updates in flight each pass, and each second-generation pass (every
    # 10th, about 2 ms), walked what they hold: 6-8% of the bot's CPU. After every 50,000 it runs about once in
    # two seconds, 10-20 ms each, 1-2% in all (benchmarks/bench_flow.py, 50 ms latency: 293 -> 306 updates/s).
    # What waits for it - garbage in reference cycles - is at most that many objects.
    gc.set_threshold(50_000, 10, 10)
    try:
        if settings.webhook_url:
            asyncio.run(run_webhook(application, settings))
        else:  # with PUBLIC_URL, the HTTP server for the calendar feeds too
            server = create_runner(application, settings) if settings.public_url else None
            asyncio.run(run_polling(application, settings, server=server))
    except StartupError as error:
        return _startup_failed(error)
    return 0


def _startup_failed(error: StartupError) -> int:
    print(f"mentor-desk: {error}", file=sys.stderr)
    return 1


def cli(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """The command line: ``python -m bot`` and the ``mentor-desk`` script (``[project.scripts]``). Without
    options, the bot (``main``); options are the sandbox's (``--sandbox [--port N] [--host H] [--reset]``, or
    ``--help``). ``argv`` and ``prog``: ``sys.argv``'s unless given."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args:
        from sandbox.main import main as sandbox_main

        return sandbox_main(args, prog=prog or os.path.basename(sys.argv[0]))
    return main()


if __name__ == "__main__":
    sys.exit(cli(prog="python -m bot"))
