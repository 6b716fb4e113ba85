"""Errors the build step reports to users as one line, with no traceback."""

from bqml_text_embeddings.build.redact import redact


class BuildError(Exception):
    """A problem the user can fix: the message names it and says how (any source's credentials blanked)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
