"""A real headless browser for the tests: Debian's Chromium driven by its chromedriver.

Pages are loaded as a person would load them; every test saves screenshots to
`test-artifacts/screenshots/` (or `$CLEARANCE_TEST_ARTIFACTS/screenshots/`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("CLEARANCE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    shots = folder / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def chromium() -> webdriver.Chrome:
    """Headless Chromium (Debian's `chromium` and `chromium-driver`), 1400x1000."""
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    assert binary, "Debian's chromium (bin/clearance installs it)"
    assert driver, "Debian's chromium-driver (bin/clearance installs it)"
    options = Options()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root in a container
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-IN",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(60)
    return browser


class Page:
    """One browser tab and what a person sees in it."""

    def __init__(self, browser: webdriver.Chrome, name: str) -> None:
        self.browser = browser
        self.name = name
        self.shots: list[Path] = []

    def open(self, url: str) -> None:
        self.browser.get(url)

    def find(self, css: str) -> WebElement:
        return self.browser.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.browser.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def wait(self, until: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
        """Poll `until` (ignoring errors while the page settles) until it is truthy."""

        def check(_: Any) -> Any:
            try:
                return until()
            except Exception:
                return False

        try:
            return WebDriverWait(self.browser, timeout, poll_frequency=0.25).until(check)
        except Exception as error:
            self.screenshot("timeout")
            message = self.browser.find_elements(By.ID, "message")
            shown = message[0].text if message else ""
            raise AssertionError(
                f"waited {timeout}s for {what or until}; page says {shown!r}"
            ) from (error)

    def wait_text(self, css: str, expected: str, timeout: float = 30) -> str:
        return str(
            self.wait(
                lambda: expected in self.text(css) and self.text(css),
                timeout,
                f"{expected!r} in {css}",
            )
        )

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def screenshot(self, step: str) -> Path:
        path = artifacts_dir() / f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        self.browser.save_screenshot(str(path))
        self.shots.append(path)
        return path

    def resources(self) -> list[str]:
        """Every URL the page fetched (scripts, styles, images, API calls)."""
        names = self.browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        return [str(name) for name in names]
