"""How fast the lab answers, measured against a real ``scratchnet lab`` server.

Three measurements, each against ``scratchnet lab MODEL --port 0`` started as a subprocess:

* ``predict``: round trips of ``POST /api/predict`` with a drawing as the page sends it (the 280×280 pad
  as a 140×140 PNG data URL) from ``--clients`` concurrent clients (default 8), in two ways: *classroom*, each
  client sending one request every 120 ms, the most the page sends while a learner draws (8 learners
  drawing at once), and *saturated*, each client sending its next request as soon as the last one is
  answered (no pause: what the server can take). Reports p50/p95/p99 and throughput of each; and one
  learner's ``POST /api/backprop`` round trips, one digit at a time.
* ``classroom``: the same classroom of (at least) 30 learners drawing while 2 other learners have pressed
  Start on long runs (the lab trains one at a time on 2 cores, so one trains and one waits), then 8 clients
  back to back and one learner's ``POST /api/backprop`` with the run still going.
* ``proxied``: the same classroom served by 2 lab processes behind nginx, as docs/lab.md's bigger class
  is (each learner connects from their own loopback address, which keeps them on one process; needs
  ``nginx``, not part of the default run).
* ``breakdown``: where a prediction's CPU goes: the server's steps timed one by one in this process.
* ``first-load``: Chromium loads the page in a fresh context (no cache), ``--loads`` times; reports the
  time to the ``load`` event and to the page's ``data-ready`` mark (every section started).
* ``training``: the same recipe trained by ``scratchnet train --json`` and by the lab's Train section
  (``POST /api/train``, its events streamed to a client the whole time), alternately ``--repeats`` times;
  compares the trainer's own seconds per epoch. The lab's target is at most 10 % slower.

    python benchmarks/lab_latency.py [predict] [classroom] [proxied] [breakdown] [first-load] [training]
                                     [--model model.npz]

Without ``--model`` a seed network is trained for 2 epochs first (MNIST is downloaded once). Prints one
JSON object per measurement and a markdown summary, with the machine it ran on.
"""

import argparse
import base64
import contextlib
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

import scratchnet as sn
from scratchnet.training import Recipe, train

LOAD_BEFORE = os.getloadavg()[0]
COMMAND = [sys.executable, "-c", "from scratchnet.cli import main; main()"]
CHROMIUM = "/usr/bin/chromium"


def machine():
    """What the numbers were measured on, with the load average (other work on the machine slows them)."""
    return {"python": platform.python_version(), "numpy": np.__version__, "cpu": platform.processor() or
            platform.machine(), "cores": os.cpu_count(), "system": platform.platform(terse=True),
            "load_average_1min_before": LOAD_BEFORE}


def environment(blas_threads):
    """The environment of the measured processes: with ``blas_threads``, OpenBLAS/OpenMP limited to it."""
    env = dict(os.environ)
    if blas_threads:
        env.update(OPENBLAS_NUM_THREADS=str(blas_threads), OMP_NUM_THREADS=str(blas_threads))
    return env


