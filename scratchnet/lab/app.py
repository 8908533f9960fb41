"""The lab's web application: one page, its static files, and the JSON API that the page and the
tests share.

Thin: each endpoint reads the request (`inputs`, `guard.read_json`), calls the library (through `model`,
`formulas`, `live`, `scratchnet.derivation.check`) and answers JSON. Routes::

    GET  /                       the page
    GET  /static/…               its CSS and JavaScript (served from the package: works offline)
    GET  /api/model              the network in use: architecture, where it came from, trained or not
    POST /api/predict            {"image": data URL} or {"pixels": 784 numbers} → forward pass
    POST /api/backprop           the same plus "label" (and "unit") → loss, δ_l, ∂L/∂W_l
    POST /api/step               the same plus "label", "lr" → probabilities before/after one SGD step
    GET  /api/derivation         the equations of `scratchnet derive`, as MathML with shapes
    POST /api/check              {"formula", "wrt", "convention", "batch"} → `scratchnet check --json`
    POST /api/render             {"formulas": [...]} → MathML of each formula
    GET  /api/weights            the first layer W1 as a picture (one 28×28 tile per hidden unit)
    GET  /api/mistakes           the most confident mistakes on the test set
    GET  /api/train              the training run's state; POST starts one (one at a time)
    GET  /api/train/events       server-sent events of the current run
    POST /api/train/stop         ends the run after the current batch
    POST /api/save               saves the network to the lab's save path (never a path from the client)

Errors are JSON ``{"error": "…"}`` with a 4xx status; an unexpected failure is a 500 with the same shape,
and the server goes on serving.
"""

import asyncio
import contextlib
import json
import logging
import threading
from importlib import resources
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from threadpoolctl import ThreadpoolController

from ..data import load_mnist
from ..derivation.check import check
from ..derivation.formula import FormulaError
from ..errors import ScratchnetError
from ..experiment import check_output_path
from ..metrics import confident_mistakes
from ..modelfile import save
from . import formulas, model
from .guard import Guard, HostPolicy, read_json
from .inputs import LabRequestError, read_formula, read_input, read_label
from .live import TrainingRun, read_recipe, weights_picture

STATIC = Path(str(resources.files("scratchnet.lab") / "static"))
MAX_BATCH = 64
"""Largest B for /api/check."""
MAX_MISTAKES = 100
log = logging.getLogger("scratchnet.lab")


class Lab:
    """Everything the server keeps between requests: the network, the training run, caches."""

    def __init__(self, lab_model, save_path="lab-model.npz", data_dir=None):
        self.model = lab_model
        self.save_path = Path(save_path)
        self.data_dir = data_dir
        self.run = None
        self.training_threads = None
        """BLAS threads for a training run (requests use one); set when the server starts."""
        self._test_set = None
        self._mistakes = {}

    def test_set(self):
        if self._test_set is None:
            self._test_set = load_mnist("test", data_dir=self.data_dir)
        return self._test_set

    def mistakes(self, n):
        """The ``n`` most confident mistakes of the current network on the test set."""
        key = (self.model.version, n)
        if key not in self._mistakes:
            X, y = self.test_set()
            P = self.model.net.predict_proba(X)
            pred = P.argmax(axis=1)
            chosen = confident_mistakes(y, P, n)
            self._mistakes = {key: {
                "n_test": int(len(y)), "n_wrong": int(np.count_nonzero(pred != y)), "version": self.model.version,
                "mistakes": [{"index": int(i), "label": int(y[i]), "digit": int(pred[i]),
                              "confidence": float(P[i, pred[i]]),
                              "pixels": model.as_list(X[i] / 255.0, 4)} for i in chosen]}}
        return self._mistakes[key]


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


