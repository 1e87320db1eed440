"""Debian's headless Chromium driven by Selenium, for the sandbox page; every wait is an event with a bound.

Selenium's calls block, and the sandbox runs in the test's event loop: each call runs in a thread. Waiting for
something on the page is a MutationObserver in the page that answers as soon as it appears (never a sleep, and
never longer than the time-out).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TIMEOUT = 15.0
# No network: no updates, no field trials, no sync, no QUIC; a fresh profile so nothing from an earlier run leaks.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
)  # fmt: skip

# Resolves with what ``find`` returns as soon as that is not null: at once, or at the DOM change that makes it so.
_WAIT = """
const done = arguments[arguments.length - 1];
const find = new Function("args", arguments[0]);
const args = [...arguments].slice(1, -1);
const found = find(args);
if (found) { done(found); return; }
const observer = new MutationObserver(() => {
  const node = find(args);
  if (node) { observer.disconnect(); done(node); }
});
observer.observe(document.documentElement, {
  subtree: true, childList: true, characterData: true, attributes: true,
});
"""

# The last element matching the selector whose text contains (or equals) the text, if any (or, with ``read``,
# that property of it: the page may replace the element at any moment, so what the test reads is read here).
_LAST_MATCHING = """
const [selector, text, exact, read] = args;
const nodes = [...document.querySelectorAll(selector)].filter((node) => {
  if (text === null) return true;
  const shown = node.textContent.trim();
  return exact ? shown === text : shown.includes(text);
});
if (!nodes.length) return null;
const last = nodes[nodes.length - 1];
return read ? last[read] : last;
"""


def require_chromium() -> None:
    """Skip without Chromium, Chromedriver or Selenium - except on CI, where that is a failure."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        message = f"the browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Browser:
    def __init__(self, width: int, height: int) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online
        self.profile = tempfile.TemporaryDirectory(prefix="sandbox-chromium-")
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_script_timeout(TIMEOUT)

    @classmethod
    async def open(cls, width: int, height: int) -> Browser:
        return await asyncio.to_thread(cls, width, height)

    async def close(self) -> None:
        await asyncio.to_thread(self.driver.quit)
        self.profile.cleanup()

    async def call(self, function: Any, *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    async def js(self, script: str, *args: Any) -> Any:
        return await self.call(self.driver.execute_script, script, *args)

    async def get(self, url: str) -> None:
        await self.call(self.driver.get, url)

    async def wait(
        self, selector: str, text: str | None = None, *, exact: bool = False, read: str | None = None
    ) -> Any:
        """The last element matching ``selector`` (with ``text``), once there is one, or its property ``read``
        (``"innerText"``, ``"href"``); fails after ``TIMEOUT``."""
        return await self.wait_for(_LAST_MATCHING, selector, text, exact, read, what=f"{selector!r} with {text!r}")

    async def wait_for(self, find: str, *args: Any, what: str) -> Any:
        """What the JavaScript function body ``find`` (given ``args``) returns, once it is not null."""
        from selenium.common.exceptions import TimeoutException

        try:
            return await self.call(self.driver.execute_async_script, _WAIT, find, *args)
        except TimeoutException:
            shown = await self.js("return document.body.innerText")
            raise AssertionError(f"no {what} within {TIMEOUT}s; the page:\n{shown}") from None

    async def click(self, selector: str, text: str | None = None, *, exact: bool = True) -> None:
        """Click (a real click, where the element is on screen) the last element matching, once it is there.

        The page draws a chat afresh when a message arrives, so an element found may be replaced before the click
        lands: then it is found again (bounded)."""

        await self.click_found(_LAST_MATCHING, selector, text, exact, None, what=f"{selector!r} with {text!r}")

    async def click_found(self, find: str, *args: Any, what: str) -> None:
        """Click what ``find`` returns (see :meth:`wait_for`); found again if the page replaced it meanwhile."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _attempt in range(5):
            element = await self.wait_for(find, *args, what=what)
            try:
                await self.call(element.click)
                return
            except StaleElementReferenceException:
                continue
        raise AssertionError(f"{what} kept being replaced before it could be clicked")

    async def type(self, selector: str, text: str) -> None:
        element = await self.wait(selector)
        await self.call(element.send_keys, text)

    async def screenshot(self, path: Path) -> None:
        assert await self.call(self.driver.save_screenshot, str(path)), path
