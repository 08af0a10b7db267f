"""The dashboards in a real browser: start the app, open each page in headless Chromium (Debian's
`chromium`, driven by Playwright; Playwright's own browser download is never used), and report
what a person would see: the headline numbers, the tables, whether every chart drew, console
errors and any request that left the machine. The browser tests and `clv-jobs dashboards
screenshot` use it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PAGES", "PageView", "chromium_path", "serve", "browse"]

# (navigation label, file stem of the screenshot)
PAGES = (("Customer value", "customer-value"), ("Model performance", "model-performance"), ("Operations", "operations"))


@dataclass
class PageView:
    title: str
    metrics: dict[str, str]  # label -> the value as shown
    tables: list[list[list[str]]]  # each table's rows of cell texts, header first
    charts: int
    charts_drawn: int  # charts whose SVG holds at least one drawn mark
    exceptions: list[str]
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def chromium_path() -> str | None:
    """Debian's Chromium (`apt-get install -y chromium`), or `CLV_CHROMIUM` if set."""
    return os.environ.get("CLV_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(env: dict[str, str] | None = None, port: int | None = None, timeout: float = 60) -> Iterator[str]:
    """`clv-jobs dashboards serve` on 127.0.0.1 until the block ends; yields its URL."""
    port = port or _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "clv-jobs"), "dashboards", "serve", "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.poll() is not None else ""
                    raise RuntimeError(f"the dashboards did not start on {url}: {output[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _read(page, title: str) -> PageView:
    metrics = {}
    for box in page.query_selector_all('[data-testid="stMetric"]'):
        label = box.query_selector('[data-testid="stMetricLabel"]').inner_text().strip()
        metrics[label] = box.query_selector('[data-testid="stMetricValue"]').inner_text().strip()
    tables = []
    for table in page.query_selector_all('[data-testid="stTable"] table'):
        rows = [
            [cell.inner_text().strip() for cell in row.query_selector_all("th, td")]
            for row in table.query_selector_all("tr")
        ]
        tables.append(rows)
    charts = page.query_selector_all('[data-testid="stVegaLiteChart"]')
    drawn = sum(1 for chart in charts if chart.query_selector("svg g[class*='mark-'] path"))
    exceptions = [e.inner_text()[:500] for e in page.query_selector_all('[data-testid="stException"]')]
    return PageView(title, metrics, tables, len(charts), drawn, exceptions)


def _settle(page, timeout_ms: int) -> None:
    """Streamlit draws after a websocket round trip, charts after Vega renders: wait until the
    script has finished running and every chart holds its SVG."""
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(c => c.querySelector('svg'))",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)


def browse(
    url: str,
    screenshot_dir: Path | None = None,
    actions=None,
    timeout_ms: int = 60_000,
) -> dict[str, PageView]:
    """Open the app at `url` and each page through its navigation link, as a person would.
    `actions(page, title)` may act on a page (e.g. pick a filter) before it is read; screenshots
    (JPEG, kept small) go to `screenshot_dir/<page>.jpg`."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("no Chromium: apt-get install -y chromium (or set CLV_CHROMIUM)")
    views: dict[str, PageView] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            outside: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on(
                "request",
                lambda request: (
                    None if request.url.startswith((url, "data:", "blob:", "about:")) else outside.append(request.url)
                ),
            )
            page.goto(url)
            for title, stem in PAGES:
                page.get_by_role("link", name=title).first.click()
                page.wait_for_function(
                    "title => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title)",
                    arg=title,
                    timeout=timeout_ms,
                )
                _settle(page, timeout_ms)
                if actions is not None:
                    actions(page, title)
                    _settle(page, timeout_ms)
                view = _read(page, title)
                view.console_errors, view.outside_requests = list(errors), list(outside)
                errors.clear()
                outside.clear()
                views[title] = view
                if screenshot_dir is not None:
                    _screenshot(page, Path(screenshot_dir) / f"{stem}.jpg")
        finally:
            browser.close()
    return views


def _screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport to it."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section.main, body')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 40, 6000)})
    _settle(page, 30_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), type="jpeg", quality=60, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
