"""What the real-browser tests share: the system Chromium and its driver (selenium, never downloading either), a
fixture that skips without them (or fails, with DISCOURSE_REQUIRE_BROWSER=1, as in CI), one browser per test module,
and the waits and look-ups the tests use. Import the fixtures into a test module to use them there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from discourse.settings import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO_ROOT / "test-artifacts"
WAIT_S = 30


@pytest.fixture(scope="session", autouse=True)
def browser_available() -> None:
    """Skip (or, with DISCOURSE_REQUIRE_BROWSER=1, fail) when there is no browser. Session scope and autouse put
    it ahead of the session fixture demo_store, so a machine without a browser does not score the demo first."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        reason = (f"real-browser tests need {', '.join(missing)}: apt-get install chromium chromium-driver "
                  f"(.ci/run does)")
        if os.environ.get("DISCOURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; DISCOURSE_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def driver(browser_available):
    os.environ["SE_OFFLINE"] = "true"  # selenium manager: use the given binaries, never download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield browser
    finally:
        browser.quit()


def wait(driver, condition, timeout: float = WAIT_S, message: str = ""):
    """Poll `condition` until it is truthy. An element the page re-rendered between being found and being read
    is stale, not an error: the next poll finds the new one."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition, message)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def css_all(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def severe(driver, *, network: bool = True) -> list[dict]:
    """SEVERE and WARNING browser log entries (console errors and warnings, script errors, failed requests) since
    the last call (reading the log empties it); network=False leaves out the browser's own "Failed to load
    resource" lines for HTTP errors a test provokes on purpose."""
    return [e for e in driver.get_log("browser")
            if e["level"] in ("SEVERE", "WARNING") and (network or e.get("source") != "network")]
