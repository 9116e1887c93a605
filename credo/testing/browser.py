"""Load a page in headless Chromium and return the DOM after its scripts ran.

Used by the tests of the HTML reports and the record viewer: what a reader sees is what
the browser builds, not what the template wrote. CI installs Debian's
``chromium-headless-shell`` (``make browser``); without a browser the tests skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

BROWSERS = (
    "chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "chrome-headless-shell",
)


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH (or ``$CREDO_BROWSER``), else None."""
    explicit = os.environ.get("CREDO_BROWSER")
    if explicit:
        return shutil.which(explicit)
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def dump_dom(page: Path | str, fragment: str = "", timeout: float = 60.0) -> str:
    """The serialised DOM of ``page`` (a file, or an http URL as a string); ``fragment`` is
    appended to its URL, e.g. ``#label=REFUSAL``."""
    url = page if isinstance(page, str) else Path(page).resolve().as_uri()
    return _chromium(["--dump-dom", url + fragment], timeout)


def screenshot(page: Path | str, out: Path, size: str = "1280,800", timeout: float = 60.0) -> Path:
    """A PNG of ``page`` as a reader's window of ``size`` pixels shows it (for a human to check)."""
    url = page if isinstance(page, str) else Path(page).resolve().as_uri()
    _chromium([f"--window-size={size}", f"--screenshot={out}", url], timeout, dom=False)
    return out


def _chromium(extra: list[str], timeout: float, dom: bool = True) -> str:
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no headless Chromium: apt-get install chromium-headless-shell")
    # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-extensions",
        "--virtual-time-budget=2000",
        *extra,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or (dom and "<html" not in done.stdout):
        raise RuntimeError(f"{browser} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def visible_text(dom: str) -> str:
    """The text a reader sees: the DOM without tags, styles and scripts, whitespace collapsed."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.hidden += tag in ("style", "script", "title")

        def handle_endtag(self, tag: str) -> None:
            self.hidden -= tag in ("style", "script", "title")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data)

    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


def page_text(
    url: str, ready: Callable[[str], bool], timeout: float = 60.0, poll: float = 0.5
) -> str:
    """The text a reader sees of ``url`` (``document.body.innerText``, one line per block)
    once ``ready(text)`` holds, or as it stands after ``timeout`` seconds.

    For an app that fetches its data after loading (Inspect's log viewer), where
    ``--dump-dom`` returns the spinner: Chromium is driven over its DevTools protocol on a
    pipe (``--remote-debugging-pipe``: commands on fd 3, replies on fd 4, each message
    JSON ended by NUL), so nothing beyond the standard library is needed."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no headless Chromium: apt-get install chromium-headless-shell")
    commands_read, commands_write = os.pipe()
    replies_read, replies_write = os.pipe()

    def onto_fds_3_and_4() -> None:  # in the child, before exec
        # copied above 9 first, so neither end can be overwritten by the other's dup2
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_read, replies_write)]
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)

    process = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe"],
        preexec_fn=onto_fds_3_and_4,
        pass_fds=(3, 4, commands_read, replies_write),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(commands_read)
    os.close(replies_write)
    with (
        os.fdopen(commands_write, "wb", buffering=0) as send,
        os.fdopen(replies_read, "rb") as receive,
    ):
        pending = b""
        sent = 0

        def call(method: str, session: str | None = None, **params: object) -> dict:
            nonlocal pending, sent
            sent += 1
            message: dict[str, object] = {"id": sent, "method": method, "params": params}
            if session:
                message["sessionId"] = session
            send.write(json.dumps(message).encode() + b"\0")
            while True:
                while b"\0" not in pending:
                    chunk = receive.read1(1 << 16)
                    if not chunk:
                        raise RuntimeError(f"{browser} closed its DevTools pipe")
                    pending += chunk
                raw, pending = pending.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == sent:  # events and other replies are not ours
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return dict(reply["result"])

        try:
            target = call("Target.createTarget", url="about:blank")["targetId"]
            session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            call("Page.navigate", session, url=url)
            deadline, text = time.monotonic() + timeout, ""
            while True:
                body = "document.body ? document.body.innerText : ''"
                text = str(
                    call("Runtime.evaluate", session, expression=body)["result"].get("value", "")
                )
                if ready(text) or time.monotonic() > deadline:
                    return text
                time.sleep(poll)
        finally:
            process.terminate()
            process.wait(timeout=30)
