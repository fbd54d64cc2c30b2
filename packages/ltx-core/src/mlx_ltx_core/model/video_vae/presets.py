"""placeholder"""

TILING_PRESETS = {}


def estimate_decode_peak_bytes(*a, **k): ...
def tiling_for(*a, **k): ...