def create_app(lab, bind_host="127.0.0.1"):
    """The Starlette application serving ``lab`` (a `Lab`), guarded for a server bound to ``bind_host``."""

    async def page(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def get_model(request):
        return JSONResponse({**lab.model.describe(), "save_path": str(lab.save_path),
                             "training": lab.run is not None and lab.run.running})

    async def predict(request):
        body = await read_json(request)
        # A few milliseconds of CPU that holds the GIL: done right here on the event loop, which costs
        # measurably less CPU a request than handing it to a worker thread (benchmarks/lab_latency.py).
        return JSONResponse(model.predict(lab.model.net, read_input(body)))

    async def backprop(request):
        body = await read_json(request)
        net = lab.model.net
        unit = body.get("unit")
        if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool)
                                 or not 0 <= unit < net.sizes[1]):
            raise LabRequestError(f'"unit" must be a hidden unit 0…{net.sizes[1] - 1}')

        def work():
            return model.backprop(net, read_input(body), read_label(body, default=None), unit)
        return JSONResponse(await run_in_threadpool(work))

    async def step(request):
        body = await read_json(request)
        lr = body.get("lr", 1.0)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 100:
            raise LabRequestError('"lr" must be a number in (0, 100]')
        label = read_label(body)
        if label is None:
            raise LabRequestError('"label" (0…9) is required for a step')
        x = await run_in_threadpool(read_input, body)
        return JSONResponse(await run_in_threadpool(model.one_step, lab.model.net, x, label, float(lr)))

    async def derivation(request):
        convention = request.query_params.get("convention", "row")
        if convention not in ("row", "column"):
            raise LabRequestError('"convention" must be row or column')
        net = lab.model.net
        return JSONResponse(await run_in_threadpool(formulas.derivation, net.sizes, net.activations, convention))

    async def check_formula(request):
        body = await read_json(request)
        formula = read_formula(body)
        wrt, convention, batch = body.get("wrt", "W2"), body.get("convention", "row"), body.get("batch", 1)
        if not isinstance(wrt, str) or len(wrt) > 8:
            raise LabRequestError('"wrt" must be W_l, z_l or H_l, e.g. "W2"')
        if convention not in ("row", "column"):
            raise LabRequestError('"convention" must be row or column')
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise LabRequestError(f'"batch" must be an integer 1…{MAX_BATCH}')
        net = lab.model.net
        result = await run_in_threadpool(check, formula, wrt, net.sizes, net.activations,
                                         convention=convention, batch=batch, seed=0)
        return JSONResponse(result.to_json())

    async def render(request):
        body = await read_json(request)
        items = body.get("formulas")
        if not isinstance(items, list) or len(items) > 8:
            raise LabRequestError('"formulas" must be a list of at most 8 formulas')
        out = []
        for item in items:
            formula = read_formula({"formula": item})
            try:
                out.append(formulas.formula_mathml(formula))
            except FormulaError:
                out.append(None)
        return JSONResponse({"mathml": out})

    async def weights(request):
        return JSONResponse(weights_picture(lab.model.net.weights[0]))

    async def mistakes(request):
        n = request.query_params.get("n", "30")
        if not n.isdigit() or not 1 <= int(n) <= MAX_MISTAKES:
            raise LabRequestError(f'"n" must be an integer 1…{MAX_MISTAKES}')
        n = int(n)
        try:
            return JSONResponse(await run_in_threadpool(lab.mistakes, n))
        except ScratchnetError as e:
            return _error(503, f"the test set is not available: {e}")

    async def train_state(request):
        run = lab.run
        if run is None:
            return JSONResponse({"status": "idle"})
        return JSONResponse({"status": run.status, "events": len(run.events),
                             "history": [e for e in run.events if e["type"] == "epoch"]})

    async def train_start(request):
        body = await read_json(request)
        if lab.run is not None and lab.run.running:
            return _error(409, "a training run is already going; stop it first (one run at a time)")
        recipe, examples = read_recipe(body)
        if not isinstance(body.get("continue", False), bool):
            raise LabRequestError('"continue" must be true or false')
        start_from = lab.model.net if body.get("continue") else None

        def adopt(run):
            lab.model.replace(run.net, f"trained in the lab ({run.status})")
        lab.run = TrainingRun.fresh(recipe, examples, lab.data_dir, on_done=adopt, start_from=start_from,
                                    blas_threads=lab.training_threads).start()
        return JSONResponse({"status": "running", "recipe": recipe.to_dict(), "examples": examples},
                            status_code=202)

    async def train_stop(request):
        await read_json(request)
        if lab.run is None or not lab.run.running:
            return JSONResponse({"status": lab.run.status if lab.run else "idle", "stopping": False})
        lab.run.stop()
        return JSONResponse({"status": "running", "stopping": True})

    async def train_events(request):
        run = lab.run
        try:
            sent = int(request.headers.get("last-event-id", "-1")) + 1
        except ValueError:
            sent = 0

        async def stream():
            nonlocal sent
            if run is None:
                yield "event: idle\ndata: {}\n\n"
                return
            quiet = 0.0
            while True:
                events = run.events[sent:]
                for event in events:
                    yield f"id: {sent}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
                    sent += 1
                if not events:
                    if not run.running and sent >= len(run.events):
                        return
                    quiet += 0.1
                    if quiet >= 15:                          # a comment line keeps proxies from timing out
                        quiet = 0.0
                        yield ": keep-alive\n\n"
                    await asyncio.sleep(0.1)
        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def save_model(request):
        await read_json(request)
        if lab.run is not None and lab.run.running:
            return _error(409, "a training run is going; save when it has finished or been stopped")
        net = lab.model.net

        def work():
            check_output_path(lab.save_path)
            return save(net, lab.save_path, net.metadata or {})
        path = await run_in_threadpool(work)
        return JSONResponse({"saved": str(path)})

    async def lab_error(request, exc):
        return _error(exc.status, str(exc))

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
        Route("/api/save", save_model, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {LabRequestError: lab_error, ScratchnetError: library_error, HTTPException: http_error,
                Exception: server_error}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Requests are small (one row through the network, a 280×280 picture): each runs with one BLAS
        # thread and the cores serve concurrent requests; a training run gets the usual threads back.
        blas = ThreadpoolController()
        lab.training_threads = max((p["num_threads"] for p in blas.info()), default=1)
        one = blas.limit(limits=1)
        net = lab.model.net                                  # the derivation takes a moment: have it ready
        threading.Thread(target=formulas.derivation, args=(net.sizes, net.activations, "row"), daemon=True).start()
        yield
        if lab.run is not None:                              # a run in progress ends with the server
            lab.run.stop()
            lab.run.join(timeout=5)
        one.restore_original_limits()

    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan,
                     middleware=[Middleware(Guard, policy=HostPolicy(bind_host))])
