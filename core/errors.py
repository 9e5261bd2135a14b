"""Errors that stop a run with a one-line reason for the operator."""


class KoppelwerkError(Exception):
    """Base class: the message is shown as-is on one line, without a traceback."""


class InputError(KoppelwerkError):
    """A delivery cannot be used: unreadable file, missing required column, broken schema."""
