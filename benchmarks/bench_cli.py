"""``rareflow --help`` wall time in a fresh interpreter: target under 0.5 s.

Each measurement starts a new ``python -m rareflow --help`` process (what a user waits for),
next to ``python -c pass`` as the baseline of the interpreter's own start-up; the target uses
the median of several runs. ``rareflow COMMAND --help`` of the heaviest commands (``run``,
``compare``, ``ensemble``) is reported too: each imports only click, rich and its command
module, never the model, Dask, plotly or FastAPI (their imports wait until a command runs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import Target, header

REPEAT = 7
TARGET_SECONDS = 0.5
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _environment() -> dict[str, str]:
    """The current environment with this checkout's ``src`` first on the import path."""
    paths = [SRC, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def wall_times(arguments: list[str], repeat: int = REPEAT) -> list[float]:
    """Wall-clock seconds of ``python ARGUMENTS`` in a fresh process, ``repeat`` times."""
    environment = _environment()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], env=environment, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> list[Target]:
    header("rareflow --help in a fresh interpreter")
    wall_times(["-m", "rareflow", "--help"], 1)  # warm the file cache and byte-code
    baseline = statistics.median(wall_times(["-c", "pass"]))
    help_times = wall_times(["-m", "rareflow", "--help"])
    median = statistics.median(help_times)
    print(f"python -c pass (baseline), median of {REPEAT}  : {baseline:.3f} s")
    print(f"python -m rareflow --help, median of {REPEAT} : {median:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in help_times)}; "
          f"{median - baseline:.3f} s above the baseline)")
    for command in ("run", "compare", "ensemble"):
        command_median = statistics.median(wall_times(["-m", "rareflow", command, "--help"], 3))
        print(f"python -m rareflow {command} --help, median of 3 : {command_median:.3f} s")
    return [Target("cli_help_seconds", median, TARGET_SECONDS, "s")]


if __name__ == "__main__":
    for target in main():
        print(target.line())
