"""`python infer.py --serve`: a page to draw a digit on, and POST /predict, on the trained model.

    GET /                  the page (recognize_digits/serve/web/: index.html, style.css, app.js)
    POST /predict          body: an image file's bytes, any format infer.py reads
                           -> 200 {path, label, probability, top_k, input: [base64 PNG 28x28]}
                              (a number: also number and digits, and a PNG per digit)
                           -> 400 {"error": "..."}: the one-line message infer.py would print
                           -> 411, 413 (over 10 MB, refused from its Content-Length, unread)
                           query (optional): ?name=photo.jpg&top_k=3
                           &layers=1: also `layers`, what each layer saw (serve/layers.py)
                           &lang=en|zh&drawing=1: errors for the page (serve/messages.py)

Every image goes through the same path as `infer.py IMAGE`: the MNIST-style preprocessing, then
Paddle Inference. `input` is the 28x28 image the model saw (one per digit of a number), so the
page can show it.

Built on the standard library's http.server (ThreadingHTTPServer), not a micro-framework: two
routes and three static files take about as much code either way, the size limit and the
whitelist of files must be written by hand in both, and a user who never runs --serve installs
nothing new.
"""

import base64
import errno
import io
import json
import os
import socket
import socketserver
import sys
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

from recognize_digits import RecognizeDigitsError
from recognize_digits.images.number import chosen, digit_inputs, reading
from recognize_digits.serve import messages

MAX_BODY = 10 * 1024 * 1024  # bytes: a larger upload is refused (413) before it is read
MAX_TOP_K = 10
WEB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
HEADERS = {  # on every answer: the page may load only its own files (and the PNGs it is sent)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class BadRequest(Exception):
    """A request we answer with an HTTP error status and {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class DigitReader:
    """Image bytes -> infer.py --json's fields plus `input`. Safe to call from many threads.

    Preprocessing (numpy and Pillow, most of the time of a request) runs in the request's own
    thread, many at once. The Paddle Inference predictor is not thread-safe: its input and output
    tensors are one shared buffer each, so two runs interleaving their reshape / copy_from_cpu /
    run / copy_to_cpu would hand one client another's answer. Its runs are therefore serialised
    by a lock; each takes about a millisecond for one image, and already uses every core.
    """

    def __init__(self, predictor, mode="mnist", top_k=1, digits="auto", layers=None):
        self.predictor, self.mode, self.top_k, self.digits = predictor, mode, top_k, digits
        self.layers = layers  # a serve/layers.py LayerReader on the same model, or None
        self.lock = threading.Lock()

    def __call__(self, body, name, top_k=None, layers=False):
        # The digit, or the number, read as infer.py reads it (ImageError: a bad image).
        images, places = digit_inputs(Upload(body, name), self.mode, self.digits, name=name)
        with self.lock:
            probabilities = self.predictor(images)
        result = reading(name, probabilities, places, top_k or self.top_k, images)
        picked = [i for i, _ in chosen(probabilities, places)]
        result["input"] = [png_base64(images[i, 0]) for i in picked]
        if layers and self.layers:  # ?layers=1: what each layer saw of the (first) digit
            result["layers"] = self.layers(images[picked[0]])
        return result


class Upload(io.BytesIO):
    """An upload's bytes as a file named `name`: Pillow's messages quote its repr, which is then
    the name (as for a file infer.py reads), not `<_io.BytesIO object at 0x...>`."""

    def __init__(self, body, name):
        super().__init__(body)
        self.name = name

    def __repr__(self):
        return repr(self.name)


def whole_number(text):
    """int(text) for a plain decimal number (ASCII digits only), else None."""
    return int(text) if text.isascii() and text.isdigit() else None


def png_base64(image):
    """A [28, 28] model input in [-1, 1] -> base64 text of a grey PNG (white digit on black)."""
    pixels = np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")  # uint8 [28, 28]: mode "L"
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def load_pages(folder=WEB_DIR):
    """URL path -> (bytes, content type) for the page's files. Nothing else is ever served.

    The files are read once, here: a request's path is looked up in this dict and never joined to
    a folder, so no spelling of a path (../, %2e%2e, //, backslashes) can reach another file.
    """
    pages = {}
    for name in sorted(os.listdir(folder)):
        kind = CONTENT_TYPES.get(os.path.splitext(name)[1])
        if kind:
            with open(os.path.join(folder, name), "rb") as f:
                pages["/" + name] = (f.read(), kind)
    pages["/"] = pages["/index.html"]
    return pages


class Handler(BaseHTTPRequestHandler):
    """GET the page's files, POST /predict. Every answer has a Content-Length (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"  # keep-alive for the page; lets us answer Expect: 100-continue
    server_version = "recognize_digits"
    timeout = 30  # seconds a client may stay silent mid-request before its connection is closed

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        page = self.server.pages.get(path)
        if page is None:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no page {path[:100]} here: open /"})
        else:
            self.send(HTTPStatus.OK, *page)

    def do_HEAD(self):
        self.do_GET()  # send() leaves the body out for HEAD

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path != "/predict":
                raise BadRequest(HTTPStatus.NOT_FOUND, "POST images to /predict")
            body = self.read_body()
            name, top_k = self.query(url.query)
            layers = urllib.parse.parse_qs(url.query).get("layers") == ["1"]
            result = self.server.reader(body, name, top_k, layers=layers)
        except BadRequest as err:
            self.send_error_json(err.status, str(err), url.query)
        except RecognizeDigitsError as err:  # the image: the line infer.py prints for it
            self.send_error_json(HTTPStatus.BAD_REQUEST, str(err), url.query)
        except Exception as err:  # a bug of ours: one line on the terminal, 500, keep serving
            print(f"infer.py: error: POST /predict failed ({type(err).__name__}: {err})",
                  file=sys.stderr)
            self.send_error_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                 f"the server failed on this image ({type(err).__name__})",
                                 url.query)
        else:
            self.send_json(HTTPStatus.OK, result)

    def content_length(self):
        """The declared body size, checked: BadRequest unless it is given and at most MAX_BODY."""
        text = self.headers.get("Content-Length")
        if text is None or self.headers.get("Transfer-Encoding"):
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED,
                             "send the image with a Content-Length header (not chunked)")
        length = whole_number(text.strip())
        if length is None:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad Content-Length {text[:30]!r}")
        if length > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"the image is {length:,} bytes, more than the "
                             f"{MAX_BODY // 2**20} MB allowed: send a smaller file")
        return length

    def read_body(self):
        try:
            length = self.content_length()
        except BadRequest:
            self.close_connection = True  # the body, if any, is left unread: drop the connection
            raise
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise BadRequest(HTTPStatus.BAD_REQUEST, "the upload was cut short")
        return body

    def handle_expect_100(self):
        """Expect: 100-continue (curl sends it for large files): refuse a body that is too large
        before it is sent."""
        if self.command == "POST":
            try:
                self.content_length()
            except BadRequest as err:
                self.close_connection = True  # the body will not be read
                self.send_json(err.status, {"error": str(err)})
                return False
        return super().handle_expect_100()

    @staticmethod
    def query(text):
        """(name, top_k) from the query string: the name used in the answer and in errors."""
        fields = urllib.parse.parse_qs(text)
        name = fields.get("name", ["the upload"])[0][:200] or "the upload"
        if "top_k" not in fields:
            return name, None
        top_k = whole_number(fields["top_k"][0])
        if top_k is None or not 1 <= top_k <= MAX_TOP_K:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"top_k must be 1 to {MAX_TOP_K}")
        return name, top_k

    def send_error_json(self, status, message, query):
        """{"error": message}, retold in the page's language for a browser (serve/messages.py)."""
        message = messages.for_page(message, query, self.headers.get("Accept-Language"))
        self.send_json(status, {"error": message})

    def send_json(self, status, data):
        self.send(status, json.dumps(data).encode(), "application/json")

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in HEADERS.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):
        """No access log: the page shows every answer, and a line per request would bury the URL
        on the terminal. Failures of ours are still printed (do_POST, Server.handle_error)."""


