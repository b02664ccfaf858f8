"""The page of `infer.py --serve` in headless Chromium: draw a digit, save screenshots.

    python bench/serve_page.py --model-dir recognize_digits_cnn.inference.model \
        [--out image/serve.png] [--phone-out image/serve_phone.png]

Starts the server (tests/serving.py's ServerProcess), opens the page in Debian's headless
Chromium driven by Selenium (apt-get install chromium chromium-driver; pip install selenium),
draws a 3 with the mouse as strokes, waits for the answer and the layers, and saves the whole page:
the README's image/serve.png (900 px wide); then the same with a finger on a phone 375 px wide,
image/serve_phone.png. tests/test_serve_browser.py uses the same helpers (tests/browser.py).
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser import THREE, browser, draw, wait_for_answer  # noqa: E402
from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from serving import ServerProcess  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--out", default="image/serve.png")
    parser.add_argument("--phone-out", default="image/serve_phone.png")
    parser.add_argument("--lang", default="en", help="the page's language: en or zh")
    args = parser.parse_args(argv)
    with ServerProcess("--model-dir", args.model_dir) as server:
        for out, width, phone in ((args.out, 900, False), (args.phone_out, 375, True)):
            with browser(width, 700, phone=phone) as driver:
                driver.get(server.url + "?lang=" + args.lang)
                draw(driver, THREE, kind=interaction.POINTER_TOUCH if phone else
                     interaction.POINTER_MOUSE)
                print(f"The page reads the drawn 3 as: {wait_for_answer(driver)}")
                WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                    "return [...document.querySelectorAll('#layers img')]"
                    ".every((i) => i.complete) && !!document.querySelector('#layers img')"))
                driver.execute_script("window.scrollTo(0, 0)")
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {  # the whole page
                    "width": width, "height": height, "deviceScaleFactor": 2 if phone else 1,
                    "mobile": phone})
                driver.save_screenshot(out)
            print(f"Saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
