"""The one project exception.

Every error that a user can cause (a bad option, a damaged file, a missing data set) is a
`ScratchnetError` whose message says what was wrong and what to do. The command line prints that
message as one line and exits non-zero, with no traceback.
"""


class ScratchnetError(Exception):
    """An error caused by input, with a message meant for the user."""
