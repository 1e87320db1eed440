"""A Bot API-compatible HTTP server on loopback, plus handles to act as Telegram users (tests and the sandbox).

The real python-telegram-bot (PTB) ``Application`` talks to this server over HTTP exactly as it
talks to ``api.telegram.org``: ``<url>/bot<token>/<method>`` for methods and
``<url>/file/bot<token>/<file_path>`` for file downloads.  The server runs on 127.0.0.1 on a
random free port inside the test's event loop.

Usage::

    from telegram.ext import ApplicationBuilder
    from sandbox.botapi import FakeBotApi

    async def test_booking_flow():
        async with FakeBotApi() as api:
            app = api.configure(ApplicationBuilder()).build()   # token + base_url + base_file_url
            register_handlers(app)
            async with api.running(app):                        # initialize/start/poll ... stop
                alice = api.user(101, first_name="Alice", username="alice")
                await alice.send("/start")
                welcome = await alice.wait_for("Welcome")        # event-driven, no sleeps
                assert alice.buttons() == ["Book a session", "My bookings"]
                await alice.press("Book a session")
                await alice.wait_for(lambda m: "Pick a day" in m.text)
                await api.wait_idle()                            # every update handled + answered
            api.assert_no_errors()

Without the helpers, build the application yourself with
``ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").base_file_url(f"{api.url}/file/bot")``,
call ``api.attach(app)`` (this makes :meth:`FakeBotApi.wait_idle` exact, see there) and run it with
``async with app: await app.start(); await app.updater.start_polling(poll_interval=0, timeout=1)``.

Behaviour worth knowing:

* Requests may be GET or POST with a query string, ``application/x-www-form-urlencoded``,
  ``application/json`` or ``multipart/form-data`` body.  PTB 22 sends form-encoded bodies (nested
  objects such as ``reply_markup`` as JSON strings) and multipart bodies when uploading files; a
  parameter-less call (``getMe``) is a POST with an empty body.
* Validation mirrors Telegram where it catches bot bugs: message text required and at most 4096
  characters after entity parsing (leading/trailing whitespace is trimmed, like Telegram), HTML
  ``parse_mode`` parsed with Telegram's rules and tag set, ``callback_data`` 1-64 bytes, inline
  buttons need exactly one action, ``editMessageText`` with identical content fails with
  "message is not modified", a callback query can be answered only once, editing/deleting unknown
  messages fails, ``editMessageText`` without ``reply_markup`` removes the inline keyboard (as on
  Telegram), and a bot cannot message a user who has never contacted it (``403 Forbidden: bot can't
  initiate conversation with a user``; pass ``started=True`` to :meth:`FakeBotApi.user` to skip).
  MarkdownV2 text is *not* validated.
* Unknown methods get ``404 Not Found`` (PTB raises ``EndPointNotFound``) and are recorded in
  :attr:`FakeBotApi.unknown_methods`.
* All waits are bounded (default 5 s) and raise :class:`HarnessTimeout` (an ``AssertionError``)
  with a transcript of the relevant state, so a broken test fails fast instead of hanging.
* ``getUpdates`` calls are not recorded in :attr:`FakeBotApi.calls` (they would drown everything
  else); see :attr:`FakeBotApi.get_updates_count` and :attr:`FakeBotApi.last_get_updates_params`.
* Webhooks: after ``setWebhook`` (https only), updates are *delivered* once the test says where the
  https URL is reachable locally: ``api.webhook_target = "http://127.0.0.1:<port>"`` replaces the
  scheme and host of the registered URL (the path is kept).  Each update is POSTed as JSON with
  ``X-Telegram-Bot-Api-Secret-Token`` (when a secret was set) and removed only after a 2xx answer;
  other answers and connection errors are recorded in :attr:`FakeBotApi.webhook_deliveries` as
  ``(update_id, status)`` (``status`` None: no HTTP answer), shown in ``getWebhookInfo`` as
  ``last_error_message``, and retried with a short backoff.  At most ``max_connections`` (default 40)
  requests are in flight, one per chat at a time, so one chat's updates arrive in order.  Pending
  updates keep :meth:`FakeBotApi.wait_idle` waiting, as with polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from aiohttp import web

from sandbox.botapi.errors import BLOCKED, ApiError, HarnessTimeout
from sandbox.botapi.methods import BotApiMethods
from sandbox.botapi.records import Call, CallbackQueryRecord, ChatMessage, ErrorRecord, FaultRule
from sandbox.botapi.state import BotApiState
from sandbox.botapi.users import FakeUser
from sandbox.botapi.validation import read_params
from sandbox.botapi.webhooks import WebhookDelivery

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_TOKEN", "FakeBotApi"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_TOKEN = "1000000:TEST-mentor-desk-token"
DEFAULT_TIMEOUT = 15.0  # seconds a wait gives up after; waits end when the awaited thing happens, so a passing
# test never spends it: it only has to outlast a machine busy with other work (and the dispatcher's 5 s round)


class FakeBotApi(BotApiState):
    """Bot API-compatible HTTP server on 127.0.0.1 (random port) for end-to-end tests.

    Use as ``async with FakeBotApi() as api:`` or call :meth:`start` / :meth:`stop` yourself; both
    must happen inside the test's event loop.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "mentor_desk_test_bot",
        bot_first_name: str = "Mentor Desk",
        default_timeout: float = DEFAULT_TIMEOUT,
        latency: float | Callable[[str], float] = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            default_timeout=default_timeout,
            clock=clock,
        )
        #: Seconds added to every request except getUpdates (a float or ``f(method) -> float``).
        self.latency = latency
        self.methods = BotApiMethods(self)
        self.payments = self.methods.payments  # invoices, checkouts, charges and refunds (``pay`` as a user)
        self.webhooks = WebhookDelivery(self)
        self._apps: list[Any] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

    # =========================================================================================
    # lifecycle
    # =========================================================================================
    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(
        self, *, host: str = "127.0.0.1", port: int = 0, routes: Sequence[web.AbstractRouteDef] = ()
    ) -> None:
        """Listen on ``host:port`` (port 0: a free one); ``routes`` are served beside the Bot API (the sandbox's
        web chat). A port in use raises ``OSError`` with ``errno.EADDRINUSE``."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        self.closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_routes(routes)
        # handler_cancellation: a request whose client went away (e.g. PTB cancelling its long
        # poll on stop) is cancelled instead of lingering until its timeout.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        # the bot (and the page) reach a server bound to every address through loopback
        self._host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        self.webhooks.start()

    async def stop(self) -> None:
        """Stop the server; pending long polls are released at once (they return no updates)."""
        if self._runner is None:
            return
        self.closing = True
        self.notify(activity=False)
        self.publish("closing", None, None)  # watchers holding connections open (the web chat's events) let go
        await self.webhooks.stop()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    def configure(self, builder: Any) -> Any:
        """Point a PTB ``ApplicationBuilder`` at this server (token, base_url, base_file_url)."""
        return builder.token(self.token).base_url(self.base_url).base_file_url(self.base_file_url)

    def attach(self, application: Any) -> Any:
        """Let :meth:`wait_idle` also wait for ``application`` to finish processing updates."""
        if application not in self._apps:
            self._apps.append(application)
        return application

    def detach(self, application: Any) -> None:
        with contextlib.suppress(ValueError):
            self._apps.remove(application)

    @contextlib.asynccontextmanager
    async def running(
        self,
        application: Any,
        *,
        poll_timeout: float = 1.0,
        drop_pending_updates: bool = False,
        run_hooks: bool = False,
    ) -> AsyncIterator[Any]:
        """Run a PTB ``Application`` with polling against this server; stop it cleanly on exit.

        Does ``initialize``, ``start``, ``updater.start_polling(poll_interval=0)`` and on exit
        ``updater.stop``, ``stop``, ``shutdown``, and attaches the application for
        :meth:`wait_idle`.  Like ``async with application``, this does *not* call the builder's
        ``post_init``/``post_stop``/``post_shutdown`` hooks (only ``run_polling`` does) unless
        ``run_hooks=True``, which calls them where ``run_polling`` would.
        """
        self.attach(application)
        try:
            await application.initialize()
            try:
                if run_hooks and application.post_init:
                    await application.post_init(application)
                await application.start()
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=dtm.timedelta(seconds=poll_timeout),
                    drop_pending_updates=drop_pending_updates,
                )
                try:
                    yield application
                finally:
                    if application.updater.running:
                        await application.updater.stop()
                    if application.running:
                        await application.stop()
                        if run_hooks and application.post_stop:
                            await application.post_stop(application)
            finally:
                await application.shutdown()
                if run_hooks and application.post_shutdown:
                    await application.post_shutdown(application)
        finally:
            self.detach(application)

    # =========================================================================================
    # test-side API
    # =========================================================================================
    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """Get or create the user ``user_id`` (private chat id == user id).

        ``started=True`` marks the user as having contacted the bot before, so the bot may message
        them without them sending anything first.
        """
        existing = self.people.get(user_id)
        if isinstance(existing, FakeUser):  # everyone here is one: this method makes them
            if first_name is not None:
                existing.first_name = first_name
            if username is not None:
                existing.username = username
            if last_name is not None:
                existing.last_name = last_name
            existing.language_code = language_code
            existing.started = existing.started or started
            return existing
        user = FakeUser(
            self,
            self.payments,
            user_id,
            first_name or f"User{user_id}",
            last_name,
            username,
            language_code,
            started,
        )
        self.people[user_id] = user
        self.chats.setdefault(user_id, [])
        return user

    @property
    def users(self) -> list[FakeUser]:
        return [person for person in self.people.values() if isinstance(person, FakeUser)]

    def chat(self, chat_id: int) -> list[ChatMessage]:
        return list(self.chats.get(chat_id, []))

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> FaultRule:
        """Make the next ``times`` calls of ``method`` (optionally only for ``chat_id``) fail.

        ``status`` 429 gets ``parameters.retry_after`` (PTB raises ``RetryAfter``), 403 defaults to
        "Forbidden: bot was blocked by the user" (``Forbidden``), 5xx to a server error
        (``NetworkError``).  ``method="*"`` matches any method except getUpdates.
        """
        if description is None:
            description = {
                400: "Bad Request",
                403: BLOCKED,
                429: f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }.get(status, f"Error {status}")
        if status == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule(method, status, description, retry_after, chat_id, remaining=times)
        self.faults.append(rule)
        return rule

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[ChatMessage]:
        """Bot messages (live objects), optionally of one chat, in sending order."""
        return [m for m in self.message_log if m.from_bot and (chat_id is None or m.chat_id == chat_id)]

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        return [q for q in self.callback_queries.values() if not q.answered]

    def assert_callbacks_answered_once(self) -> None:
        problems = [
            f"{q.id} (data={q.data!r}): answered {len(q.answers)}x, rejected {q.rejected_answers}x"
            for q in self.callback_queries.values()
            if len(q.answers) != 1 or q.rejected_answers
        ]
        if problems:
            raise AssertionError("callback queries not answered exactly once: " + "; ".join(problems))

    def assert_no_errors(self) -> None:
        """No unexpected error responses, unknown methods or harness failures happened."""
        problems = [
            f"{e.method} -> {e.error_code} {e.description}" for e in self.errors_returned if not e.injected
        ]
        problems += [f"unknown method {c.method}" for c in self.unknown_methods]
        problems += [f"harness error: {e}" for e in self.internal_errors]
        if problems:
            raise AssertionError("Bot API errors:\n  " + "\n  ".join(problems))

    def _active_since(self, seen: int) -> bool:
        """Whether anything happened since ``activity`` was ``seen``."""
        return self.activity != seen

    async def wait_idle(
        self,
        timeout: float | None = None,
        *,
        quiet: float = 0.05,
        require_answers: bool = True,
    ) -> None:
        """Wait until the bot has dealt with everything the test did.

        Idle means, all at the same time: every enqueued update has been *confirmed* by the bot
        (a later getUpdates carried an offset past it, which PTB sends only after it put the update
        into ``application.update_queue``); every callback query has been answered (unless
        ``require_answers=False``); no bot request other than getUpdates is in flight; and every
        attached application (see :meth:`attach` / :meth:`running`) has an empty update queue with
        all items marked done (``update_queue.join()``) and no running PTB-internal handler tasks
        (``block=False`` handlers, concurrent updates).  After that, no new activity (request,
        update, answer) may happen for ``quiet`` seconds; any activity restarts the check.  Each
        step is event-driven; the whole wait is bounded by ``timeout``.
        """
        loop = asyncio.get_running_loop()
        timeout_value = self.default_timeout if timeout is None else timeout
        deadline = loop.time() + timeout_value

        def describe() -> str:
            problems = self._idle_problems(require_answers) + self._app_problems()
            detail = "; ".join(problems) or "activity never settled"
            return f"wait_idle timed out after {timeout_value}s: {detail}"

        while True:
            await self.wait_until(
                lambda: not self._idle_problems(require_answers), deadline - loop.time(), describe
            )
            await self._wait_apps(deadline, describe)
            activity = self.activity
            quiet_end = loop.time() + quiet
            if quiet_end > deadline:
                raise HarnessTimeout(describe())
            changed = await self.wait_until(
                functools.partial(self._active_since, activity),
                quiet_end - loop.time(),
                describe,
                raise_on_timeout=False,
            )
            if changed or self._idle_problems(require_answers):
                continue
            await self._wait_apps(deadline, describe)  # returns at once when every update is done
            if self.activity == activity:
                return

    # =========================================================================================
    # internals: idle checks
    # =========================================================================================
    def _idle_problems(self, require_answers: bool) -> list[str]:
        problems = []
        if self.pending_updates:
            ids = [u.update_id for u in self.pending_updates]
            hint = "" if self.polls_waiting or self.in_flight else " (is the Updater polling?)"
            if self.webhook is not None:
                hint = " (webhook set, no webhook_target)" if self.webhook_target is None else " (webhook)"
            problems.append(f"{len(ids)} update(s) not yet confirmed by the bot {ids}{hint}")
        if self.in_flight:
            problems.append("bot requests in flight: " + ", ".join(c.method for c in self.in_flight))
        if require_answers:
            unanswered = self.unanswered_callbacks()
            if unanswered:
                problems.append(
                    "callback queries not answered: " + ", ".join(f"{q.id} (data={q.data!r})" for q in unanswered)
                )
        return problems

    @staticmethod
    def _app_busy_tasks(application: Any) -> list[asyncio.Task[Any]]:
        # The tasks PTB handles updates in: it names them "Application:<bot>:process_..." (an update, a
        # non-blocking handler, an error handler) and "ConversationHandler:..."; its update fetcher and
        # persistence loop run for good, and tasks the bot starts for itself have other names. Read from the
        # loop's task list, so no framework internals are needed.
        prefix = f"Application:{application.bot.id}:process_"
        return [
            t
            for t in asyncio.all_tasks()
            if not t.done() and t.get_name().startswith((prefix, "ConversationHandler:"))
        ]

    def _app_problems(self) -> list[str]:
        problems = []
        for application in self._apps:
            waiting = application.update_queue.qsize()
            if waiting:
                problems.append(f"application has {waiting} update(s) queued")
            busy = self._app_busy_tasks(application)
            if busy:
                problems.append("application tasks running: " + ", ".join(t.get_name() for t in busy))
        return problems

    async def _wait_apps(self, deadline: float, describe: Callable[[], str]) -> None:
        loop = asyncio.get_running_loop()
        for application in self._apps:
            try:
                await asyncio.wait_for(application.update_queue.join(), max(deadline - loop.time(), 0))
                busy = self._app_busy_tasks(application)
                if busy:
                    await asyncio.wait_for(asyncio.wait(busy), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise HarnessTimeout(describe()) from None

    # =========================================================================================
    # internals: HTTP
    # =========================================================================================
    def _response(self, status: int, body: dict[str, Any]) -> web.Response:
        return web.json_response(body, status=status)

    def _error_response(
        self,
        method: str,
        params: dict[str, Any],
        error: ApiError,
        *,
        injected: bool,
        request: web.Request | None = None,
        call: Call | None = None,
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        deliverable = request is None or (request.transport is not None and not request.transport.is_closing())
        if deliverable:
            self.errors_returned.append(
                ErrorRecord(method, params, error.code, error.description, injected, self.clock())
            )
        if call is not None:
            call.status = error.code
            call.description = error.description
        return self._response(error.code, body)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        is_poll = method.lower() == "getupdates"
        if request.match_info["token"] != self.token:
            return self._error_response(method, {}, ApiError(401, "Unauthorized"), injected=False)
        try:
            params, files = await read_params(request)
        except ApiError as exc:
            return self._error_response(method, {}, exc, injected=False)

        if is_poll:
            self.get_updates_count += 1
            self.last_get_updates_params = params
            fault = next((r for r in self.faults if r.method.lower() == "getupdates" and r.remaining > 0), None)
            if fault is not None:
                fault.remaining -= 1
                fault.hits += 1
                extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                error = ApiError(fault.status, fault.description, extra)
                return self._error_response(method, params, error, injected=True, request=request)
            try:
                result = await self.methods.get_updates(params, files)
            except ApiError as exc:
                return self._error_response(method, params, exc, injected=False, request=request)
            return self._response(200, {"ok": True, "result": result})

        loop = asyncio.get_running_loop()
        started = loop.time()
        call = Call(
            method=method,
            params=params,
            time=self.clock(),
            content_type=request.content_type if "Content-Type" in request.headers else "",
            files={k: (f.filename, f.content_type, len(f.content)) for k, f in files.items()},
        )
        self.calls.append(call)
        self.in_flight.append(call)
        self.notify()
        try:
            latency = self.latency(method) if callable(self.latency) else self.latency
            if latency:
                await asyncio.sleep(latency)
            fault = next((rule for rule in self.faults if rule.matches(method, params)), None)
            if fault is not None:
                fault.remaining -= 1
                fault.hits += 1
                extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                return self._error_response(
                    method, params, ApiError(fault.status, fault.description, extra), injected=True, call=call
                )
            handler = self.methods.handlers.get(method.lower())
            if handler is None:
                self.unknown_methods.append(call)
                return self._error_response(method, params, ApiError(404, "Not Found"), injected=False, call=call)
            try:
                result = await handler(params, files)
            except ApiError as exc:
                injected = exc.description in (BLOCKED,) and self.is_blocked(params.get("chat_id"))
                return self._error_response(method, params, exc, injected=injected, call=call)
            except Exception as exc:  # a harness bug: report loudly
                _LOGGER.exception("FakeBotApi failed handling %s", method)
                self.internal_errors.append(f"{method}: {exc!r}")
                return self._error_response(
                    method, params, ApiError(500, f"Internal Server Error: {exc!r}"), injected=False, call=call
                )
            call.status = 200
            call.result = result
            return self._response(200, {"ok": True, "result": result})
        finally:
            call.duration = loop.time() - started
            self.in_flight.remove(call)
            self.notify()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path and stored.content is not None:
                mime_type = stored.mime_type or "application/octet-stream"
                return web.Response(body=stored.content, content_type=mime_type)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
