"""The one error type of ltx-convert: bad input, stated in one line with what to do."""


class ConversionError(ValueError):
    """A checkpoint or output that ltx-convert refuses; the message names the file, the problem and the fix.

    ``parameter`` names the Python argument at fault (e.g. ``overwrite``), so a command line can add its option.
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class ConversionWarning(UserWarning):
    """A conversion that goes ahead with a check skipped (e.g. a model package that is not installed)."""
