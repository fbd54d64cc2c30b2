"""`ltx --help` and `ltx generate --help` wall time (subprocess, median of N) and whether MLX gets imported.

python benchmarks/cli_help.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    ltx = shutil.which("ltx")
    if ltx is None:
        sys.exit("error: the ltx command is not installed; run `uv sync --all-packages` first")
    probe = "import sys, mlx_ltx_cli.app; print(any(m == 'mlx.core' or m.startswith('mlx.core.') for m in sys.modules))"
    imports_mlx = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    result = {
        "benchmark": "cli_help",
        "ltx_help_s": round(wall([ltx, "--help"], args.repeat), 3),
        "generate_help_s": round(wall([ltx, "generate", "--help"], args.repeat), 3),
        "python_startup_s": round(wall([sys.executable, "-c", "pass"], args.repeat), 3),
        "help_imports_mlx": imports_mlx.stdout.strip() == "True",
    }
    print(f"{'command':<22} median seconds (target < 0.5)")
    print(f"{'ltx --help':<22} {result['ltx_help_s']}")
    print(f"{'ltx generate --help':<22} {result['generate_help_s']}")
    print(f"{'python -c pass':<22} {result['python_startup_s']}")
    print(f"imports MLX: {result['help_imports_mlx']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
