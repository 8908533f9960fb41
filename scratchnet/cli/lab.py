"""``scratchnet lab [MODEL]``: serve the lab, a local web page to draw digits and watch the network
think, learn and backpropagate. Thin: it loads the model, binds the socket and runs uvicorn."""

import errno
import socket
import sys
import threading
import webbrowser
from pathlib import Path

import click

from ..errors import ScratchnetError
from ..modelfile import load
from ..network import architecture_text
from ..preprocess import FIELD
from . import _output

DEFAULT_MODEL = "model.npz"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""Hosts that serve this machine alone."""


def _load_model(model):
    """The `LabModel` for MODEL, ``model.npz`` here when it exists, or a fresh seed network."""
    from ..lab.model import LabModel
    if model is None and Path(DEFAULT_MODEL).is_file():
        model = DEFAULT_MODEL
    if model is None:
        return LabModel()
    net = load(model)
    if net.sizes[0] != FIELD * FIELD or net.sizes[-1] < 2:
        raise ScratchnetError(f"{model} is a {net.sizes[0]} → … → {net.sizes[-1]} network; the lab needs "
                              f"{FIELD * FIELD} inputs (its drawing pad is {FIELD}×{FIELD} pixels) and at least "
                              "2 classes", field="model")
    return LabModel(net, source=f"loaded from {model}", trained=True)


def _bind(host, port):
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        what = "--port (0 picks a free one)" if e.errno == errno.EADDRINUSE else "--host or --port"
        raise ScratchnetError(f"cannot listen on {host}:{port} ({e.strerror}); choose another {what}") from None
    except socket.gaierror as e:
        sock.close()
        raise ScratchnetError(f"cannot listen on {host}: {e.strerror}; give an address of this machine "
                              "as --host, such as 127.0.0.1 or 0.0.0.0") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server(config, lab):
    """uvicorn's server that, on Ctrl-C or SIGTERM, first tells the lab's event streams to end (every open
    tab holds one), so that its graceful shutdown does not wait for them."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            lab.closing = True
            super().handle_exit(sig, frame)
    return Server(config)


def _url(host, port):
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def _this_machines_address():
    """The address other machines on the network reach this one by (the one its default route uses),
    or None. Connecting a UDP socket sends nothing; it only picks the route."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _tell_the_teacher(lab, host, port):
    """The teacher's lines (stderr, below the URL): what is served, the address for the class, how to stop."""
    say = lambda line: _output.stderr.print(f"lab: {line}", markup=False, soft_wrap=True, highlight=False)
    served = lab.model
    say(f"serving {architecture_text(served.net.sizes, served.net.activations)}, {served.source}; every "
        "learner starts from it and trains their own copy")
    if host in ("0.0.0.0", "::"):
        address = _this_machines_address()
        say(f"give the class {_url(address, port)}" if address else
            f"give the class this machine's address with :{port} (its own address could not be found)")
    elif host not in LOOPBACK:
        say(f"give the class {_url(host, port)}")
    say("Ctrl-C stops the lab (learners' networks are not kept; Save downloads one)")


REPORT_SECONDS = 10
"""How often the terminal's learner count is looked at (a line is printed only when it changed)."""


def _report_learners(lab, server):
    """Print the learner count when it changes, until the server stops."""
    last = (0, 0, 0, 0)
    while not server.should_exit:
        threading.Event().wait(REPORT_SECONDS)
        now = lab.sessions.census()
        if now != last and not server.should_exit:
            learners, active, training, waiting = now
            _output.stderr.print(f"lab: {learners} learner{'s' * (learners != 1)} connected ({active} in the last "
                                 f"minute), {training} training, {waiting} waiting", markup=False, highlight=False)
            last = now


@click.command("lab", short_help="Draw, backpropagate and train in a browser.")
@click.argument("model", required=False, type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves everyone on your network (a classroom).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one; the printed URL says which).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the MNIST files [default: $SCRATCHNET_DATA or the user cache].")
def command(model, host, port, no_browser, data_dir):
    """Open the lab in your browser: draw a digit and see the seed network's activations, its backward
    pass for that digit, check your own gradient formula, train live and browse its mistakes.

    MODEL defaults to model.npz in this folder when there is one; without a model the lab starts from a
    freshly initialised seed network (784 → 100 σ → 10 σ → 10 softmax) and offers to train it.
    """
    import uvicorn

    from ..lab import Lab, create_app
    from ..lab.connections import SERVER_LIMITS, BoundedHttp

    lab = Lab(_load_model(model), data_dir=data_dir)       # Save is a download: nothing is written here
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    if host not in LOOPBACK:
        _output.stderr.print(f"lab: warning: listening on {host}: anyone who can reach this machine can use "
                             "the lab and start training runs", markup=False, soft_wrap=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "localhost") else host
    url = _url(shown, port)
    click.echo(f"lab: {url}")
    _tell_the_teacher(lab, host, port)
    config = uvicorn.Config(create_app(lab, bind_host=host), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, http=BoundedHttp, **SERVER_LIMITS)
    server = _server(config, lab)
    threading.Thread(target=_report_learners, args=(lab, server), daemon=True).start()
    if not no_browser:
        def open_when_up():
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                webbrowser.open(url)
        threading.Thread(target=open_when_up, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:             # uvicorn shuts down cleanly, then passes Ctrl-C / SIGTERM on
        pass
    click.echo(("\n" if sys.stdout.isatty() else "") + "lab: stopped")    # below the terminal's ^C
    return 0
