"""The one project exception.

Every error that a user can cause (a bad option, a damaged file, a missing data set) is a
`ScratchnetError` whose message says what was wrong and what to do. The command line prints that
message as one line and exits non-zero, with no traceback.

The library never names a command-line flag: an error about one setting carries that setting's name in
``field`` (``"lr"``, ``"epochs"``, ``"batch_size"`` …), and the command line maps it to its option.
"""


class ScratchnetError(Exception):
    """An error caused by input, with a message meant for the user.

    Parameters
    ----------
    message : str, one line
    field : str, optional, the library name of the setting at fault (e.g. ``"lr"``)
    """

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.field = field
