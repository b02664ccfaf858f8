"""`python infer.py --serve`: a page to draw a digit on, and POST /predict, on the trained model.

    GET /                  the page (recognize_digits/serve/web/: index.html, style.css, app.js)
    POST /predict          body: an image file's bytes, any format infer.py reads
                           -> 200 {path, label, probability, top_k, input: [base64 PNG 28x28]}
                              (a number: also number and digits, and a PNG per digit)
                           or a form upload (multipart/form-data: its first file)
                           -> 400 {"error": "..."}: the one-line message infer.py would print
                           -> 411, 413 (over 10 MB, refused from its Content-Length, unread;
                              over 25 megapixels once decoded), 408 (an upload that stalls)
                           -> 403 (sent by a page of another site), 421 (a Host that is not
                              this server's), 503 (busy: try again)
                           query (optional): ?name=photo.jpg&top_k=3
                           &layers=1: also `layers`, what each layer saw (serve/layers.py)
                           &lang=en|zh&drawing=1: errors for the page (serve/messages.py)

Every image goes through the same path as `infer.py IMAGE`: the MNIST-style preprocessing, then
Paddle Inference. `input` is the 28x28 image the model saw (one per digit of a number), so the
page can show it.

Built on the standard library's http.server (ThreadingHTTPServer), not a micro-framework: two
routes and three static files take about as much code either way, the size limit and the
whitelist of files must be written by hand in both, and a user who never runs --serve installs
nothing new. reading.py reads an upload, checks.py checks a request, limits.py bounds what
clients can make the server hold.
"""

import errno
import json
import os
import socket
import socketserver
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from recognize_digits import RecognizeDigitsError
from recognize_digits.serve import limits, messages
from recognize_digits.serve.checks import (BadRequest, HostRule, check_origin, content_length,
                                           form_file, read_body, whole_number)
from recognize_digits.serve.limits import ANSWERING, IDLE, Connections
from recognize_digits.serve.reading import DigitReader, png_base64  # noqa: F401 (infer.py, tests)

MAX_TOP_K = 10
WEB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
HEADERS = {  # on every answer: the page may load only its own files (and the PNGs it is sent)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


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
    timeout = limits.IDLE_SECONDS  # a client silent this long mid-request is closed quietly

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            self.server.hosts.check(self.headers, self.server.where)
        except BadRequest as err:
            self.send_json(err.status, {"error": str(err)})
            return
        page = self.server.pages.get(path)
        if page is None:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no page {path[:100]} here: open /"})
        else:
            self.send(HTTPStatus.OK, *page)

    def do_HEAD(self):
        self.do_GET()  # send() leaves the body out for HEAD

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = b""
        try:
            self.check_post()
            if url.path != "/predict":
                raise BadRequest(HTTPStatus.NOT_FOUND, "POST images to /predict")
            body = self.read_body()
            name, top_k = self.query(url.query)
            body, name = self.image_in(body, name)
            layers = urllib.parse.parse_qs(url.query).get("layers") == ["1"]
            result = self.server.reader(body, name, top_k, layers=layers)
        except BadRequest as err:
            self.close_connection = True  # the body may be left unread, or be half read
            self.send_error_json(err.status, str(err), url.query)
        except RecognizeDigitsError as err:  # the image: the line infer.py prints for it
            self.send_error_json(HTTPStatus.BAD_REQUEST, str(err) + self.hint(body), url.query)
        except Exception as err:  # a bug of ours: one line on the terminal, 500, keep serving
            print(f"infer.py: error: POST /predict failed ({type(err).__name__}: {err})",
                  file=sys.stderr)
            self.close_connection = True
            self.send_error_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                 f"the server failed on this image ({type(err).__name__})",
                                 url.query)
        else:
            self.send_json(HTTPStatus.OK, result)

    def check_post(self):
        """Host, Origin and Content-Length, before the body is read (BadRequest: it never is)."""
        self.server.hosts.check(self.headers, self.server.where)
        check_origin(self.headers, self.server.where)
        content_length(self.headers)

    def read_body(self):
        """The upload, once there is room for it (limits.Connections.reserve)."""
        if not self.server.connections.reserve(self.connection, content_length(self.headers)):
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE,
                             "the server is busy receiving other uploads: try again")
        body = read_body(self.rfile, self.connection, content_length(self.headers))
        self.server.connections.set(self.connection, ANSWERING)
        return body

    def image_in(self, body, name):
        """(the image's bytes, its name): the body itself, or the first file of a form upload."""
        kind = self.headers.get_content_type()
        if kind != "multipart/form-data":
            return body, name
        image, filename = form_file(body, self.headers.get("Content-Type", ""))
        if filename and "name=" not in urllib.parse.urlsplit(self.path).query:
            name = os.path.basename(filename.replace("\\", "/"))[:200] or name
        return image, name

    def hint(self, body):
        """How to send the file, when the way it came is what broke it: `curl -d @FILE` sends
        the file as a form field, without its line breaks (an image of any size has some)."""
        if (self.headers.get_content_type() == "application/x-www-form-urlencoded"
                and len(body) > 256 and b"\n" not in body and b"\r" not in body):
            return (" It came as a form field without line breaks, as `curl -d @FILE` sends a "
                    "file: send the file itself with `curl --data-binary @FILE`, or as a form "
                    "upload with `curl -F file=@FILE`.")
        return ""

    def handle_expect_100(self):
        """Expect: 100-continue (curl sends it for large files): refuse a body that is too large,
        or a request from elsewhere, before it is sent."""
        if self.command == "POST":
            try:
                self.check_post()
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
        self.server.connections.set(self.connection, IDLE)  # its time to send the next starts

    def log_message(self, format, *args):
        """No access log: the page shows every answer, and a line per request would bury the URL
        on the terminal. Failures of ours are still printed (do_POST, Server.handle_error)."""


class Server(ThreadingHTTPServer):
    """A thread per connection, at most limits.MAX_CONNECTIONS of them; Ctrl-C does not wait for
    them (daemon threads)."""

    daemon_threads = True
    request_queue_size = 128  # connections waiting to be accepted (socketserver's 5 is too few)
    allow_reuse_port = False  # a second server on a port in use must fail, not share it
    # On Windows, SO_REUSEADDR lets a second server take a port in use; elsewhere it only lets a
    # new server start while the last one's connections close.
    allow_reuse_address = os.name != "nt"

    def __init__(self, address, reader, pages):
        self.reader, self.pages = reader, pages
        self.connections = Connections()
        super().__init__(address, Handler)
        self.hosts = HostRule(self.server_address[0])
        self.where = url_to_open(self)  # where to open the page, as error messages say it
        if self.hosts.everywhere:
            self.where += (f" (from another machine: http://{socket.gethostname()}:"
                           f"{self.server_address[1]}/)")

    def process_request(self, request, client_address):
        """Start the connection's thread, once there is room for it (limits.Connections)."""
        if not self.connections.add(request):
            refuse(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.connections.remove(request)
        super().shutdown_request(request)

    def service_actions(self):
        """Run by serve_forever every half second: close the connections idle for too long."""
        self.connections.sweep()

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


def refuse(sock):
    """Tell a connection there is no room for it, without waiting on it."""
    body = b'{"error": "the server has too many requests to answer: try again"}'
    try:
        sock.setblocking(False)
        sock.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                  b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), body))
    except OSError:
        pass


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
