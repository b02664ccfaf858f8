"""Headless Chromium driving the page of `infer.py --serve`: open it, draw strokes, read the answer.

Debian's chromium and chromium-driver (apt-get install chromium chromium-driver), driven by
Selenium. tests/test_serve_browser.py uses these, and so does bench/serve_page.py.
"""

import contextlib
import math
import os
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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
