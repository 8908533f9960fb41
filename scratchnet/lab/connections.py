"""Bounds on a connection before the app sees its request: header size and how long headers may take.

uvicorn's fast HTTP parser (httptools) accepts a request's headers of any size (a 128 MB header is
read and kept) and waits forever for headers that never end (one byte every few seconds keeps a
connection, a thread of memory and a file descriptor, open for good: "slowloris"). `BoundedHttp` is
uvicorn's own httptools protocol with two limits added where the bytes arrive:

* the request line and headers of one request may be at most `MAX_HEADER_BYTES`; more is answered
  431 and the connection is closed (counted as the bytes arrive, so memory stays bounded);
* they must arrive within `HEADER_SECONDS` of the connection opening or the request's first byte;
  a request that is slower is answered 408 (a connection that sent nothing is just closed).

Both answers are one JSON object ``{"error": "…"}``, like every refusal of the lab. The other bounds
are uvicorn's own settings, given in `SERVER_LIMITS`: idle keep-alive connections close after
``timeout_keep_alive`` seconds, and beyond ``limit_concurrency`` open connections (or requests in
progress) new requests get 503. A request's body is bounded in size and time by `guard.read_json`.
"""

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
"""Most bytes of one request's request line and headers (the page's requests send under 1 KB)."""
HEADER_SECONDS = 10.0
"""Most seconds for a request's headers to arrive."""
SERVER_LIMITS = {"timeout_keep_alive": 5, "limit_concurrency": 1024, "backlog": 256}
"""uvicorn settings: seconds an idle connection stays open; most connections or requests in progress
(each learner's open tab holds one event stream at most); pending connections the socket queues."""


def _refusal(status, reason, message):
    """An HTTP/1.1 response ``{"error": message}`` that closes the connection, as bytes."""
    body = json.dumps({"error": message}).encode("utf-8")
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode("ascii") + body


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with `MAX_HEADER_BYTES` and `HEADER_SECONDS` (module docstring).
    Pass it as ``uvicorn.Config(http=BoundedHttp)``."""

    max_header_bytes = MAX_HEADER_BYTES
    header_seconds = HEADER_SECONDS

    def connection_made(self, transport):
        super().connection_made(transport)
        self._header_bytes = 0
        self._reading_headers = True
        self._header_timer = None
        self._arm_header_timer()

    def connection_lost(self, exc):
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data):
        if self._reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._reading_headers and self._header_bytes > self.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large",
                         f"the request's headers are over {self.max_header_bytes:,} bytes, the most the lab "
                         "reads; send fewer or shorter headers (cookies included)")

    def on_message_begin(self):
        super().on_message_begin()
        self._reading_headers = True
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self):
        self._reading_headers = False
        self._header_bytes = 0
        self._disarm_header_timer()
        super().on_headers_complete()

    def _arm_header_timer(self):
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _disarm_header_timer(self):
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self):
        self._header_timer = None
        if not self._reading_headers or self.transport.is_closing():
            return
        if self._header_bytes == 0:                 # opened and never used: nothing to answer
            self.transport.close()
            return
        self._refuse(408, "Request Timeout", f"the request's headers took over {self.header_seconds:g} s to "
                                             "arrive; the lab closes slow connections, send the request again")

    def _refuse(self, status, reason, message):
        self._reading_headers = False
        self._disarm_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, reason, message))
            self.transport.close()
