"""``python -m bot --sandbox [--port 8080] [--host 127.0.0.1] [--reset]``: the bot and a web chat to try it in.

No token and no network: the bot talks to the Bot API server embedded in this process (``sandbox.botapi``), on
loopback, whatever ``BOT_TOKEN`` or ``TELEGRAM_API_URL`` say. Data lives in ``./data/sandbox.sqlite3`` (and
``./data/sandbox.json``); ``--reset`` starts over with the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from sandbox.runtime import Paths, Sandbox, running
from sandbox.web import WebChat

DATA_DIRECTORY = Path("data")


def parse_args(argv: Sequence[str], prog: str = "python -m bot") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Without options: run the bot on Telegram (BOT_TOKEN). With --sandbox: try it locally in a "
        "browser, with no token and no network.",
    )
    parser.add_argument("--sandbox", action="store_true", help="run the sandbox (required for the options below)")
    parser.add_argument("--port", type=_port, default=8080, help="the web chat's port (default 8080; 0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--reset", action="store_true", help="start over: a new database with the demo data")
    args = parser.parse_args(argv)
    if not args.sandbox:
        parser.error("--port, --host and --reset go with --sandbox")
    return args


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {raw!r}")
    return int(raw)


def main(argv: Sequence[str], prog: str = "python -m bot") -> int:
    """``prog``: the command's name in usage and errors (``mentor-desk`` when run as the installed script)."""
    args = parse_args(argv, prog)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sandbox").setLevel(logging.INFO)
    try:
        asyncio.run(serve(Paths.in_directory(DATA_DIRECTORY), args.host, args.port, args.reset))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"mentor-desk sandbox: port {args.port} is already in use on {args.host}; "
            f"stop what runs there or choose another with --port",
            file=sys.stderr,
        )
        return 1
    return 0


async def serve(paths: Paths, host: str, port: int, reset: bool) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loopback = host in ("127.0.0.1", "localhost", "::1")

    def routes(sandbox: Sandbox) -> list[web.RouteDef]:
        return WebChat(sandbox, loopback_only=loopback).routes()

    async with running(paths, host=host, port=port, reset=reset, routes=routes) as sandbox:
        print(
            f"Mentor Desk sandbox: open {sandbox.api.url} in a browser (no token, no network; Ctrl+C stops it)",
            flush=True,
        )
        await stop.wait()
