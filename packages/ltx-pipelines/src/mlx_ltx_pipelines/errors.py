"""Errors that name the Python parameter at fault, so that a front end (the CLI) can name its own option."""

from __future__ import annotations


class ParameterError(ValueError):
    """A ValueError about the argument ``parameter`` (e.g. ``text_encoder_path``); the message names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


__all__ = ["ParameterError"]
