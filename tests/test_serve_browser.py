"""The page of `infer.py --serve` in a real browser: headless Chromium driven by Selenium.

Selenium rather than Playwright: Debian's `chromium-driver` is built from the same source as its
`chromium`, so driver and browser always match, and the `selenium` wheel is pure Python (no Node
driver, no browser download: Service is given chromedriver's path, so Selenium Manager never
runs). Playwright would need its own Node driver and is only loosely matched to a system Chromium.

Needs `apt-get install chromium chromium-driver` (.ci/run does it) and `pip install selenium`
(requirements-dev.txt). Without them the tests are skipped, except in CI (CI=true), where they
fail: the browser must not silently go missing there (page_fixtures.py).
"""

import base64
import os

from PIL import Image

from conftest import ROOT
from page_fixtures import chromium, desktop, server  # noqa: F401 (fixtures)

try:
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.by import By

    import browser
except ImportError:  # the chromium fixture skips (or, in CI, fails) each test
    pass


def shown(driver):
    """(digit shown, the 28x28 preview's pixels that are lit, of 784), once the answer is in."""
    digit = browser.wait_for_answer(driver)
    lit = driver.execute_script("""
        const c = document.querySelector('#previews canvas');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lit = 0;  // the centre pixel of each of the 28x28 squares
        for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
          const i = 4 * ((y * 8 + 4) * c.width + x * 8 + 4);
          if (data[i] > 128) lit++;
        }
        return lit;""")
    return digit, lit


def test_drawn_digits_are_read_and_the_28x28_input_shown(server, desktop):
    desktop.get(server.url)
    assert desktop.find_element(By.ID, "digit").text == "?"
    browser.draw(desktop, browser.SEVEN)  # with the mouse
    digit, lit = shown(desktop)
    assert digit == "7" and 20 < lit < 200, (digit, lit)  # strokes: not a blank, not a block
    assert len(desktop.find_elements(By.CSS_SELECTOR, "#bars li")) == 3

    desktop.find_element(By.ID, "clear").click()
    assert desktop.find_element(By.ID, "digit").text == "?"
    assert not desktop.find_elements(By.CSS_SELECTOR, "#previews canvas")
    browser.draw(desktop, browser.ONE, kind=interaction.POINTER_PEN)
    assert shown(desktop)[0] == "1"


def test_upload_and_drop_a_photo(server, desktop, mnist_test, tmp_path):
    desktop.get(server.url)
    desktop.find_element(By.ID, "file").send_keys(os.path.join(ROOT, "image", "infer_3.png"))
    assert shown(desktop)[0] == "3"

    images, labels = mnist_test  # a 0 from the MNIST test set, as dark ink on white paper
    pixels = ((1 - images[list(labels).index(0), 0]) * 127.5).round().astype("uint8")
    Image.fromarray(pixels).resize((112, 112)).save(tmp_path / "zero.png")
    desktop.execute_script("""
        document.querySelector('#previews').replaceChildren();  // so that we wait for the new one
        const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        const drop = new DataTransfer();
        drop.items.add(new File([bytes], 'zero.png', {type: 'image/png'}));
        document.querySelector('#pad canvas').dispatchEvent(
            new DragEvent('drop', {dataTransfer: drop, bubbles: true, cancelable: true}));
        """, base64.b64encode((tmp_path / "zero.png").read_bytes()).decode())
    assert shown(desktop)[0] == "0"


def test_a_finger_on_a_phone_in_chinese(server):
    with browser.browser(375, 740, language="zh-CN", phone=True) as phone:
        phone.get(server.url)
        assert phone.find_element(By.TAG_NAME, "h1").text == "写一个数字"
        assert phone.execute_script("return document.documentElement.lang") == "zh-CN"
        # Nothing wider than the phone's screen; the canvas fills most of it.
        assert phone.execute_script("return document.documentElement.scrollWidth") <= 375
        assert 280 <= phone.find_element(By.ID, "canvas").rect["width"] <= 375
        browser.draw(phone, browser.SEVEN, kind=interaction.POINTER_TOUCH)
        assert shown(phone)[0] == "7"
