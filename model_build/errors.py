"""Errors the build step reports to users as one line, with no traceback."""


class BuildError(Exception):
    """A problem the user can fix: the message names it and says how."""
