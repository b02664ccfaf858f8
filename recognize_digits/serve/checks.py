"""The checks `infer.py --serve` makes on a request before it reads an image: who is asking (Host,
Origin), how big the upload is, how fast it comes, and the file in a form upload.

Host (DNS rebinding): a page of another site can point its own name at 127.0.0.1 and then read
and post to this server as if it were its own. The Host header then carries that name, so only
the names this server is reached by are answered, and any other gets 421:
  - listening on one address: that address, and `localhost` (and NAME.localhost) when it is a
    loopback address, or this machine's name when it is not;
  - listening on 0.0.0.0 or :: (every interface): any IP address (an address cannot be pointed
    elsewhere), `localhost`, and this machine's name as a LAN user types it (`socket.gethostname()`,
    its first label, and that label plus `.local`, as macOS and Avahi announce it).
The port is not checked: an ssh tunnel or a forwarded port reaches the server on another one.

Origin (cross-site requests): a page of another site may send a "simple" POST here without asking
(the browser only hides the answer), so a POST whose Origin is not this server, or whose
Sec-Fetch-Site says another site sent it, gets 403. Scripts (curl, Python) send neither header.
"""

import email.parser
import email.policy
import ipaddress
import socket
import time
import urllib.parse
from http import HTTPStatus

MAX_BODY = 10 * 1024 * 1024  # bytes: a larger upload is refused (413) before it is read
STALL_SECONDS = 20  # an upload that sends nothing for this long gets 408
UPLOAD_SECONDS = 60  # and one that takes longer than this plus its size at SLOWEST_UPLOAD
SLOWEST_UPLOAD = 20_000  # bytes a second (a 10 MB photo: 9 minutes)
MAX_FORM_PARTS = 100
MAX_PART_HEADERS = 16 * 1024  # bytes of headers of one part of a form


