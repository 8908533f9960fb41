"""The lab's web application: one page, its static files, and the JSON API that the page and the
tests share.

Every learner has their own lab (`sessions`): a session cookie, their own network (the served model
until they train), their own runs. Thin: each endpoint reads the request (`inputs`, `guard.read_json`),
calls the library (through `model`, `formulas`, `live`, `scratchnet.derivation.check`) in the bounded
request pool (`work`) and answers JSON. Routes::

    GET  /                       the page
    GET  /static/…               its CSS and JavaScript (served from the package: works offline)
    GET  /api/model              the learner's network, the served model, the session, the learner's run
    POST /api/model/reset        the learner back to the served model
    GET  /api/model/download     the learner's network as a model file (a download: nothing is written here)
    POST /api/predict            {"image": data URL} or {"pixels": 784 numbers} → forward pass
    POST /api/backprop           the same plus "label" (and "unit") → loss, δ_l, ∂L/∂W_l, from one Trace
    POST /api/step               the same plus "label", "lr" → probabilities before/after one SGD step
    GET  /api/derivation         the equations of `scratchnet derive`, as MathML with shapes
    POST /api/check              {"formula", "wrt" or "factor", "bias", "convention", "batch"} →
                                 `scratchnet check --json`,
                                 and its hints as HTML ("hints_html": subscripts, ᵀ, σ′; for a factor
                                 also "jacobian_note_html", its Jacobian convention)
    POST /api/render             {"formulas": [...]} → MathML of each formula
    GET  /api/weights            the first layer W1 as a picture (one 28×28 tile per hidden unit)
    GET  /api/mistakes           the most confident mistakes of the learner's network on the test set
    GET  /api/train              the learner's run; POST queues one (from their network, or "fresh")
    GET  /api/train/events       server-sent events of the learner's runs, for every tab of theirs
    POST /api/train/stop         ends the learner's run (queued: at once; going: after its batch)

Errors are JSON ``{"error": "…"}`` with a 4xx status (503 when the lab is too busy to take the work).
"""

import asyncio
import contextlib
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from threadpoolctl import ThreadpoolController

from .. import fused
from ..data import load_mnist
from ..derivation.check import check
from ..derivation.formula import FormulaError
from ..errors import ScratchnetError
from ..modelfile import save
from . import formulas, model
from .guard import Guard, HostPolicy, read_json
from .inputs import LabRequestError, read_formula, read_input, read_label
from .live import TrainingQueue, TrainingRun, counted, read_recipe, weights_picture
from .sessions import SessionCookie, Sessions, describe_network
from .work import WorkPool

STATIC = Path(str(resources.files("scratchnet.lab") / "static"))
MAX_BATCH = 64
"""Largest B for /api/check."""
MAX_MISTAKES = 100
MAX_STREAMS = 8
"""Event streams one learner may hold open (one per tab)."""
MAX_ALL_STREAMS = 1000
"""Event streams open in all."""
STREAM_TICK = 0.1
"""How often a stream looks for new events while the learner's run is queued or going, seconds."""
IDLE_TICK = 0.5
"""How often it looks when no run is going (every open tab of the page keeps a stream open)."""
KEEP_ALIVE = 15.0
"""A comment line after this many quiet seconds keeps proxies from closing a stream."""
log = logging.getLogger("scratchnet.lab")


