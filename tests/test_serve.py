"""`python infer.py --serve` over HTTP, as a user's browser or script uses it: a real server process
(tests/serving.py's ServerProcess) on the LeNet-5 the tests train briefly on real MNIST."""

import base64
import io
import json
import os
import signal
import socket
import time
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

import infer
from conftest import ROOT
from serving import (ServerProcess, answers_alone, cycle, photos, post, post_all, request,
                     rss_mb)
from recognize_digits.run import cli
from recognize_digits.serve.server import WEB_DIR

INFER_3 = os.path.join("image", "infer_3.png")
PHOTO = Path(ROOT, INFER_3)


@pytest.fixture(scope="module")
def server(model_dir):
    with ServerProcess("--model-dir", model_dir) as process:
        yield process


def raw(server, data, read_for=10):
    """Send `data` on a new connection and return what the server answers (until it closes)."""
    url = urllib.parse.urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=read_for) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def infer_error(capsys, path, model_dir):
    """The one line `infer.py PATH` prints for a bad image, less its `infer.py: error: `."""
    assert cli.run(infer.main, [path, "--model-dir", model_dir], prog="infer.py") == 1
    line, = capsys.readouterr().err.splitlines()
    return line.removeprefix("infer.py: error: ")


def test_the_page_is_served_self_contained(server):
    status, headers, page = request(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<canvas" in page and b'src="/app.js"' in page and b'href="/style.css"' in page
    for path, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        status, headers, body = request(server, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and body
    for name in os.listdir(WEB_DIR):  # nothing from the internet: no CDN, no web fonts
        with open(os.path.join(WEB_DIR, name)) as f:
            text = f.read().replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a fetch
        assert "http:" not in text and "https:" not in text, name
    assert "default-src 'self'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "/serve.py", "/../serve.py", "/web/../serve.py", "/%2e%2e/serve.py", "/..%2fserve.py",
    "/%2E%2E%2F%2E%2E%2Finfer.py", "/..%5c..%5cinfer.py", "/..\\..\\infer.py", "//etc/passwd",
    "/%252e%252e/serve.py", "/app.js/../../serve.py", "/app.js%00.py", "/web/index.html",
    "/./app.js/..", "http://localhost/../infer.py", "/.%2e/.%2e/infer.py", "/%c0%ae%c0%ae/x",
])
def test_only_the_pages_own_files(server, path):
    status, _, body = request(server, "GET", path)
    assert status == 404
    assert b"import" not in body and b"root:" not in body


def test_predict_gives_infer_json_fields_and_the_input(server, model_dir, capsys):
    status, answer = post(server.url, PHOTO.read_bytes(),
                          name=INFER_3, top_k=3)
    assert status == 200
    cli.run(infer.main, [INFER_3, "--model-dir", model_dir, "--json", "--top-k", "3"])
    assert {k: v for k, v in answer.items() if k != "input"} == json.loads(capsys.readouterr().out)
    assert answer["label"] == 3
    image, = answer["input"]
    image = Image.open(io.BytesIO(base64.b64decode(image)))
    assert image.size == (28, 28) and image.mode == "L"
    assert image.getpixel((0, 0)) == 0 and image.getextrema()[1] > 200  # white digit on black


