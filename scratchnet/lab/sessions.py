"""Every learner their own lab: a browser session (a cookie) per learner, each with their own network.

A learner starts with the served model (the network the teacher started the lab with), which nobody
can change. Training, or a network adopted from a run, gives the learner a network of their own; the
served one stays as it was, and `Learner.reset` takes the learner back to it. Networks are never
changed in place once a learner holds them (a run trains a copy and the learner adopts it at the end),
and a network holds no scratch state, so any number of requests may read one at once.

Bounds, so that nothing one learner does exhausts the server for the others:

* at most `MAX_LEARNERS` sessions; when full, the longest-idle learner *without a network of their own
  or a run* makes room (they lose nothing: they were looking at the served model);
* at most ``own_networks`` learners with a network of their own, from a memory budget
  (`MEMORY_BUDGET` bytes over about three copies of the served model's weights each: the network,
  and the optimiser's moments while it trains); a learner over it is told so when they press Start;
* a session idle for `IDLE_SECONDS` ends; the next request with its cookie starts a new session (the
  learner is back at the served model) and its answer says so, so that the page can tell the learner:
  an ``X-Lab-Session: expired`` header (`EXPIRED_HEADER`) on any answer, and ``/api/model``'s
  ``"session": {"expired": true}``. The page itself (``/``) with such a cookie leaves the cookie alone,
  so that the page's first ``/api/model`` is the request that finds it expired.
"""

import secrets
import threading
import time

from ..data import model_class_names
from ..network import architecture_text
from .guard import send_json_error
from .inputs import LabRequestError

COOKIE = "scratchnet_lab"
"""Name of the session cookie."""
MAX_LEARNERS = 500
"""Most sessions at once."""
IDLE_SECONDS = 2 * 3600
"""A session not heard from for this long ends."""
MEMORY_BUDGET = 2 * 1024 ** 3
"""Bytes of learners' own networks (and their optimisers' state) the lab allows in all."""
EXPIRED_HEADER = (b"x-lab-session", b"expired")
"""Header on the answer to a request whose cookie was of a session that had ended."""


def describe_network(net, source, trained, version):
    """``{"architecture", "sizes", "activations", "dtype", "source", "trained", "version",
    "test_accuracy", "recipe", "class_names"}`` of a network the page shows; ``class_names`` are its
    ``K`` outputs' names (`scratchnet.data.model_class_names`: the model's own, or its data set's, or
    ``"0" … "K-1"``)."""
    meta = net.metadata or {}
    return {"architecture": architecture_text(net.sizes, net.activations), "sizes": list(net.sizes),
            "activations": list(net.activations), "dtype": net.dtype.name, "source": source,
            "trained": trained, "version": version, "test_accuracy": meta.get("test_accuracy"),
            "recipe": meta.get("recipe"), "class_names": list(model_class_names(net))}


class Learner:
    """One learner's lab: their network (the served one until they have their own) and their run.

    ``version`` grows each time the learner's network changes, so the page knows to redraw.
    """

    def __init__(self, token, served, now):
        self.token = token
        self.served = served
        self.net, self.source, self.trained = served.net, served.source, served.trained
        self.own = False
        """Whether ``net`` is the learner's own (from a run) rather than the served model."""
        self.version = 0
        self.run = None
        """The learner's latest `TrainingRun`, or None."""
        self.runs = 0
        """How many runs the learner has started (numbers their event streams)."""
        self.last_seen = now
        self.streams = 0
        """Event streams open (one per tab following the run)."""
        self._lock = threading.Lock()

    @property
    def busy(self):
        """Whether the learner's run is queued or going."""
        return self.run is not None and self.run.running

    def adopt(self, net, source, trained):
        """Make ``net`` (a network no one else holds) the learner's own."""
        with self._lock:
            self.net, self.source, self.trained, self.own = net, source, trained, True
            self.version += 1

    def reset(self):
        """Back to the served model."""
        if self.busy:
            raise LabRequestError("your training run is still going; stop it first, then go back to the "
                                  "served model", 409)
        with self._lock:
            s = self.served
            self.net, self.source, self.trained, self.own = s.net, s.source, s.trained, False
            self.version += 1

    def start_words(self):
        """Where a run that continues from the learner's network starts, in words:
        ``your network (loaded from model.npz)``."""
        return f"your network ({self.source})"

    def describe(self):
        """The learner's network as `describe_network` gives it, plus ``"own"`` and ``"start_from"``
        (`start_words`: what a run continuing from it says it starts from)."""
        return {**describe_network(self.net, self.source, self.trained, self.version), "own": self.own,
                "start_from": self.start_words()}


