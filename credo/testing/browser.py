"""Load a page in headless Chromium and return the DOM after its scripts ran.

Used by the tests of the HTML reports and the record viewer: what a reader sees is what
the browser builds, not what the template wrote. CI installs Debian's
``chromium-headless-shell`` (``make browser``); without a browser the tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
