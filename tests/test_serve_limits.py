"""What `infer.py --serve` lets a client do to it (issue 26): memory taken by uploads, uploads that
stall, a Host that is not the server's, pages of other sites, many slow connections, form uploads.
Each runs a real server process (tests/serving.py), on 127.0.0.1 only; test_serve_checks.py tests
the checks and bounds on their own."""

import io
import os
import resource
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import ROOT
from serving import ServerProcess, post, rss_mb, trickle
from recognize_digits.serve import limits
from recognize_digits.serve.checks import STALL_SECONDS

PHOTO = Path(ROOT, "image", "infer_3.png")


@pytest.fixture(scope="module")
def server(model_dir):
    with ServerProcess("--model-dir", model_dir) as process:
        yield process


def address(server):
    url = urllib.parse.urlsplit(server.url)
    return url.hostname, url.port


def raw(server, data, timeout=10):
    """Send `data` on a new connection; what the server answers until it closes."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def a_seven(width, height, mode="RGBA", format="PNG"):
    """A 7 drawn on a page of width x height pixels, as image file bytes (a PNG of a few hundred
    kB that decodes to width x height x 4 bytes, and more on the way to a grey digit)."""
    paper, ink = ((255, 255, 255, 0), (0, 0, 0, 255)) if mode == "RGBA" else (255, 0)
    image = Image.new(mode, (width, height), paper)
    stroke = max(width, height) // 30
    ImageDraw.Draw(image).line([(width * .4, height * .3), (width * .6, height * .3),
                                (width * .45, height * .7)], fill=ink, width=stroke)
    out = io.BytesIO()
    image.save(out, format, **({"compress_level": 1} if format == "PNG" else {}))
    return out.getvalue()


def at_once(server, body, n):
    """Post `body` from n clients at once; ([(status, answer)], RSS before, highest RSS meanwhile)
    of the server, in MB (sampled every 20 ms)."""
    before = highest = rss_mb(server.pid)
    done = threading.Event()

    def sample():
        nonlocal highest
        while not done.wait(0.02):
            highest = max(highest, rss_mb(server.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(n) as pool:
            results = list(pool.map(lambda _: post(server.url, body, timeout=300), range(n)))
    finally:
        done.set()
        sampler.join()
    return results, before, highest


def test_huge_uploads_at_once_keep_the_server_memory_bounded(server):
    """Six PNGs of 200 kB that decode to 7000x7000 RGBA, sent at once, took the server from
    330 MB to 5.4 GB. Now they are refused from their header; six just under the limit
    (4900x4900, 24 megapixels) are read, but not all at once: about 0.5 GB more at most."""
    results, before, highest = at_once(server, a_seven(7000, 7000), 6)
    assert highest - before < 100, f"{before:.0f} MB -> {highest:.0f} MB"
    for status, answer in results:
        assert status == 413 and answer["error"] == (
            "the upload is too large for the server to read (7000x7000 pixels, more than "
            "25,000,000): shrink it first, or read it on this machine with "
            "`python infer.py FILE`")
    results, before, highest = at_once(server, a_seven(4900, 4900), 6)
    assert highest - before < 700, f"{before:.0f} MB -> {highest:.0f} MB"
    assert [status for status, _ in results] == [200] * 6
    assert post(server.url, PHOTO.read_bytes())[1]["label"] == 3


def test_uploads_held_one_byte_short_keep_the_server_memory_bounded(server):
    """60 clients send 10 MB uploads but for their last byte, and hold them: before, the server
    kept every one (333 MB -> 934 MB, and more with more clients). Now at most 64 MB of uploads
    are read at once; the others wait for room, unread."""
    host, port = address(server)
    body = os.urandom(10 * 2**20)
    before = rss_mb(server.pid)
    clients = []
    try:
        for _ in range(60):
            client = socket.create_connection((host, port), timeout=10)
            client.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body))
            client.setblocking(False)
            sent = 0
            try:  # as much as the connection takes without waiting
                while sent < len(body) - 1:
                    sent += client.send(body[sent:len(body) - 1])
            except BlockingIOError:
                pass
            clients.append(client)
        time.sleep(2)
        held = rss_mb(server.pid)
    finally:
        for client in clients:
            client.close()
    assert held - before < 150, f"{before:.0f} MB -> {held:.0f} MB"
    assert post(server.url, PHOTO.read_bytes())[1]["label"] == 3


def test_phone_photos_are_still_read(server):
    """A 16-megapixel PNG, and a 48-megapixel JPEG (decoded at 1/8 of its size, as infer.py
    does), are under the upload limit."""
    for body in (a_seven(4624, 3472, "L"), a_seven(8000, 6000, "L", "JPEG")):
        assert post(server.url, body)[0] == 200


def test_a_stalled_upload_gets_408_and_an_idle_connection_is_closed_quietly(model_dir):
    """Before: 500 after 30 s, and two `infer.py: error` lines on the terminal."""
    with ServerProcess("--model-dir", model_dir) as process:
        idle = socket.create_connection(address(process), timeout=STALL_SECONDS + 10)
        trickling = socket.create_connection(address(process), timeout=STALL_SECONDS + 10)
        trickling.sendall(b"GET / HTTP/1.1\r\n")
        stop = threading.Event()
        sender = threading.Thread(target=trickle, args=(trickling, b"X", 1, stop))
        sender.start()
        start = time.monotonic()
        answer = raw(process, b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Content-Length: 1000\r\n\r\n" + b"x" * 10,
                     timeout=STALL_SECONDS + 20)
        waited = time.monotonic() - start
        assert answer.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in answer
        assert answer.endswith(b'{"error": "the upload stalled: nothing came for 20 s after 10 '
                               b'of 1,000 bytes; try again"}')
        assert STALL_SECONDS - 1 < waited < STALL_SECONDS + 5
        assert idle.recv(1) == b""  # closed after limits.IDLE_SECONDS, no answer
        assert trickling.recv(1) == b""  # the same, however slowly its headers come
        assert time.monotonic() - start < limits.IDLE_SECONDS + 5
        stop.set()
        sender.join()
        idle.close()
        trickling.close()
        assert post(process.url, PHOTO.read_bytes())[0] == 200
        code, out, err = process.stop()
    assert (code, out, err) == (0, "Stopped.\n", "")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}",
                                  "localhost.evil.example:{port}", "127.0.0.1:{port}@evil",
                                  "2130706433:{port}"])
def test_a_host_that_is_not_this_server_gets_421(server, host):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    host = host.format(port=address(server)[1])
    get = raw(server, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    posted = post(server.url, PHOTO.read_bytes(), headers={"Host": host})
    assert get.startswith(b"HTTP/1.1 421 ") and posted[0] == 421
    assert posted[1]["error"] == (f"this server does not answer to the name {host!r}: open "
                                  f"{server.url} (a page of another site cannot use it under its "
                                  f"own name)")


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost",
                                  "localhost.:{port}", "127.0.0.1:9999", "app.localhost:{port}"])
def test_the_names_of_this_server_are_answered(server, host):
    """Any port: an ssh tunnel or a forwarded port reaches the server on another one."""
    host = host.format(port=address(server)[1])
    assert post(server.url, PHOTO.read_bytes(), headers={"Host": host})[0] == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame, a file:// page
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://localhost:1234", "Sec-Fetch-Site": "same-site"},  # another local server
    {"Origin": "http://evil.example", "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"},
])
def test_a_post_from_a_page_of_another_site_gets_403(server, headers):
    status, answer = post(server.url, PHOTO.read_bytes(), headers=headers)
    assert status == 403
    assert answer["error"].endswith(f" may not send images to this server: open {server.url} "
                                    f"and draw or drop the image there")


def test_the_pages_own_posts_and_scripts_are_answered(server):
    own = server.url.rstrip("/")
    for headers in ({"Origin": own, "Sec-Fetch-Site": "same-origin"}, {}):
        assert post(server.url, PHOTO.read_bytes(), headers=headers)[0] == 200


def test_a_thousand_slow_connections_do_not_lock_out_the_next_client(model_dir):
    """1,100 connections trickling their headers, against a server with `ulimit -n` 1024: before,
    they took every file descriptor and the next client got no answer while they trickled."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1300:
        pytest.skip(f"this test opens 1,100 connections, over this machine's limit ({hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    clients = []
    try:
        with ServerProcess("--model-dir", model_dir, open_files=1024) as process:
            for _ in range(1100):
                client = socket.socket()
                client.setblocking(False)
                client.connect_ex(address(process))
                clients.append(client)
            for step in range(6):
                time.sleep(1)
                for client in clients:
                    try:
                        client.send(b"POST /predict HTTP/1.1\r\n" if step == 0 else b"X")
                    except OSError:  # closed by the server to make room: as a client would
                        pass
            start = time.monotonic()
            status, answer = post(process.url, PHOTO.read_bytes(), timeout=10)
            assert status == 200 and answer["label"] == 3
            assert time.monotonic() - start < 5
            if os.path.isdir(f"/proc/{process.pid}/fd"):
                open_files = len(os.listdir(f"/proc/{process.pid}/fd"))
                assert open_files < limits.MAX_CONNECTIONS + 30, open_files
            for client in clients:
                client.close()
            code, out, err = process.stop()
        assert (code, err) == (0, "")
    finally:
        for client in clients:
            client.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def form(*fields, boundary="------------------------d74496d66958873e"):
    """multipart/form-data as curl -F sends it: (body, Content-Type). A field is (name, value)
    or (name, file name, bytes)."""
    body = b""
    for name, *rest in fields:
        if len(rest) == 1:
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
        else:
            head = (f'Content-Disposition: form-data; name="{name}"; filename="{rest[0]}"\r\n'
                    f"Content-Type: image/png\r\n")
        body += f"--{boundary}\r\n{head}\r\n".encode() + rest[-1] + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_form_upload_is_read_as_its_file(server):
    """`curl -F file=@digit.png URL/predict`: before, "not an image Pillow can read"."""
    photo = PHOTO.read_bytes()
    expected = post(server.url, photo, name="infer_3.png", top_k=3)
    for fields in ([("file", "infer_3.png", photo)],
                   [("note", b"my first digit"), ("file", "infer_3.png", photo),
                    ("other", "other.png", b"not read")]):
        body, kind = form(*fields)
        assert post(server.url, body, top_k=3, headers={"Content-Type": kind}) == expected
    if shutil.which("curl"):  # the command users copy
        answer = subprocess.run(["curl", "-sS", "-F", f"file=@{PHOTO}", server.url + "predict"],
                                capture_output=True, text=True, timeout=60).stdout
        assert '"label": 3' in answer and '"path": "infer_3.png"' in answer


def test_bad_form_uploads_get_a_clear_message(server):
    no_file, kind = form(("a", b"1"), ("b", b"2"))
    text, _ = form(("file", "notes.png", b"hello, I am not a picture"))
    mangled = PHOTO.read_bytes().replace(b"\r", b"").replace(b"\n", b"")  # what curl -d sends
    long_head = no_file.replace(b'name="a"', b'name="a"; x="' + b"x" * 20_000 + b'"', 1)
    for body, headers, message in (
            (no_file, {"Content-Type": kind}, "the form holds no file: send the image as a file "
             "field (curl -F file=@digit.png URL), or its bytes as the body (curl --data-binary "
             "@digit.png URL)"),
            (no_file, {"Content-Type": "multipart/form-data"},
             "a multipart/form-data upload needs a boundary in its Content-Type"),
            (long_head, {"Content-Type": kind},
             "a part of the form has over 16 kB of headers: send the image alone"),
            (text, {"Content-Type": kind},
             "notes.png is not an image Pillow can read (cannot identify image file "
             "'notes.png')."),
            (mangled, {"Content-Type": "application/x-www-form-urlencoded"},
             "the upload is not an image Pillow can read (cannot identify image file 'the "
             "upload'). It came as a form field without line breaks, as `curl -d @FILE` sends a "
             "file: send the file itself with `curl --data-binary @FILE`, or as a form upload "
             "with `curl -F file=@FILE`.")):
        assert post(server.url, body, headers=headers) == (400, {"error": message})
    assert post(server.url, PHOTO.read_bytes())[0] == 200
