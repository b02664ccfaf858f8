"""The page of `infer.py --serve` in headless Chromium: draw a digit, save a screenshot.

    python bench/serve_page.py --model-dir recognize_digits_cnn.inference.model \
        [--out image/serve.png]

Starts the server (tests/serving.py's ServerProcess), opens the page in Debian's headless
Chromium driven by Selenium (apt-get install chromium chromium-driver; pip install selenium),
draws a 3 with the mouse as strokes, waits for the answer and saves a screenshot: the README's
image/serve.png. tests/test_serve_browser.py uses the same helpers (tests/browser.py).
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser import THREE, browser, draw, wait_for_answer  # noqa: E402
from serving import ServerProcess  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--out", default="image/serve.png")
    args = parser.parse_args(argv)
    with ServerProcess("--model-dir", args.model_dir) as server, browser(900, 600) as driver:
        driver.get(server.url)
        draw(driver, THREE)
        print(f"The page reads the drawn 3 as: {wait_for_answer(driver)}")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {  # the whole page
            "width": 900, "height": height, "deviceScaleFactor": 1, "mobile": False})
        driver.save_screenshot(args.out)
    print(f"Saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
