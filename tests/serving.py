"""A server process of `infer.py --serve`, and the requests a browser or a script sends it.

The tests of the server and of its page use these, and so do bench/serve_load.py and
bench/serve_page.py.
"""

import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from recognize_digits.images import sureness  # noqa: E402
from recognize_digits.images.number import prediction  # noqa: E402
from recognize_digits.images.preprocess import preprocess  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.serve.server import png_base64  # noqa: E402

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


class ServerProcess:
    """`python infer.py --serve --port 0 ARGS...` in a subprocess, with the URL it printed.

    >>> with ServerProcess("--model-dir", folder) as server:
    ...     status, answer = post(server.url, body)
    """

    def __init__(self, *args, timeout=120, env=None, open_files=None):
        """`open_files`: the server's limit on open files (`ulimit -n`), e.g. 1024 as on most
        Linux desktops."""
        command = [sys.executable, os.path.join(ROOT, "infer.py"), "--serve", "--port", "0", *args]

        def before_start():
            ctrl_c_as_in_a_terminal()
            if open_files:
                import resource  # POSIX only, like preexec_fn itself
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(open_files, hard), hard))

        # Unbuffered, so that what follows the first line is left for stop() to read.
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, bufsize=0, env=env,
                                        preexec_fn=before_start)
        self.first_line = read_line(self.process.stdout, timeout).decode()
        if not self.first_line.startswith("Open http"):
            self.stop()
            raise RuntimeError(f"the server did not start: {self.first_line!r} "
                               f"{self.process.stderr.read().decode()!r}")
        self.url = self.first_line.split()[1]
        self.pid = self.process.pid

    def stop(self, sig=signal.SIGINT, timeout=30):
        """Stop it as Ctrl-C does; (exit status, rest of stdout, stderr). A server that has not
        stopped within `timeout` seconds is killed (none is left running), and TimeoutExpired
        raised."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise
        return self.process.returncode, out.decode(), err.decode()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ctrl_c_as_in_a_terminal():
    """In the server's process, before it starts: Ctrl-C (SIGINT) stops it, as in a terminal.

    A command started in the background by a shell without job control (`pytest &` in a script,
    `nohup`) has SIGINT ignored, and its children inherit that: Python then never raises
    KeyboardInterrupt, and the server would not stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def read_line(stream, timeout):
    """One line from a pipe, or "" if none comes within `timeout` seconds."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        return stream.readline() if selector.select(timeout) else ""


def request(server, method, path, body=None, headers=None):
    """(status, headers, body) for a request sent as written: the path is not cleaned up."""
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def post(url, body, name=None, top_k=None, timeout=60, headers=None):
    """POST /predict: (HTTP status, the JSON answer)."""
    query = {key: value for key, value in (("name", name), ("top_k", top_k)) if value is not None}
    request = urllib.request.Request(url + "predict?" + urllib.parse.urlencode(query), data=body,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.load(err)


def photos(folder):
    """The image files in `folder`, sorted."""
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.lower().endswith(IMAGE_EXTENSIONS))


def answers_alone(model_dir, paths, top_k=3):
    """path -> the answer POST /predict must give for it: the predictor on that photo alone."""
    predictor = Predictor(model_dir)
    answers = {}
    for path in paths:
        image = preprocess(path)
        probabilities = predictor(image)
        answers[path] = prediction(path, probabilities[0], top_k)
        answers[path]["sure"] = bool(sureness.sure(probabilities, image)[0])
        answers[path]["input"] = [png_base64(image[0, 0])]
    return answers


def post_all(url, paths, clients, top_k=3):
    """Post every path (repeats allowed) from `clients` threads at once: [(status, answer)]."""
    bodies = {path: Path(path).read_bytes() for path in set(paths)}
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(post, repeat(url), [bodies[p] for p in paths], paths, repeat(top_k)))


def cycle(paths, n):
    return [paths[i % len(paths)] for i in range(n)]


def rss_mb(pid):
    """Resident memory of process `pid`, in MB (Linux /proc; elsewhere `ps`)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except FileNotFoundError:
        kb = int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True,
                                text=True, check=True).stdout)
    return kb / 1024


def trickle(sock, data, every, stop):
    """Send `data` every `every` seconds until `stop` is set or the other end is gone."""
    while not stop.wait(every):
        try:
            sock.send(data)
        except OSError:
            return