class Lab:
    """Everything the server keeps between requests: the served model, the learners, the training
    queue, the request pool and a cache of mistakes."""

    def __init__(self, lab_model, data_dir=None, training_slots=None, sessions=None):
        self.model = lab_model
        """The served model (a `LabModel`): what every learner starts from; never changed."""
        self.data_dir = data_dir
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.queue = TrainingQueue(training_slots or max(1, cores - 1))
        self.sessions = sessions or Sessions(lab_model)
        self.work = WorkPool()
        self.streams = 0
        self.closing = False
        self._test_sets = OrderedDict()
        self._mistakes = OrderedDict()
        self._lock = threading.Lock()

    def test_set(self, net):
        """``(X, y)``: ``net``'s test set (`model.test_set_key`: your own data's, or MNIST's), kept for a few."""
        key = model.test_set_key(net)
        with self._lock:
            if key in self._test_sets:
                return self._test_sets[key]
        X_y = model.recorded_test_set(key) if key[0] == "recorded" else load_mnist("test", key[1], self.data_dir)
        with self._lock:
            self._test_sets[key] = X_y
            while len(self._test_sets) > 4:
                self._test_sets.popitem(last=False)
        return X_y

    def mistakes(self, net, n):
        """The ``n`` most confident mistakes of ``net`` on its test set (`model.mistakes`; cached for a few
        networks)."""
        key = (id(net), n)
        with self._lock:
            if key in self._mistakes and self._mistakes[key][0] is net:
                return self._mistakes[key][1]
        answer = model.mistakes(net, *self.test_set(net), n)
        with self._lock:
            self._mistakes[key] = (net, answer)
            while len(self._mistakes) > 16:
                self._mistakes.popitem(last=False)
        return answer

    def close(self):
        self.closing = True
        self.queue.close()
        self.work.close()


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


def _learner(request):
    return request.state.learner


def _run_state(learner):
    run = learner.run
    return {"status": "idle"} if run is None else {**run.state(), "run": learner.runs}


def _event_id(header):
    """``(run, event)`` from a ``Last-Event-ID`` header ``"run.event"``; (None, -1) if unreadable."""
    match = re.fullmatch(r"(\d{1,9})\.(-?\d{1,12})", (header or "").strip())
    return (int(match[1]), int(match[2])) if match else (None, -1)


def _model_file(net):
    """The bytes of ``net``'s model file (written to a temporary folder, which is then removed)."""
    with tempfile.TemporaryDirectory(prefix="scratchnet-lab-") as folder:
        path = save(net, Path(folder) / "model.npz", net.metadata or {})
        return Path(path).read_bytes()