class Server(ThreadingHTTPServer):
    """A thread per connection; Ctrl-C does not wait for them (daemon threads)."""

    daemon_threads = True
    request_queue_size = 128  # connections waiting to be accepted (socketserver's 5 is too few)
    allow_reuse_port = False  # a second server on a port in use must fail, not share it
    # On Windows, SO_REUSEADDR lets a second server take a port in use; elsewhere it only lets a
    # new server start while the last one's connections close.
    allow_reuse_address = os.name != "nt"

    def __init__(self, address, reader, pages):
        self.reader, self.pages = reader, pages
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer's own server_bind looks the host up in DNS (socket.getfqdn), which can take
        # seconds for 0.0.0.0; nothing here uses the name it finds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        """A client that hung up or went silent is no error of ours; anything else is one line."""
        err = sys.exc_info()[1]
        if not isinstance(err, (ConnectionError, TimeoutError)):
            print(f"infer.py: error: answering {client_address[0]} failed ({err!r})",
                  file=sys.stderr)


class Server6(Server):
    address_family = socket.AF_INET6


def open_server(host, port, reader=None):
    """The server, listening on (host, port); RecognizeDigitsError (one line) when it cannot.

    It answers once `serve` runs; `reader` (a DigitReader) may be set on it until then.
    """
    if not 0 <= port <= 65535:
        raise RecognizeDigitsError(f"--port must be from 0 to 65535 (0: any free port), "
                                   f"got {port}.")
    server_class = Server6 if ":" in host else Server
    try:
        return server_class((host, port), reader, load_pages())
    except OSError as err:
        if err.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", None)):
            raise RecognizeDigitsError(
                f"port {port} on {host} is already in use (another server, or an earlier "
                f"`infer.py --serve`): stop it, or pass another --port.") from None
        if err.errno in (errno.EACCES, getattr(errno, "WSAEACCES", None)):
            raise RecognizeDigitsError(
                f"no permission to listen on port {port} (below 1024 needs root): "
                f"pass --port 8000 or another above 1023.") from None
        raise RecognizeDigitsError(
            f"cannot listen on {host}, port {port} ({err.strerror or err}): pass --host "
            f"127.0.0.1 (this machine) or 0.0.0.0 (every network interface).") from None


def url_to_open(server):
    """The address a browser on this machine opens, whatever interface the server listens on."""
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(server):
    """Answer the page and POST /predict until Ctrl-C; then stop, without a traceback."""
    print(f"Open {url_to_open(server)} in a browser to draw a digit (Ctrl-C to stop).",
          flush=True)
    if server.server_address[0] in ("0.0.0.0", "::"):
        print(f"Listening on every network interface: anyone who can reach this machine "
              f"(http://{socket.gethostname()}:{server.server_address[1]}/) can use the page and "
              f"send it images; there is no password.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
    finally:
        server.server_close()
    return 0
