"""What `infer.py --serve` lets clients hold at once: connections, upload bytes, decoded pixels.

A learner's laptop (8 GB, `ulimit -n` 1024, or 256 on macOS) runs the server, and any web page the
learner visits can send it requests (and anyone on the network, under --host 0.0.0.0). So every
resource a client can make the server hold is bounded:

- connections: at most MAX_CONNECTIONS (each one is a file descriptor and a thread). When a new one
  comes and the table is full, the connection that has gone longest without a request to answer
  (idle, or still trickling its headers or its upload) is closed to make room: a thousand slow
  clients cannot lock out the next one. A connection that sends no complete request for
  IDLE_SECONDS is closed quietly.
- upload bytes held in memory: at most UPLOAD_BYTES_AT_ONCE. An upload waits for room (at most
  WAIT_SECONDS, then 503), and an upload that has been arriving for over SLOW_UPLOAD_SECONDS is
  closed to make room for it: slow uploads cannot hold the room forever.
- decoded pixels: an upload is decoded only if it is at most MAX_UPLOAD_PIXELS once decoded (a phone
  photo's JPEG, decoded at 1/4 or 1/8 of its size as infer.py does, is far below), and at most
  PIXELS_AT_ONCE are being decoded at once; an image waits for its turn. A small PNG can decode to
  7000x7000 RGBA, about 1.3 GB of work memory: without this bound six of them took 5.4 GB.
"""

import ctypes
import functools
import io
import socket
import sys
import threading
import time
import warnings

from PIL import Image

from recognize_digits.images.loading import WORK_SIDE

MAX_CONNECTIONS = 64
IDLE_SECONDS = 20  # a connection without a whole request for this long is closed
UPLOAD_BYTES_AT_ONCE = 64 * 2**20
SLOW_UPLOAD_SECONDS = 5  # an upload arriving for longer gives its room to a new one, if needed
MAX_UPLOAD_PIXELS = 25_000_000  # once decoded; files on disk: loading.MAX_PIXELS (50,000,000)
PIXELS_AT_ONCE = 25_000_000  # decoded at once, all uploads together (about 27 bytes a pixel)
WAIT_SECONDS = 60  # an upload waits at most this long for its turn to be decoded, then 503
DECODERS = 2  # threads that decode and preprocess uploads (reading.DigitReader)
LARGE_IMAGE = 2_000_000  # pixels: after decoding a larger image, free memory goes back to the OS

IDLE, UPLOADING, ANSWERING = "idle", "uploading", "answering"


class Connection:
    def __init__(self, sock):
        self.sock, self.state, self.since, self.bytes = sock, IDLE, time.monotonic(), 0


class Connections:
    """The open connections, each idle (between requests, or reading headers), uploading (its
    body arriving) or answering. Thread-safe: the accepting thread adds, handlers update."""

    def __init__(self, most=MAX_CONNECTIONS, upload_bytes=UPLOAD_BYTES_AT_ONCE,
                 idle_seconds=IDLE_SECONDS):
        self.most, self.upload_bytes, self.idle_seconds = most, upload_bytes, idle_seconds
        self.table = {}  # socket -> Connection
        self.lock = threading.Lock()
        self.room = threading.Condition(self.lock)  # notified when upload bytes are given back

    def __len__(self):
        return len(self.table)

    def add(self, sock):
        """Take a new connection, closing the longest-waiting one if the table is full. False if
        every connection is being answered (then there is no room: refuse the new one)."""
        with self.lock:
            if len(self.table) >= self.most and not self._evict(lambda c: c.state != ANSWERING):
                return False
            self.table[sock] = Connection(sock)
            return True

    def remove(self, sock):
        with self.lock:
            self.table.pop(sock, None)
            self.room.notify_all()

    def set(self, sock, state):
        """Mark the connection idle (its answer sent) or answering (its request read)."""
        with self.lock:
            connection = self.table.get(sock)
            if connection:
                connection.state, connection.since = state, time.monotonic()
                if state == IDLE and connection.bytes:
                    connection.bytes = 0
                    self.room.notify_all()

    def reserve(self, sock, length, wait=WAIT_SECONDS):
        """Mark the connection uploading `length` bytes, once the total fits in upload_bytes:
        waiting at most `wait` seconds, and closing uploads that have been arriving for over
        SLOW_UPLOAD_SECONDS to make room. False if there is still no room."""
        deadline = time.monotonic() + wait
        with self.lock:
            connection = self.table.get(sock)
            if connection is None:  # closed to make room meanwhile
                return False
            connection.state, connection.since, connection.bytes = UPLOADING, time.monotonic(), 0
            while self._held() + length > self.upload_bytes:
                now = time.monotonic()
                if self._evict(lambda c: c.state == UPLOADING and c.bytes
                               and now - c.since > SLOW_UPLOAD_SECONDS):
                    continue
                if now >= deadline or self.table.get(sock) is not connection:
                    return False
                self.room.wait(min(deadline - now, 0.5))  # and look for slow uploads again
            connection.bytes = length
            return True

    def sweep(self):
        """Close the connections idle for longer than idle_seconds (run every half second)."""
        now = time.monotonic()
        with self.lock:
            stale = [c for c in self.table.values()
                     if c.state == IDLE and now - c.since > self.idle_seconds]
            for connection in stale:
                self._close(connection)

    def _held(self):
        return sum(c.bytes for c in self.table.values())

    def _evict(self, may_close):
        """Close the connection that has waited longest among those `may_close` allows."""
        candidates = [c for c in self.table.values() if may_close(c)]
        if not candidates:
            return False
        self._close(min(candidates, key=lambda c: c.since))
        return True

    def _close(self, connection):
        """Wake its handler (its read returns nothing, so it ends and closes the socket)."""
        del self.table[connection.sock]
        self.room.notify_all()
        try:
            connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already gone
            pass


class PixelBudget:
    """At most `most` pixels decoded at once, all threads together."""

    def __init__(self, most=PIXELS_AT_ONCE):
        self.most, self.used = most, 0
        self.ready = threading.Condition()

    def take(self, pixels, timeout=WAIT_SECONDS):
        """Wait until `pixels` more fit (at most `timeout` seconds): True, or False if not."""
        pixels = min(pixels, self.most)
        with self.ready:
            if not self.ready.wait_for(lambda: self.used + pixels <= self.most, timeout):
                return False
            self.used += pixels
            return True

    def give_back(self, pixels):
        with self.ready:
            self.used -= min(pixels, self.most)
            self.ready.notify_all()


def decoded_size(data, draft=True):
    """((width, height) in the file, pixels the decoder will allocate) for image bytes, read from
    the header alone; None when Pillow cannot read the header (loading.py then says why).

    `draft`: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size, as loading.open_image does.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:  # shares `data`, no copy
                size = im.size
                if draft:
                    im.draft(None, (WORK_SIDE, WORK_SIDE))  # JPEG only; the others ignore it
                return size, im.width * im.height
    except Exception:  # not an image, a broken header, Pillow's own bomb check
        return None



@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None (macOS, Windows, musl: their allocators give memory back)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # the process's own symbols: libc's, no lookup
    except (OSError, AttributeError):
        return None


def release_free_memory():
    """Give the memory freed after a large image back to the OS (glibc keeps it otherwise)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
