"""Bad input from the user: the command line reports it in one line and exits with status 2."""


class BadInput(ValueError):
    """A wrong path, a folder that is not what was asked for, or bad arguments."""
