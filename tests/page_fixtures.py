"""The fixtures of the page's tests in headless Chromium (test_serve_browser.py,
test_serve_page.py): the browser, the server it talks to, one desktop window.

Without Chromium, chromedriver or Selenium the tests are skipped, except in CI (CI=true), where
they fail: the browser must not silently go missing there.
"""

import os

import pytest

try:
    import browser
    from serving import ServerProcess
    MISSING = None if browser.chromedriver() else "no chromedriver"
except ImportError as err:
    MISSING = f"no {err.name}"


@pytest.fixture(scope="session")
def chromium():
    """Checked before the model is trained, so that a skip is immediate."""
    if MISSING:
        reason = (f"headless Chromium is needed ({MISSING}): apt-get install chromium "
                  f"chromium-driver; pip install -r requirements-dev.txt")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(chromium, model_dir):
    with ServerProcess("--model-dir", model_dir) as process:
        yield process


@pytest.fixture(scope="module")
def desktop(server):
    with browser.browser() as driver:
        yield driver
