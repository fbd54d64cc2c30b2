"""Options that take a variable number of values (`--image PATH [FRAME_IDX STRENGTH]`), folded into one token.

Click options have a fixed arity, so before parsing, the values after such an option are joined with SEP; the
command splits them again. Only trailing tokens that read as numbers are taken, so paths are never swallowed.
"""

from __future__ import annotations

import re

SEP = "\x1f"
# option → the most numbers that may follow its first value
VARIADIC = {"--image": 2, "-i": 2, "--lora-path": 1, "--distilled-lora": 1}
# nan and inf read as numbers too, so that they reach the checks that refuse them by name
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+|nan|inf|infinity)$", re.IGNORECASE)


def fold(args: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(args):
        token = args[i]
        out.append(token)
        i += 1
        if token in VARIADIC and i < len(args):
            values = [args[i]]
            i += 1
            while len(values) <= VARIADIC[token] and i < len(args) and _NUMBER.match(args[i]):
                values.append(args[i])
                i += 1
            out.append(SEP.join(values))
    return out


def split(value: str) -> list[str]:
    return value.split(SEP)
