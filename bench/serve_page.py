"""The page of `infer.py --serve` in headless Chromium: draw a digit, save a screenshot.

    python bench/serve_page.py --model-dir recognize_digits_cnn.inference.model \
        [--out image/serve.png]

Starts the server (bench/serve_load.py's ServerProcess), opens the page in Debian's headless
Chromium driven by Selenium (apt-get install chromium chromium-driver; pip install selenium),
draws a 3 with the mouse as strokes, waits for the answer and saves a screenshot: the README's
image/serve.png. tests/test_serve_browser.py uses the same helpers.
"""

import argparse
import contextlib
import math
import os
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.serve_load import ServerProcess  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver, the same version as chromium
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]

# Digits as strokes, in fractions of the canvas's side: lists of (x, y) corners, or curves.
SEVEN = [[(0.28, 0.22), (0.72, 0.22), (0.45, 0.82)]]
ONE = [[(0.52, 0.18), (0.48, 0.82)]]


def arc(cx, cy, r, start, end, n=40):
    """Points along a circle's arc, angles in degrees (0: right, 90: down, the canvas's y)."""
    return [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)))
            for a in (start + (end - start) * i / n for i in range(n + 1))]


THREE = [arc(0.5, 0.34, 0.15, -160, 90) + arc(0.5, 0.66, 0.17, -90, 160)]


def chromedriver():
    """Path of chromedriver, or None: Debian's, else one on PATH (never downloaded)."""
    return CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")


@contextlib.contextmanager
def browser(width=900, height=600, language=None, phone=False):
    """Headless Chromium with a fresh profile (deleted afterwards), showing pages at exactly
    `width` x `height` CSS pixels; `phone`: a touch screen at twice the pixel density.
    `language`: what the browser says the user prefers, e.g. "zh-CN"."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    for flag in FLAGS + [f"--user-data-dir={profile}", f"--window-size={width},{height + 200}"]:
        options.add_argument(flag)
    if language:
        options.add_argument(f"--lang={language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(chromedriver()), options=options)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2 if phone else 1,
            "mobile": phone})
        if phone:
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                                   {"enabled": True, "maxTouchPoints": 5})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def draw(driver, strokes, kind=interaction.POINTER_MOUSE, step=0.04):
    """Draw `strokes` on the canvas with a mouse, a pen or a finger (`kind`), as W3C actions.

    Each stroke is pressed, moved through its points (every `step` of the side at least) and
    lifted: the page sees pointerdown, pointermove... pointerup, as from a real hand.
    """
    canvas = driver.find_element(By.ID, "canvas")
    side = canvas.rect["width"]
    actions = ActionBuilder(driver, mouse=PointerInput(kind, kind), duration=10)
    pointer = actions.pointer_action
    for stroke in strokes:
        points = densify(stroke, step)
        # Offsets are from the canvas's centre, in CSS pixels.
        offsets = [(round((x - 0.5) * side), round((y - 0.5) * side)) for x, y in points]
        pointer.move_to(canvas, *offsets[0]).pointer_down()
        for dx, dy in offsets[1:]:
            pointer.move_to(canvas, dx, dy)
        pointer.pointer_up()
    actions.perform()


def densify(points, step):
    """The polyline through `points` with a point at least every `step`."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


def wait_for_answer(driver, timeout=30):
    """The digit the page shows once it has an answer and its 28x28 preview is drawn."""
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "return document.querySelector('#previews canvas[data-ready]') !== null"))
    return driver.find_element(By.ID, "digit").text


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
