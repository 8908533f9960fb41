"""Bounds on a connection to the lab (``connections.BoundedHttp``, ``guard.read_json``) and the teacher's
terminal lines, against a real uvicorn server over real sockets.

Each hostile connection gets its 4xx JSON answer (or is closed) in bounded time, and the server goes
on answering a normal request right after it.
"""

import json
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

import scratchnet as sn

pytest.importorskip("uvicorn")
import uvicorn  # noqa: E402

from scratchnet.lab import Lab, LabModel, create_app, guard  # noqa: E402
from scratchnet.lab.connections import SERVER_LIMITS, BoundedHttp  # noqa: E402

HEADER_SECONDS = 1.0


class QuickBoundedHttp(BoundedHttp):
    """`BoundedHttp` with a short header time limit, so that a test waits one second, not ten."""
    header_seconds = HEADER_SECONDS


@pytest.fixture(scope="module")
def server():
    """``(host, port, lab)`` of a real lab server run by uvicorn in a thread with `QuickBoundedHttp`."""
    lab = Lab(LabModel(sn.seed_network(seed=3), source="test net", trained=True))
    config = uvicorn.Config(create_app(lab), log_level="error", access_log=False, http=QuickBoundedHttp,
                            **SERVER_LIMITS)
    srv = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield "127.0.0.1", sock.getsockname()[1], lab
    srv.should_exit = True
    thread.join(10)


def answer(conn, timeout=15):
    """Everything the server sends before it closes ``conn`` (or ``timeout`` seconds pass)."""
    conn.settimeout(timeout)
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def status_and_json(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def still_serves(server):
    """A normal request on a new connection is answered 200 (the server was not hurt)."""
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        raw = answer(c)
    return raw.startswith(b"HTTP/1.1 200") and b'"source"' in raw


def test_a_huge_header_is_refused_431_after_reading_a_bounded_amount(server):
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        sent = 0
        try:
            c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
            for _ in range(128):                    # up to 128 MB, as the hostile request
                c.sendall(b"a" * (1 << 20))
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass                                    # the server closed the connection: it stopped reading
        raw = answer(c)
    assert sent < 16, f"the server read {sent} MB of one header"
    if raw:                                         # the answer can be lost when the peer resets first
        status, body = status_and_json(raw)
        assert status == 431 and "65,536 bytes" in body["error"]
    assert still_serves(server)


def test_a_header_just_over_the_limit_in_one_piece_gets_the_431_answer(server):
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 70_000)
        status, body = status_and_json(answer(c))
    assert status == 431 and "headers are over" in body["error"]


def test_headers_that_trickle_in_are_answered_408_in_bounded_time(server):
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        start = time.monotonic()
        c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\n")
        try:
            for _ in range(10):                     # a header line every 0.3 s, never the blank line
                c.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.3)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = answer(c)
        took = time.monotonic() - start
    status, body = status_and_json(raw)
    assert status == 408 and "took over 1 s" in body["error"]
    assert took < HEADER_SECONDS + 3
    assert still_serves(server)


def test_a_connection_that_sends_nothing_is_closed(server):
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        start = time.monotonic()
        assert answer(c) == b""
        assert time.monotonic() - start < HEADER_SECONDS + 3


def test_normal_keep_alive_requests_and_a_large_body_are_not_mistaken_for_headers(server):
    """The bounds count the request line and headers only: a 1.5 MB body (under the lab's 2 MB) reaches
    the app, which answers it; two requests on one kept-alive connection both get answers."""
    host, port, _ = server
    body = json.dumps({"image": "data:image/png;base64," + "A" * 1_500_000}).encode()
    with socket.create_connection((host, port)) as c:
        c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        raw = answer(c)
    statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3})", raw)]
    assert len(statuses) == 2 and statuses[1] == 200
    assert statuses[0] not in (408, 431) and 400 <= statuses[0] < 500    # the app's own answer


def test_a_body_that_trickles_in_is_answered_408(server, monkeypatch):
    monkeypatch.setattr(guard, "BODY_SECONDS", 1.0)
    host, port, _ = server
    with socket.create_connection((host, port)) as c:
        start = time.monotonic()
        c.sendall(b"POST /api/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"image\": ")
        raw = answer(c, timeout=5)
        took = time.monotonic() - start
    status, body = status_and_json(raw)
    assert status == 408 and "took over 1 s" in body["error"] and took < 4
    assert still_serves(server)


def test_census_counts_learners_and_their_runs(server):
    host, port, lab = server
    before = lab.sessions.census()[0]
    for _ in range(3):                               # three learners: three cookies
        with socket.create_connection((host, port)) as c:
            c.sendall(b"GET /api/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer(c)
    learners, active, training, waiting = lab.sessions.census()
    assert learners == before + 3 and active >= 3 and (training, waiting) == (0, 0)


def test_the_teachers_terminal_says_what_is_served_and_how_to_stop(tmp_path):
    sn.save(sn.seed_network(seed=3), tmp_path / "model.npz")
    p = subprocess.Popen([sys.executable, "-c", "from scratchnet.cli import main; main()", "lab", "--port", "0",
                          "--no-browser"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert re.fullmatch(r"lab: http://127\.0\.0\.1:\d+/\n", p.stdout.readline())
        lines = [p.stderr.readline() for _ in range(2)]
    finally:
        p.terminate()
        p.wait(timeout=10)
    assert lines[0].startswith("lab: serving 784 → 100 σ → 10 σ → 10 softmax, loaded from model.npz")
    assert lines[1].startswith("lab: Ctrl-C stops the lab")
