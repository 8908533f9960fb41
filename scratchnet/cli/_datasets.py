"""Reading your own data for ``train`` and ``evaluate``, with a progress bar on a terminal."""

from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from ..data import load_data, training_data
from ..data.loading import from_spec
from . import _output


def say(text):
    _output.stderr.print(f"scratchnet: {text}", markup=False, soft_wrap=True)


@contextmanager
def progress_bar():
    """A callable ``(what, done, total)`` that draws one bar per file read (only on a terminal)."""
    progress = Progress(TextColumn("reading {task.fields[what]}"), BarColumn(), TaskProgressColumn(),
                        TimeRemainingColumn(), console=_output.stderr, transient=True,
                        disable=not _output.stderr.is_terminal)
    tasks = {}

    def update(what, done, total):
        if what not in tasks:
            tasks[what] = progress.add_task("read", total=total, what=Path(what).name)
            if not progress.live.is_started:
                progress.start()
        progress.update(tasks[what], completed=done, total=total)

    try:
        yield update
    finally:
        progress.stop()


def load_training(data, test_data, test_split, skip_bad):
    """`scratchnet.data.training_data` with a progress bar and its messages on standard error."""
    with progress_bar() as update:
        return training_data(data, test_data, test_split, skip_bad=skip_bad, on_progress=update, on_message=say)


def load_test(path, skip_bad=False):
    """`scratchnet.data.load_data` of one test set, with a progress bar."""
    with progress_bar() as update:
        return load_data(path, skip_bad=skip_bad, on_message=say,
                         on_progress=lambda done, total: update(str(path), done, total))


def load_recorded(spec):
    """The training data recorded in a model file's ``data``, read again (from the cache, usually)."""
    with progress_bar() as update:
        return from_spec(spec, on_progress=update, on_message=say)