class Sessions:
    """The learners of one lab, by their cookie's token, within the bounds of the module docstring."""

    def __init__(self, served, max_learners=MAX_LEARNERS, idle_seconds=IDLE_SECONDS,
                 memory_budget=MEMORY_BUDGET, clock=time.monotonic):
        self.served = served
        self.max_learners, self.idle_seconds, self.clock = max_learners, idle_seconds, clock
        weight_bytes = max(1, served.net.params.nbytes)
        self.own_networks = max(1, int(memory_budget // (3 * weight_bytes)))
        """Most learners with a network of their own at once."""
        self._learners = {}
        self._lock = threading.Lock()

    def find(self, token):
        """The learner with this cookie token (seen now), or None if there is none (or it expired)."""
        now = self.clock()
        with self._lock:
            learner = self._learners.get(token) if isinstance(token, str) else None
            if learner is None:
                return None
            if now - learner.last_seen > self.idle_seconds and not learner.busy:
                del self._learners[token]
                return None
            learner.last_seen = now
            return learner

    def new(self):
        """A new learner looking at the served model; makes room by ending idle sessions first."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            if len(self._learners) >= self.max_learners:
                spare = [l for l in self._learners.values() if not l.own and not l.busy and not l.streams]
                if not spare:
                    raise LabRequestError(f"the lab serves at most {self.max_learners} learners at once and "
                                          "all are busy; try again in a few minutes", 503)
                del self._learners[min(spare, key=lambda l: l.last_seen).token]
            token = secrets.token_urlsafe(18)
            learner = self._learners[token] = Learner(token, self.served, now)
            return learner

    def _expire(self, now):
        for token, learner in list(self._learners.items()):
            if now - learner.last_seen > self.idle_seconds and not learner.busy:
                del self._learners[token]

    def may_own(self, learner):
        """Raise `LabRequestError` (503) if one more learner may not have a network of their own."""
        with self._lock:
            owners = sum(1 for l in self._learners.values() if l.own or l.busy)
        if not (learner.own or learner.busy) and owners >= self.own_networks:
            raise LabRequestError(f"the lab holds {owners} learners' own networks, the most its memory "
                                  "allows; you can still draw, backpropagate and check with the served "
                                  "model, or try again later", 503)

    def count(self, active_within=None):
        """Number of learners; with ``active_within`` seconds, only those heard from that recently."""
        now = self.clock()
        with self._lock:
            if active_within is None:
                return len(self._learners)
            return sum(1 for l in self._learners.values() if now - l.last_seen <= active_within or l.streams)

    def learners(self):
        """A snapshot list of the learners."""
        with self._lock:
            return list(self._learners.values())

    def census(self, active_within=60):
        """``(learners, active, training, waiting)``: sessions, those heard from within ``active_within``
        seconds (or following a run), their runs going and their runs queued."""
        learners = self.learners()
        statuses = [l.run.status for l in learners if l.run is not None and l.run.running]
        return (len(learners), self.count(active_within=active_within), statuses.count("running"),
                statuses.count("queued"))


def _cookie_token(headers):
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, token = part.strip().partition("=")
                if name == COOKIE and token:
                    return token[:64]
    return None


class SessionCookie:
    """ASGI middleware: finds (or starts) the learner of each request to the page or the API, by the
    session cookie, and puts it in ``request.state.learner`` (``request.state.session_expired`` says
    whether the request carried a cookie of a session that has ended). A new session's cookie is set on
    the answer: ``HttpOnly``, ``SameSite=Strict``, for the whole site, ending with the browser, with
    `EXPIRED_HEADER` when the request's cookie was of an ended session."""

    def __init__(self, app, sessions):
        self.app, self.sessions = app, sessions

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not (scope["path"] == "/" or scope["path"].startswith("/api/")):
            return await self.app(scope, receive, send)
        token = _cookie_token(scope["headers"])
        learner = self.sessions.find(token)
        expired = token is not None and learner is None
        if expired and scope["path"] == "/":                 # the page: its /api/model finds the expiry
            return await self.app(scope, receive, send)
        new = learner is None
        if new:
            try:
                learner = self.sessions.new()
            except LabRequestError as e:
                return await send_json_error(send, e.status, str(e))
        scope.setdefault("state", {})
        scope["state"]["learner"], scope["state"]["session_expired"] = learner, expired

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={learner.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": list(message.get("headers", [])) +
                           [(b"set-cookie", cookie.encode("latin-1"))] + [EXPIRED_HEADER] * expired}
            await send(message)
        return await self.app(scope, receive, send_with_cookie if new else send)