class BadRequest(Exception):
    """A request we answer with an HTTP error status and {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def whole_number(text):
    """int(text) for a plain decimal number (ASCII digits only), else None."""
    return int(text) if text.isascii() and text.isdigit() else None


class HostRule:
    """Which Host headers a server listening on `address` answers (see the module's doc)."""

    def __init__(self, address, machine_name=None):
        self.address = ipaddress.ip_address(address.split("%")[0])
        self.everywhere = self.address.is_unspecified
        name = (machine_name or socket.gethostname()).lower().rstrip(".")
        short = name.split(".")[0]
        self.names = {"localhost"}
        if self.everywhere or not self.address.is_loopback:
            self.names |= {name, short, short + ".local"}

    def allows(self, host):
        name = host_name(host)
        if name is None:
            return False
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            if self.everywhere or not self.address.is_loopback:
                return name in self.names
            return name == "localhost" or name.endswith(".localhost")
        if self.everywhere:
            return True
        return address == self.address or (self.address.is_loopback and address.is_loopback
                                           and address.version == self.address.version)

    def check(self, headers, url):
        """BadRequest 421 unless the request's Host header is one this server answers."""
        host = headers.get("Host")
        if host is not None and not self.allows(host):
            raise BadRequest(HTTPStatus.MISDIRECTED_REQUEST,
                             f"this server does not answer to the name {host[:100]!r}: open "
                             f"{url} (a page of another site cannot use it under its own name)")


def host_name(host):
    """The lowercase name or address in a Host header, without its port; None if malformed."""
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        end = host.find("]")
        name, rest = host[1:end], host[end + 1:]
        if end < 0 or (rest and not (rest[0] == ":" and whole_number(rest[1:]) is not None)):
            return None
    else:
        name, colon, port = host.partition(":")
        if colon and whole_number(port) is None:
            return None
    name = name.rstrip(".")
    return name if name and name.isascii() and " " not in name else None


def check_origin(headers, url):
    """BadRequest 403 when a browser says a page of another site sent this request."""
    site = headers.get("Sec-Fetch-Site")
    origin = headers.get("Origin")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        sender = f"a page of another site ({origin[:100]})" if origin else "a page of another site"
    elif origin is not None and not same_origin(origin, headers.get("Host")):
        sender = f"a page of another site ({origin[:100]})"
    else:
        return
    raise BadRequest(HTTPStatus.FORBIDDEN, f"{sender} may not send images to this server: open "
                                           f"{url} and draw or drop the image there")


def same_origin(origin, host):
    """Whether an Origin header (`http://host:port`) names the server the Host header names."""
    if host is None or origin.strip() == "null":
        return False
    parts = urllib.parse.urlsplit(origin.strip().lower())
    return parts.scheme == "http" and not parts.path and parts.netloc == host.strip().lower()


def content_length(headers):
    """The declared body size, checked: BadRequest unless it is given and at most MAX_BODY."""
    text = headers.get("Content-Length")
    if text is None or headers.get("Transfer-Encoding"):
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


def read_body(rfile, sock, length, stall=STALL_SECONDS, seconds=UPLOAD_SECONDS):
    """`length` bytes of the request's body; BadRequest 408 if the client stops sending for
    `stall` seconds, or takes longer than `seconds` plus its size at SLOWEST_UPLOAD; 400 if it
    hangs up first."""
    allowed = seconds + length / SLOWEST_UPLOAD
    deadline = time.monotonic() + allowed
    chunks, left = [], length
    old_timeout = sock.gettimeout()
    try:
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BadRequest(HTTPStatus.REQUEST_TIMEOUT,
                                 f"the upload was too slow ({length - left:,} of {length:,} bytes "
                                 f"in {allowed:.0f} s): try again")
            sock.settimeout(min(stall, remaining))
            try:
                chunk = rfile.read1(min(left, 1 << 16))
            except TimeoutError:
                if time.monotonic() < deadline:
                    raise BadRequest(HTTPStatus.REQUEST_TIMEOUT,
                                     f"the upload stalled: nothing came for {stall} s after "
                                     f"{length - left:,} of {length:,} bytes; try again") from None
                continue  # too slow: said above
            if not chunk:
                raise BadRequest(HTTPStatus.BAD_REQUEST, "the upload was cut short")
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        sock.settimeout(old_timeout)
    return b"".join(chunks)


def form_file(body, content_type):
    """multipart/form-data (`curl -F file=@digit.png`, an HTML form) -> (the first file's bytes,
    its file name), or (the only part's bytes, None) for a form of one field without a file name
    (`curl -F "file=<digit.png"`). BadRequest 400 for a form that holds no file, or is
    malformed."""
    header = email.parser.HeaderParser(policy=email.policy.HTTP).parsestr(
        f"Content-Type: {content_type}\r\n\r\n")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70 or not boundary.isascii():
        raise BadRequest(HTTPStatus.BAD_REQUEST,
                         "a multipart/form-data upload needs a boundary in its Content-Type")
    delimiter = b"\r\n--" + boundary.encode("ascii")
    body = b"\r\n" + body  # so that the first delimiter looks like every other one
    at = body.find(delimiter)
    parts = []
    while at >= 0 and len(parts) < MAX_FORM_PARTS:
        line_end = body.find(b"\r\n", at + len(delimiter))
        if body.startswith(b"--", at + len(delimiter)) or line_end < 0:
            break  # the closing delimiter (or a form cut short)
        head_end = body.find(b"\r\n\r\n", line_end)
        end = body.find(delimiter, line_end)
        if head_end < 0 or end < 0 or head_end > end:
            break
        if head_end - line_end > MAX_PART_HEADERS:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "a part of the form has over "
                             f"{MAX_PART_HEADERS // 1024} kB of headers: send the image alone")
        part = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
            body[line_end + 2:head_end + 4])
        content = body[head_end + 4:end]
        if part.get_filename() is not None:
            return content, part.get_filename() or None
        parts.append(content)
        at = end
    if len(parts) == 1:
        return parts[0], None
    raise BadRequest(HTTPStatus.BAD_REQUEST,
                     "the form holds no file: send the image as a file field "
                     "(curl -F file=@digit.png URL), or its bytes as the body "
                     "(curl --data-binary @digit.png URL)")
