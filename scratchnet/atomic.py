"""Writing files so that nothing half-written or hidden is ever left behind.

Every file scratchnet writes (models, checkpoints, cached data) goes through `write_atomic`: the bytes go
to a hidden temporary name in the destination folder, and that name is renamed over the destination only
once the file is complete. Whatever happens in between (an exception, Ctrl-C, SIGTERM), the temporary
file is removed and the destination is either the old file or the new one, never a mixture. The new file
gets the permissions the user's umask gives (0644 under umask 022), like any file the user writes.

`check_folder_writable` tries this before a long job, so a folder that cannot be written is noticed
before the work, not after it.
"""

import os
import tempfile
from pathlib import Path

from .errors import ScratchnetError


def _umask():
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)          # elsewhere: read it by setting it, and set it straight back
    os.umask(mask)
    return mask


def folder_of(path):
    """The folder a file ``path`` lives in (``.`` for a bare file name)."""
    path = Path(path)
    return path.parent if str(path.parent) else Path(".")


def write_atomic(path, write):
    """Create or replace the file ``path`` with what ``write(f)`` writes into a binary file object.

    Returns the `Path`. The file appears complete or not at all; its mode is ``0o666 & ~umask``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=folder_of(path), prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())            # on disk before the rename, so a crash cannot leave it empty
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_folder_writable(folder, what):
    """Raise `ScratchnetError` naming ``folder`` unless a file can be created in it.

    ``what`` says what the folder is for, e.g. ``"save the model to model.npz"``. A folder that does not
    exist yet is fine when its nearest existing parent can be written (it will be created).
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ScratchnetError(f"cannot {what}: {probe} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".scratchnet-probe-"):
            pass
    except PermissionError:
        raise ScratchnetError(f"cannot {what}: folder {probe} is not writable (permission denied)") from None
    except OSError as e:
        raise ScratchnetError(f"cannot {what}: folder {probe} is not writable ({e.strerror})") from None