def create_app(lab, bind_host="127.0.0.1"):
    """The Starlette application serving ``lab`` (a `Lab`), guarded for a server bound to ``bind_host``."""

    async def page(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def get_model(request):
        learner = _learner(request)
        served = lab.model
        return JSONResponse({**learner.describe(),
                             "served": describe_network(served.net, served.source, served.trained, 0),
                             "session": {"expired": request.state.session_expired,
                                         "idle_seconds": lab.sessions.idle_seconds},
                             "training": _run_state(learner)})

    async def reset_model(request):
        await read_json(request)
        learner = _learner(request)
        learner.reset()
        return JSONResponse(learner.describe())

    async def download(request):
        learner = _learner(request)
        data = await lab.work.run(learner.token, _model_file, learner.net)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="scratchnet-lab-model.npz"'})

    async def predict(request):
        body = await read_json(request)
        learner = _learner(request)
        net = learner.net
        return JSONResponse(await lab.work.run(learner.token, lambda: model.predict(net, read_input(body))))

    async def backprop(request):
        body = await read_json(request)
        learner = _learner(request)
        net = learner.net
        unit = body.get("unit")
        if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool)
                                 or not 0 <= unit < net.sizes[1]):
            raise LabRequestError(f'"unit" must be a hidden unit 0…{net.sizes[1] - 1}')
        label = read_label(body, default=None, classes=net.sizes[-1])
        return JSONResponse(await lab.work.run(learner.token,
                                               lambda: model.backprop(net, read_input(body), label, unit)))

    async def step(request):
        body = await read_json(request)
        lr = body.get("lr", 1.0)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 100:
            raise LabRequestError('"lr" must be a number in (0, 100]')
        learner = _learner(request)
        net = learner.net
        label = read_label(body, classes=net.sizes[-1])
        if label is None:
            raise LabRequestError(f'"label" (0…{net.sizes[-1] - 1}, the index of a class) is required for a step')
        return JSONResponse(await lab.work.run(learner.token,
                                               lambda: model.one_step(net, read_input(body), label, float(lr))))

    async def derivation(request):
        convention = request.query_params.get("convention", "row")
        if convention not in ("row", "column"):
            raise LabRequestError('"convention" must be row or column')
        learner = _learner(request)
        net = learner.net
        return JSONResponse(await lab.work.run(learner.token, formulas.derivation, net.sizes, net.activations,
                                               convention))

    async def check_formula(request):
        body = await read_json(request)
        formula = read_formula(body)
        wrt, convention, batch = body.get("wrt", "W2"), body.get("convention", "row"), body.get("batch", 1)
        factor, bias = body.get("factor"), body.get("bias", "row")
        if not isinstance(wrt, str) or len(wrt) > 40:
            raise LabRequestError('"wrt" must be W_l, b_l (bias separate), z_l or H_l, e.g. "W2"')
        if factor is not None and (not isinstance(factor, str) or not 0 < len(factor) <= 40):
            raise LabRequestError('"factor" must be one link\'s Jacobian dA/dB, e.g. "dz3/dH2" (or null)')
        if convention not in ("row", "column"):
            raise LabRequestError('"convention" must be row or column')
        if bias not in ("row", "separate"):
            raise LabRequestError('"bias" must be row (row 0 of W_l, z = [1 H] W) or separate (z = H W + b)')
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise LabRequestError(f'"batch" must be an integer 1…{MAX_BATCH}')
        learner = _learner(request)
        net = learner.net
        result = await lab.work.run(learner.token, lambda: check(formula, wrt, net.sizes, net.activations,
                                                                 convention=convention, batch=batch, seed=0,
                                                                 factor=factor, bias=bias))
        html = {"hints_html": [formulas.hint_html(h) for h in result.hints]}
        if result.jacobian_note:                              # a factor: its Jacobian convention too
            html["jacobian_note_html"] = formulas.hint_html(result.jacobian_note)
        return JSONResponse({**result.to_json(), **html})

    async def render(request):
        body = await read_json(request)
        items = body.get("formulas")
        if not isinstance(items, list) or len(items) > 8:
            raise LabRequestError('"formulas" must be a list of at most 8 formulas')
        texts = [read_formula({"formula": item}) for item in items]

        def work():
            out = []
            for formula in texts:
                try:
                    out.append(formulas.formula_mathml(formula))
                except ScratchnetError:                  # unreadable, or more than can be drawn: no math
                    out.append(None)
            return out
        return JSONResponse({"mathml": await lab.work.run(_learner(request).token, work)})

    async def weights(request):
        learner = _learner(request)
        return JSONResponse(await lab.work.run(learner.token, weights_picture, learner.net.weights[0]))

    async def mistakes(request):
        n = request.query_params.get("n", "30")
        if not re.fullmatch(r"[0-9]{1,3}", n) or not 1 <= int(n) <= MAX_MISTAKES:
            raise LabRequestError(f'"n" must be an integer 1…{MAX_MISTAKES}')
        learner = _learner(request)
        net = learner.net
        try:
            answer = await lab.work.run(learner.token, lab.mistakes, net, int(n))
        except ScratchnetError as e:
            if isinstance(e, LabRequestError):
                raise
            return _error(503, f"the test set is not available: {e}")
        return JSONResponse({**answer, "version": learner.version})

    async def train_state(request):
        return JSONResponse(_run_state(_learner(request)))

    async def train_start(request):
        body = await read_json(request)
        learner = _learner(request)
        if learner.busy:
            return _error(409, "your training run is still going (in this tab or another); stop it first")
        recipe, examples = read_recipe(body)
        for key in ("fresh", "continue"):
            if not isinstance(body.get(key, False), bool):
                raise LabRequestError(f'"{key}" must be true or false')
        fresh = body.get("fresh", not body.get("continue", True))
        lab.sessions.may_own(learner)

        # where the adopted network came from, in words that do not nest every earlier run's
        origin = (None if fresh else "an earlier lab run of yours" if learner.own else
                  f"the served model, {learner.source}")

        def adopt(run):
            done = "trained" if run.status == "finished" else "partly trained"
            learner.adopt(run.net, f"{done} in the lab: {counted(run.epochs, 'epoch')}, "
                                   f"{counted(run.batches, 'batch', 'batches')}, from {origin or run.start_from}",
                          trained=run.epochs >= 1)
        net = learner.net
        model.test_set_key(net)           # what it trains on: its own data, MNIST's or Fashion-MNIST's (or a 422)
        run = TrainingRun.fresh(recipe, examples, lab.data_dir, on_done=adopt,
                                start_from=None if fresh else net, words=learner.start_words(),
                                queue=lab.queue, like=net, data=lambda: model.training_data(net, lab.data_dir))
        learner.run, learner.runs = run, learner.runs + 1
        run.start()
        return JSONResponse({**_run_state(learner), "examples": examples}, status_code=202)

    async def train_stop(request):
        await read_json(request)
        learner = _learner(request)
        run = learner.run
        if run is None or not run.running:
            return JSONResponse({"status": run.status if run else "idle", "stopping": False})
        run.stop()
        return JSONResponse({"status": run.status, "stopping": True})

    async def train_events(request):
        learner = _learner(request)
        if learner.streams >= MAX_STREAMS or lab.streams >= MAX_ALL_STREAMS:
            return _error(429, f"at most {MAX_STREAMS} tabs of one learner follow a run; close one")
        wanted_run, last = _event_id(request.headers.get("last-event-id"))
        learner.streams += 1
        lab.streams += 1

        async def stream():
            nonlocal last, wanted_run
            try:
                quiet, number, told_idle = 0.0, None, False
                while not lab.closing:
                    run, current = learner.run, learner.runs
                    if run is not None and number != current:      # a new run (or the first one seen)
                        if wanted_run != current:
                            last = -1
                        number, told_idle, wanted_run = current, False, current
                    sent = False
                    if run is not None:
                        for i, event in run.events.since(last):
                            yield f"id: {number}.{i}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
                            last, sent = i, True
                    elif not told_idle:
                        told_idle, sent = True, True
                        yield "event: idle\ndata: {}\n\n"
                    if sent:
                        quiet = 0.0
                        continue
                    tick = STREAM_TICK if run is not None and run.running else IDLE_TICK
                    await asyncio.sleep(tick)
                    quiet += tick
                    if quiet >= KEEP_ALIVE:
                        quiet = 0.0
                        yield ": keep-alive\n\n"
            finally:
                learner.streams -= 1
                lab.streams -= 1
        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def lab_error(request, exc):
        response = _error(exc.status, str(exc))
        if exc.status in (408, 413):                         # the body was not read to its end: do not
            response.headers["connection"] = "close"         # read the rest as the next request
        return response

    async def library_error(request, exc):
        if isinstance(exc, FormulaError):                    # what `scratchnet check --json` prints for it
            return JSONResponse(exc.to_json(), status_code=422)
        return _error(422, str(exc))

    async def http_error(request, exc):
        return _error(exc.status_code, exc.detail)

    async def server_error(request, exc):
        log.exception("lab: unexpected error on %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the lab goes on serving")

    routes = [
        Route("/", page),
        Route("/api/model", get_model),
        Route("/api/model/reset", reset_model, methods=["POST"]),
        Route("/api/model/download", download),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/backprop", backprop, methods=["POST"]),
        Route("/api/step", step, methods=["POST"]),
        Route("/api/derivation", derivation),
        Route("/api/check", check_formula, methods=["POST"]),
        Route("/api/render", render, methods=["POST"]),
        Route("/api/weights", weights),
        Route("/api/mistakes", mistakes),
        Route("/api/train", train_state),
        Route("/api/train", train_start, methods=["POST"]),
        Route("/api/train/events", train_events),
        Route("/api/train/stop", train_stop, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {LabRequestError: lab_error, ScratchnetError: library_error, HTTPException: http_error,
                Exception: server_error}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Requests and runs each use one BLAS thread: the cores serve concurrent requests and runs side
        # by side, instead of one product taking both.
        one = ThreadpoolController().limit(limits=1)
        net = lab.model.net                                  # the derivation takes a moment: have it ready
        threading.Thread(target=formulas.derivation, args=(net.sizes, net.activations, "row"), daemon=True).start()
        threading.Thread(target=fused.warm_up, daemon=True).start()   # the first backprop step pays no 1 s load
        yield
        lab.close()                                          # runs in progress end with the server
        one.restore_original_limits()

    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan,
                     middleware=[Middleware(Guard, policy=HostPolicy(bind_host)),
                                 Middleware(SessionCookie, sessions=lab.sessions)])
