"""Headless Chromium on the built reports: a local server, a driver, a screenshot.

``fmnist report --screenshot PATH`` takes the README's picture of the landing page with
:func:`screenshot`, and ``tests/test_browser.py`` opens the pages as a reader does, with
:func:`serve` and :func:`chromium`. Selenium (the ``dev`` extra) drives the Debian packages
``chromium`` and ``chromium-driver``: the driver is named, so Selenium Manager never downloads
a browser or a driver. The pages are served over HTTP on 127.0.0.1 rather than opened as
``file://``, so that a file the page names but the directory lacks is a visible 404.

Example::

    from fmnist.course.browser import screenshot
    screenshot("reports/index.html", "docs/index.png")
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fmnist.atomic import atomic_write_bytes

__all__ = ["CHROMEDRIVER", "CHROMIUM", "CHROMIUM_ARGS", "BrowserUnavailable", "chromium", "missing",
           "resize", "screenshot", "serve"]  # fmt: skip

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver, the same version
#: Headless, and quiet on the network: no first-run pages, updates, sync or QUIC probes.
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
#: Seconds a page may take to load.
PAGE_TIMEOUT = 60


class BrowserUnavailable(RuntimeError):
    """Chromium, its driver or Selenium is not installed."""


def missing() -> str | None:
    """What is missing to drive the browser (a sentence naming the fix), or None."""
    absent = [name for name, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER))
              if not Path(path).is_file()]  # fmt: skip
    problems = []
    if absent:
        problems.append(f"{' and '.join(absent)} not installed (apt-get install {' '.join(absent)})")
    if importlib.util.find_spec("selenium") is None:
        problems.append("selenium not installed (pip install -e '.[dev]')")
    return "; ".join(problems) or None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        """No line per request on stderr."""


@contextlib.contextmanager
def serve(directory: str | Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) in a thread; yield its base URL
    (ending in ``/``). The server stops when the block ends."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="fmnist-report-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def chromium(user_data_dir: str | Path, width: int = 1280, height: int = 900):
    """A headless Chromium WebDriver with a ``width`` x ``height`` CSS-pixel viewport, its
    profile in ``user_data_dir`` (give it a fresh directory), the browser console logged at
    every level (``driver.get_log("browser")``). It quits when the block ends.

    Raises:
        BrowserUnavailable: see :func:`missing`.
    """
    reason = missing()
    if reason:
        raise BrowserUnavailable(reason)
    # Optional: the dev extra; only the browser checks and the screenshot need it.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*CHROMIUM_ARGS, f"--user-data-dir={user_data_dir}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(PAGE_TIMEOUT)
        resize(driver, width, height)
        yield driver
    finally:
        driver.quit()


def resize(driver, width: int, height: int) -> None:
    """Set the viewport to exactly ``width`` x ``height`` CSS pixels (a window size would
    include the browser's frame), at one device pixel per CSS pixel."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def screenshot(page: str | Path, png: str | Path, width: int = 1280, height: int | None = None) -> Path:
    """Open ``page`` (served from its directory) in headless Chromium and write a PNG of it to
    ``png`` (atomically): ``width`` CSS pixels wide, ``height`` high (default: the whole page).

    Raises:
        BrowserUnavailable: see :func:`missing`.
        FileNotFoundError: ``page`` does not exist.
    """
    page = Path(page)
    if not page.is_file():
        raise FileNotFoundError(f"no page to take a screenshot of: {page}")
    with tempfile.TemporaryDirectory(prefix="fmnist-chromium-") as profile, serve(page.parent) as url, \
            chromium(profile, width) as driver:  # fmt: skip
        driver.get(url + page.name)  # returns after the load event: images included
        full = driver.execute_script("return document.documentElement.scrollHeight")
        resize(driver, width, int(height or full))
        data = driver.get_screenshot_as_png()
    return atomic_write_bytes(png, data)
