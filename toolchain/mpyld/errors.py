"""Error type of mpyld: every user-facing failure is a LinkError with a clear message."""


class LinkError(Exception):
    """A link/inspect failure the user can act on (printed without traceback)."""