def test_bad_images_get_infers_message_and_the_server_keeps_serving(server, model_dir, tmp_path,
                                                                   capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello, I am not a picture")
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    png = PHOTO.read_bytes()
    (tmp_path / "cut.png").write_bytes(png[: len(png) // 2])
    for name in ("empty.png", "text.png", "blank.png", "cut.png"):
        path = str(tmp_path / name)
        status, answer = post(server.url, Path(path).read_bytes(), name=path)
        assert (status, answer) == (400, {"error": infer_error(capsys, path, model_dir)})
    assert post(server.url, png, top_k=0)[0] == 400
    assert post(server.url, png, top_k=11)[0] == 400
    assert post(server.url, png, top_k="²")[0] == 400
    status, answer = post(server.url, png)
    assert status == 200 and answer["label"] == 3 and answer["path"] == "the upload"


def test_bad_requests(server):
    assert request(server, "POST", "/elsewhere", body=b"x")[0] == 404
    head = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    assert raw(server, head + b"\r\n").startswith(b"HTTP/1.1 411 ")  # no Content-Length
    assert raw(server, head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").startswith(
        b"HTTP/1.1 411 ")
    assert raw(server, head + b"Content-Length: -5\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(server, head + b"Content-Length: lots\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(server, head + "Content-Length: ²\r\n\r\n".encode()).startswith(b"HTTP/1.1 400 ")
    # Cut short: 100 bytes promised, 10 sent, then the client stops sending.
    url = urllib.parse.urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + b"Content-Length: 100\r\n\r\n" + b"x" * 10)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1000).startswith(b"HTTP/1.1 400 ")
    assert post(server.url, PHOTO.read_bytes())[0] == 200


def test_over_10_mb_is_refused_unread(server):
    """413 from the Content-Length alone: the server answers though the body never comes."""
    head = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10485761\r\n"
    start = time.perf_counter()
    answer = raw(server, head + b"\r\n" + b"\x89PNG" * 1000)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"more than the 10 MB allowed" in answer
    # curl's way for a large file: Expect: 100-continue, then the body only if told to go on.
    answer = raw(server, head + b"Expect: 100-continue\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in answer
    assert time.perf_counter() - start < 5
    # Exactly 10 MB is read (and is no image).
    status, answer = post(server.url, b"\0" * (10 * 2**20), name="zeros.png")
    assert status == 400 and "zeros.png" in answer["error"]


def test_20_clients_at_once_get_right_answers_and_memory_stays_flat(server, model_dir):
    """20 clients post 200 real photos at once; each answer equals the predictor's for that photo
    alone. Then 400 more requests leave the server's memory where it was (a leak of a request's
    image would add 40 MB; bench/serve_load.py measures 1,000)."""
    folder = os.environ.get("DIGITS_DIR")
    if not folder:  # CI sets it, so there a missing folder fails rather than skips
        pytest.skip("set DIGITS_DIR to a folder of real digit images named <label>_*.png")
    paths = photos(folder)
    assert len(paths) >= 50, f"DIGITS_DIR={folder} holds {len(paths)} images"
    expected = answers_alone(model_dir, paths)
    jobs = cycle(paths, 200)
    results = post_all(server.url, jobs, clients=20)
    assert [status for status, _ in results] == [200] * 200
    wrong = [path for path, (_, answer) in zip(jobs, results) if answer != expected[path]]
    assert not wrong, f"{len(wrong)} answers differ from the predictor's, e.g. {wrong[0]}"
    before = rss_mb(server.pid)
    assert all(status == 200 for status, _ in post_all(server.url, cycle(paths, 400), 20))
    grown = rss_mb(server.pid) - before
    assert grown < 20, f"the server's memory grew {grown:.0f} MB in 400 requests"


def test_port_in_use_and_missing_model_are_one_line(server, model_dir, tmp_path, capsys):
    port = urllib.parse.urlsplit(server.url).port
    args = ["--serve", "--port", str(port), "--model-dir", model_dir]
    assert cli.run(infer.main, args, prog="infer.py") == 1
    assert capsys.readouterr().err == (
        f"infer.py: error: port {port} on 127.0.0.1 is already in use (another server, or an "
        f"earlier `infer.py --serve`): stop it, or pass another --port.\n")
    assert cli.run(infer.main, ["--serve", "--model-dir", str(tmp_path)], prog="infer.py") == 1
    err = capsys.readouterr().err
    assert err.startswith("infer.py: error: ") and "run `python train.py` first" in err
    assert len(err.splitlines()) == 1


def test_images_are_needed_without_serve_and_not_with_it(capsys):
    for args, message in (([], "the following arguments are required: IMAGE (or --serve)"),
                          (["--serve", INFER_3], "--serve takes its images from the page, not as "
                                                 "IMAGE arguments")):
        with pytest.raises(SystemExit) as stop:
            infer.main(args)
        assert stop.value.code == 2
        assert capsys.readouterr().err.endswith(f": error: {message} (see --help)\n")


def test_ctrl_c_stops_cleanly_and_paddle_stays_quiet(model_dir):
    with ServerProcess("--model-dir", model_dir) as process:
        assert post(process.url, PHOTO.read_bytes())[0] == 200
        code, out, err = process.stop(signal.SIGINT)
    assert code == 0 and out == "Stopped.\n" and err == ""
    assert process.first_line == (f"Open {process.url} in a browser to draw a digit "
                                  f"(Ctrl-C to stop).\n")
