"""Safety of a local server that starts work and writes files: who may talk to it, and how much.

* **Host header.** A page on another site can make a browser send requests to ``127.0.0.1`` through a
  domain name that resolves there (DNS rebinding); such a request carries that foreign name in its
  ``Host`` header and is refused (403). Allowed: ``localhost``, loopback addresses, the address the
  server is bound to and, when it listens on every interface (``0.0.0.0``, a classroom), any IP address
  and this machine's own host name (a rebinding attack needs a domain name, never a bare IP).
* **Other origins.** A request that changes state (any method but GET/HEAD) from a page of another origin
  is refused (403): its ``Origin`` must name the host it was sent to, and ``Sec-Fetch-Site`` must not say
  ``cross-site``. Such requests must also send JSON (``Content-Type: application/json``; 415 otherwise),
  which a cross-site HTML form cannot do.
* **Body size and time.** A body over `MAX_BODY` bytes is refused (413) while it is read, before it is
  parsed; one that takes over `BODY_SECONDS` to arrive is refused (408). (Headers are bounded before
  the app sees a request: `connections.BoundedHttp`.)

Every refusal is one JSON object ``{"error": "…"}``.
"""

import asyncio
import ipaddress
import json
import socket
from urllib.parse import urlsplit

from .inputs import LabRequestError

MAX_BODY = 2 * 1024 * 1024
"""Largest request body, bytes."""
BODY_SECONDS = 20.0
"""Most seconds a request body may take to arrive (a 2 MB body over a slow classroom network takes a few)."""
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _hostname(host_header):
    """The host part of a ``Host`` header (``[::1]:8000`` → ``::1``), lower case."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class HostPolicy:
    """Which ``Host`` names the server answers to, for a server bound to ``bind_host``."""

    def __init__(self, bind_host):
        self.bind_host = bind_host.strip("[]").lower()
        self.any_interface = self.bind_host in ("0.0.0.0", "::", "")
        names = {"localhost", "127.0.0.1", "::1", self.bind_host}
        if self.any_interface:
            hostname = socket.gethostname().lower()
            names |= {hostname, f"{hostname}.local", socket.getfqdn().lower()}
        self.names = names

    def allows(self, host_header):
        name = _hostname(host_header)
        if name in self.names or name.endswith(".localhost"):
            return True
        return self.any_interface and _is_ip(name)


async def send_json_error(send, status, message):
    """Answer ``{"error": message}`` with ``status`` from ASGI middleware."""
    body = json.dumps({"error": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware applying the Host and Origin rules above before the app sees a request."""

    def __init__(self, app, policy):
        self.app, self.policy = app, policy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not self.policy.allows(host):
            return await send_json_error(send, 403, f"this lab answers to localhost, not to host {host!r} "
                                               "(a DNS-rebinding guard)")
        if scope["method"] not in _SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
                return await send_json_error(send, 403, f"requests from another origin ({origin}) may not change "
                                                   "anything here")
            if headers.get("sec-fetch-site") == "cross-site":
                return await send_json_error(send, 403, "cross-site requests may not change anything here")
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return await send_json_error(send, 415, "send JSON (Content-Type: application/json)")
        return await self.app(scope, receive, send)


class _NotJSON(ValueError):
    """NaN, Infinity or -Infinity in a body: Python's json reads them, JSON has no such numbers."""


def _refuse_constant(name):
    raise _NotJSON(name)


async def read_json(request, limit=MAX_BODY):
    """The request's JSON object body, read at most ``limit`` bytes far; raises `LabRequestError`
    (413 too large, 400 not a JSON object)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise LabRequestError(f"the request body is {int(length):,} bytes; the lab takes at most {limit:,}", 413)
    async def read():
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise LabRequestError(f"the request body is over {limit:,} bytes, the most the lab takes", 413)
            chunks.append(chunk)
        return chunks
    try:
        chunks = await asyncio.wait_for(read(), BODY_SECONDS)
    except asyncio.TimeoutError:
        raise LabRequestError(f"the request body took over {BODY_SECONDS:g} s to arrive; send it again", 408) \
            from None
    try:
        body = json.loads(b"".join(chunks) or b"null", parse_constant=_refuse_constant)
    except _NotJSON as e:
        raise LabRequestError(f"the request body holds {e}, which is not a number in JSON; send numbers", 400) \
            from None
    except (ValueError, UnicodeDecodeError):
        raise LabRequestError("the request body is not valid JSON", 400) from None
    except RecursionError:
        raise LabRequestError("the request body is JSON nested too deep", 400) from None
    if not isinstance(body, dict):
        raise LabRequestError("the request body must be a JSON object", 400)
    return body