def cpu_seconds(pid):
    """CPU time (user + system) a process (or a list of processes, in all) has used so far, from /proc
    (Linux), or None."""
    if isinstance(pid, (list, tuple)):
        each = [cpu_seconds(p) for p in pid]
        return None if None in each else sum(each)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def lab(model, folder, blas_threads=None, host=None):
    """A ``scratchnet lab`` process on a free port; yields ``(URL, pid)`` once it answers; always stopped."""
    process = subprocess.Popen([*COMMAND, "lab", str(model), "--port", "0", "--no-browser",
                                *(["--host", host] if host else [])], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(blas_threads))
    try:
        match = re.fullmatch(r"lab: (http://\S+/)\n", process.stdout.readline())
        if not match:
            raise SystemExit(f"the lab did not start: {process.stderr.read()}")
        url = match.group(1)
        for _ in range(200):
            try:
                httpx.get(url + "api/model", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def canvas_pictures(n=16, seed=0, side=140):
    """``n`` data URLs of pictures like those the page sends: the 280×280 pad (dark strokes 18 px wide on
    white) at ``side``×``side``."""
    rng = np.random.default_rng(seed)
    urls, k = [], side / 280
    for _ in range(n):
        img = Image.new("RGBA", (side, side), (255, 255, 255, 255))
        d = ImageDraw.Draw(img)
        points = [tuple(int(v * k) for v in rng.integers(50, 230, 2)) for _ in range(rng.integers(3, 7))]
        d.line(points, fill=(17, 17, 17, 255), width=round(18 * k), joint="curve")
        buf = io.BytesIO()
        img.save(buf, "PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return urls


class RawClient:
    """A lean HTTP/1.1 keep-alive client for the load generator: one socket, requests written as bytes,
    answers read by their Content-Length, the session cookie kept: much less CPU a request than httpx
    (`measure_predict` reports it as ``client_cpu_ms_per_request``), since the generator runs on the same
    cores as the server and its own cost is not the server's."""

    def __init__(self, url, timeout=30, source=None):
        parts = httpx.URL(url)
        self.host, self.port, self.base = parts.host, parts.port or 80, parts.path.rstrip("/")
        self.timeout, self.sock, self.cookie, self.source = timeout, None, None, source

    def post_json(self, path, body):
        """POST ``body`` (JSON-encodable) to ``path``; returns ``(status, body bytes)``."""
        data = json.dumps(body).encode()
        head = (f"POST {self.base}/{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                + (f"Cookie: {self.cookie}\r\n" if self.cookie else "") + "\r\n").encode()
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout,
                                                 source_address=(self.source, 0) if self.source else None)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(head + data)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = header.decode("latin-1").split("\r\n")
        status, fields = int(lines[0].split()[1]), {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        for value in fields.get("set-cookie", []):
            self.cookie = value.split(";", 1)[0]
        length = int(fields["content-length"][0])
        while len(self.buffer) < length:
            self._read()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        if "close" in fields.get("connection", []):
            self.close()
        return status, answer

    def _read(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def measure_predict(url, pid, clients=8, requests=100, warmup=10, interval_ms=0, own_addresses=False):
    """Round-trip times (ms) of /api/predict from ``clients`` threads, ``requests`` each; a client sends
    a request every ``interval_ms`` (or, if an answer comes later, as soon as it comes; 0: no pause).
    With ``own_addresses`` client ``k`` connects from ``127.0.0.(k + 2)``, as learners come from their own
    machines (a proxy that keeps a learner on one lab process tells them apart by address). ``pid`` may
    be a list of the server's processes."""
    pictures = canvas_pictures()
    times, errors = [], []
    barrier = threading.Barrier(clients)

    def client(k):
        with RawClient(url, source=f"127.0.0.{k + 2}" if own_addresses else None) as c:
            for i in range(warmup):
                c.post_json("api/predict", {"image": pictures[(k + i) % len(pictures)]})
            barrier.wait()
            time.sleep(interval_ms / 1e3 * k / clients)                # clients out of step, as people are
            due = time.perf_counter()
            for i in range(requests):
                body = {"image": pictures[(k * 7 + i) % len(pictures)]}
                time.sleep(max(0.0, due - time.perf_counter()))
                start = time.perf_counter()
                due = start + interval_ms / 1e3          # as the page: the next one interval after this one
                                                        # was sent, or when its answer comes if later (no
                                                        # catching up on requests a slow answer delayed)
                status, answer = c.post_json("api/predict", body)
                times.append((time.perf_counter() - start) * 1e3)
                if status != 200:
                    errors.append(answer.decode(errors="replace"))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = cpu_seconds(pid)
    t = np.array(times)
    n_total = clients * (requests + warmup)
    return {"measurement": "predict", "scenario": "classroom" if interval_ms else "saturated",
            "interval_ms": interval_ms, "clients": clients, "requests": len(t), "errors": len(errors),
            "p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
            "p99_ms": float(np.percentile(t, 99)), "max_ms": float(t.max()),
            "requests_per_s": len(t) / wall,
            # the server's own CPU per request (warm-up included): what the machine's load does not inflate much
            "server_cpu_ms_per_request": None if cpu is None else (cpu - cpu_before) / n_total * 1e3,
            # the load generator's own CPU per request (this process: its clients, on the same cores)
            "client_cpu_ms_per_request": (time.process_time() - client_before) / n_total * 1e3}


def measure_first_load(url, loads=5):
    """Milliseconds to the load event and to the page's data-ready mark, each load in a fresh context."""
    from playwright.sync_api import sync_playwright
    load, ready = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            for _ in range(loads):
                context = browser.new_context()
                page = context.new_page()
                start = time.perf_counter()
                page.goto(url, wait_until="load")
                load.append((time.perf_counter() - start) * 1e3)
                page.wait_for_selector("body[data-ready=true]")
                ready.append((time.perf_counter() - start) * 1e3)
                context.close()
        finally:
            browser.close()
    return {"measurement": "first-load", "loads": loads, "load_ms_median": statistics.median(load),
            "load_ms_max": max(load), "ready_ms_median": statistics.median(ready), "ready_ms_max": max(ready)}


def measure_backprop(url, requests=60, warmup=5):
    """Round-trip times (ms) of one learner's ``POST /api/backprop`` for a digit, one after another (the
    page asks for one when the learner presses Backprop or changes the label)."""
    pixels = [round(float(v), 4) for v in np.clip(np.random.default_rng(1).random(784) - 0.6, 0, 1)]
    times, errors = [], 0
    with httpx.Client(base_url=url, timeout=30) as c:
        for i in range(warmup + requests):
            start = time.perf_counter()
            r = c.post("api/backprop", json={"pixels": pixels, "label": i % 10})
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
                errors += r.status_code != 200
    t = np.array(times)
    return {"measurement": "backprop", "requests": len(t), "errors": errors,
            "p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95))}


@contextlib.contextmanager
def trainers(url, n=2, epochs=20, own_addresses=False):
    """``n`` learners (each their own session) who each Start a long run of the page's default recipe;
    yields the runs' statuses once the first is training; stops every run at the end. With
    ``own_addresses`` trainer ``k`` connects from ``127.0.0.(200 + k)``."""
    clients = [httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(
        local_address=f"127.0.0.{200 + k}" if own_addresses else None)) for k in range(n)]
    try:
        for c in clients:
            c.get("api/model")                                           # a session cookie each
            c.post("api/train", json={**RECIPE, "epochs": epochs, "examples": 59000}).raise_for_status()
        for _ in range(1200):                                            # MNIST loads, then the first run trains
            statuses = [c.get("api/train").json()["status"] for c in clients]
            if "running" in statuses:
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"no training run started: {statuses}")
        time.sleep(1.0)                                                  # into its epoch
        yield statuses
    finally:
        for c in clients:
            with contextlib.suppress(httpx.HTTPError):
                c.post("api/train/stop", json={})
            c.close()


def measure_classroom(url, pid, clients=30, requests=40, n_trainers=2, own_addresses=False, processes=1):
    """The issue's classroom: ``clients`` learners drawing at the page's rate while ``n_trainers`` others
    have pressed Start; then 8 clients back to back and one learner's backprop, with the trainers still on.
    ``processes``: how many lab processes serve ``url`` (behind a proxy, `proxied_labs`)."""
    with trainers(url, n_trainers, own_addresses=own_addresses) as statuses:
        drawing = measure_predict(url, pid, clients, requests, interval_ms=120, own_addresses=own_addresses)
        saturated = measure_predict(url, pid, 8, requests, interval_ms=0, own_addresses=own_addresses)
        backprop = measure_backprop(url)
    return {"measurement": "classroom", "processes": processes, "trainers": n_trainers,
            "trainer_statuses": statuses, "drawing": drawing, "saturated_8": saturated, "backprop": backprop}


NGINX = """worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/nginx-body; proxy_temp_path {folder}/nginx-proxy;
  fastcgi_temp_path {folder}/nginx-fcgi; uwsgi_temp_path {folder}/nginx-uwsgi; scgi_temp_path {folder}/nginx-scgi;
  upstream lab {{ hash $remote_addr consistent; {servers} keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://lab;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering off;
    }}
  }}
}}
"""
"""The reverse proxy of docs/lab.md's bigger class: a learner's address picks their lab process."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def proxied_labs(model, folder, n=2, blas_threads=None):
    """``n`` lab processes (``--host 0.0.0.0``, as docs/lab.md says) behind nginx (`NGINX`); yields
    ``(URL of the proxy, [pids of the labs])``. Needs ``nginx`` on the PATH (Debian: ``nginx-light``)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise SystemExit("proxied: needs nginx (apt-get install nginx-light)")
    with contextlib.ExitStack() as stack:
        labs = [stack.enter_context(lab(model, folder, blas_threads, host="0.0.0.0")) for _ in range(n)]
        port = free_port()
        servers = " ".join(f"server 127.0.0.1:{httpx.URL(url).port};" for url, _ in labs)
        conf = Path(folder) / "nginx.conf"
        conf.write_text(NGINX.format(folder=folder, servers=servers, port=port))
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            for _ in range(200):
                try:
                    httpx.get(url + "api/model", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            else:
                raise SystemExit(f"nginx did not start: {proxy.stderr.read() if proxy.poll() is not None else ''}")
            yield url, [pid for _, pid in labs]
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


def measure_breakdown(model, repeats=5):
    """Where a prediction's CPU goes, in this process: the server's steps one by one, CPU ms per call
    (best of ``repeats`` over the 16 pictures), with one BLAS thread as the server has."""
    from starlette.responses import JSONResponse
    from threadpoolctl import threadpool_limits

    from scratchnet.lab import model as lab_model
    from scratchnet.lab.inputs import decode_picture
    from scratchnet.preprocess import to_mnist
    net = sn.load(model)
    urls = canvas_pictures()
    pictures = [decode_picture(u) for u in urls]
    x = to_mnist(pictures[0]).reshape(-1) / 255.0
    answer = lab_model.predict(net, x)
    steps = {"read the PNG (preprocess.read_image)": lambda k: decode_picture(urls[k]),
             "preprocess.to_mnist": lambda k: to_mnist(pictures[k]),
             "forward pass and answer (lab.model.predict)": lambda k: lab_model.predict(net, x),
             "JSON encoding": lambda k: JSONResponse(answer)}
    out = {}
    with threadpool_limits(1):
        for name, step in steps.items():
            best = float("inf")
            for _ in range(repeats):
                start = time.process_time()
                for k in range(len(urls)):
                    step(k)
                best = min(best, (time.process_time() - start) / len(urls) * 1e3)
            out[name] = best
    return {"measurement": "breakdown", "cpu_ms": out}


RECIPE = {"epochs": 1, "batch_size": 128, "optimizer": "adam", "lr": 0.003, "shift": 1, "seed": 0}


def cli_epoch_seconds(folder, blas_threads=None):
    """``scratchnet train`` with `RECIPE`: the trainer's seconds for its epoch."""
    r = RECIPE
    out = subprocess.run([*COMMAND, "train", "--epochs", str(r["epochs"]), "--batch-size", str(r["batch_size"]),
                          "--optimizer", r["optimizer"], "--lr", str(r["lr"]), "--shift", str(r["shift"]),
                          "--seed", str(r["seed"]), "--out", str(Path(folder) / "cli.npz"), "--json"],
                         capture_output=True, text=True, check=True, env=environment(blas_threads))
    return json.loads(out.stdout)["epoch_seconds"][0]


def lab_epoch_seconds(url, pid):
    """The lab's Train section with `RECIPE`, its events streamed until the end: ``(seconds for its
    epoch, progress points, the run's own account of its time, the server's CPU seconds in all)``."""
    with httpx.Client(base_url=url, timeout=120) as c:
        cpu_before = cpu_seconds(pid)
        r = c.post("api/train", json={**RECIPE, "examples": 60000})
        r.raise_for_status()
        seconds, points, done = None, 0, None
        with c.stream("GET", "api/train/events") as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    points += kind == "progress"
                    if kind == "epoch":
                        seconds = data["seconds"]
                    if kind == "done":
                        done = data
                        if data["status"] != "finished":
                            raise SystemExit(f"the lab's run ended {data['status']}: {data['message']}")
        return seconds, points, done, cpu_seconds(pid) - cpu_before


def measure_training(url, pid, folder, repeats=3, blas_threads=None):
    """Epoch seconds of `RECIPE` in ``scratchnet train`` and in the lab, alternately; and, from the lab's own
    account, what the stream costs: the time spent making events (inside the epoch) and the server's CPU
    outside the run's thread (the event loop sending the events, answering the requests)."""
    cli, labs, points, making, other = [], [], 0, [], []
    for _ in range(repeats):
        cli.append(cli_epoch_seconds(folder, blas_threads))
        seconds, points, done, server_cpu = lab_epoch_seconds(url, pid)
        labs.append(seconds)
        making.append(done["callback_seconds"])
        other.append(server_cpu - done["thread_cpu_seconds"])
    ratio = statistics.median(labs) / statistics.median(cli)
    return {"measurement": "training", "recipe": RECIPE, "repeats": repeats, "cli_epoch_s": cli, "lab_epoch_s": labs,
            "progress_points_per_epoch": points, "lab_over_cli": ratio,
            "event_making_s": making, "server_cpu_outside_training_s": other,
            "stream_share_of_epoch": statistics.median(m / s for m, s in zip(making, labs))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="*", choices=["predict", "classroom", "proxied", "breakdown", "first-load",
                                                     "training", []],
                        help="what to measure (default: all)")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100, help="per client")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit OpenBLAS in the lab and in scratchnet train to this many threads (on a busy "
                             "machine, 2 spinning BLAS threads can make an epoch several times slower)")
    args = parser.parse_args(argv)
    args.what = args.what or ["predict", "classroom", "breakdown", "first-load", "training"]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        model = args.model
        if model is None:
            model = Path(folder) / "model.npz"
            net = sn.seed_network(seed=0)
            train(net, *sn.load_mnist("train"), Recipe(epochs=2))
            sn.save(net, model)
        with lab(model.resolve(), folder, args.blas_threads) as (url, pid):
            if "predict" in args.what:
                results.append(measure_predict(url, pid, args.clients, args.requests, interval_ms=120))
                results.append(measure_predict(url, pid, args.clients, args.requests, interval_ms=0))
                results.append(measure_backprop(url))
            if "classroom" in args.what:
                results.append(measure_classroom(url, pid, max(args.clients, 30), args.requests))
            if "breakdown" in args.what:
                results.append(measure_breakdown(model))
            if "first-load" in args.what:
                results.append(measure_first_load(url, args.loads))
            if "training" in args.what:
                results.append(measure_training(url, pid, folder, args.repeats, args.blas_threads))
        if "proxied" in args.what:
            with proxied_labs(model.resolve(), folder, 2, args.blas_threads) as (url, pids):
                results.append(measure_classroom(url, pids, max(args.clients, 30), args.requests,
                                                 own_addresses=True, processes=len(pids)))
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"machine": machine(), "blas_threads": args.blas_threads or "default"}))
    print()
    for r in results:
        if r["measurement"] == "predict":
            how = f"one every {r['interval_ms']} ms each" if r["interval_ms"] else "back to back"
            print(f"| POST /api/predict, {r['scenario']}: {r['clients']} clients, {how}, {r['requests']} requests | "
                  f"p50 {r['p50_ms']:.1f} ms, "
                  f"p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; {r['requests_per_s']:.0f} requests/s; "
                  f"server CPU {r['server_cpu_ms_per_request']:.1f} ms a request, the clients' "
                  f"{r['client_cpu_ms_per_request']:.2f} ms |")
        elif r["measurement"] == "backprop":
            print(f"| POST /api/backprop, one learner, one digit at a time, {r['requests']} requests | p50 "
                  f"{r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms; {r['errors']} errors |")
        elif r["measurement"] == "classroom":
            d, b8, bp = r["drawing"], r["saturated_8"], r["backprop"]
            where = "" if r["processes"] == 1 else f", {r['processes']} lab processes behind nginx"
            print(f"| classroom{where}: {d['clients']} learners drawing (one request every 120 ms each) while "
                  f"{r['trainers']} have pressed Start (runs {', '.join(r['trainer_statuses'])}) | predict p50 "
                  f"{d['p50_ms']:.1f} ms, p95 {d['p95_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, {d['errors']} errors; "
                  f"8 clients back to back p95 {b8['p95_ms']:.1f} ms; backprop p50 {bp['p50_ms']:.1f} ms |")
        elif r["measurement"] == "breakdown":
            print("| a prediction's CPU, step by step | " + "; ".join(f"{k} {v:.2f} ms" for k, v in r["cpu_ms"].items())
                  + " |")
        elif r["measurement"] == "first-load":
            print(f"| first load, {r['loads']} fresh loads | load event {r['load_ms_median']:.0f} ms (max "
                  f"{r['load_ms_max']:.0f}), every section ready {r['ready_ms_median']:.0f} ms (max {r['ready_ms_max']:.0f}) |")
        else:
            print(f"| one epoch, scratchnet train vs the lab streaming | {statistics.median(r['cli_epoch_s']):.2f} s vs "
                  f"{statistics.median(r['lab_epoch_s']):.2f} s (median of {r['repeats']}): lab/train = "
                  f"{r['lab_over_cli']:.3f}, {r['progress_points_per_epoch']} points an epoch; making the events "
                  f"{1e3 * statistics.median(r['event_making_s']):.1f} ms an epoch "
                  f"({100 * r['stream_share_of_epoch']:.2f} %), server CPU outside the run's thread "
                  f"{1e3 * statistics.median(r['server_cpu_outside_training_s']):.0f} ms a run |")


if __name__ == "__main__":
    main()
