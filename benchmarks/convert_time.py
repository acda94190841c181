"""Wall time of the default TFLite conversion (fp32 + fp16 + int8, parity included); target < 90 s.

    python benchmarks/convert_time.py [--weights W] [--pause-pid-file /work/runs/train.pid] [--runs 1]

Runs ``python -m pcarn_mobile.convert --target tflite --groups 4`` in a fresh process (imports
included, as a user sees it) and prints the machine it ran on. The embedded default weights
are used when they ship; until then pass ``--weights`` (or it falls back to ``--random-init``,
same graph and the same work). With ``--pause-pid-file`` a background job (the training run)
is paused with SIGSTOP for the measurement and always resumed with SIGCONT afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 90.0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{cpu}; {os.cpu_count()} cores; {platform.system()} {platform.release()}; Python {platform.python_version()}; load {load}"


def _paused(pid_file: str | None):
    """Context manager pausing the process in pid_file (if running), resuming it on every exit path."""
    class _Pause:
        pid: int | None = None

        def __enter__(self):
            if pid_file and Path(pid_file).is_file():
                try:
                    self.pid = int(Path(pid_file).read_text().strip())
                    os.kill(self.pid, signal.SIGSTOP)
                    print(f"paused pid {self.pid} for the measurement")
                except (ValueError, ProcessLookupError, PermissionError):
                    self.pid = None
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._resume_and_exit)
            return self

        def _resume_and_exit(self, signum, _frame):
            self.__exit__()
            sys.exit(128 + signum)

        def __exit__(self, *exc):
            if self.pid is not None:
                try:
                    os.kill(self.pid, signal.SIGCONT)
                    print(f"resumed pid {self.pid}")
                except ProcessLookupError:
                    pass
                self.pid = None
            return False

    return _Pause()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="weights when the embedded default does not ship yet")
    parser.add_argument("--pause-pid-file", help="pause this pid (e.g. /work/runs/train.pid) while measuring")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from pcarn_mobile.weights import DEFAULT_WEIGHTS

    source = [] if DEFAULT_WEIGHTS.is_file() else (["--weights", args.weights] if args.weights else ["--random-init"])
    print(f"machine: {machine()}")
    times = []
    with _paused(args.pause_pid_file), tempfile.TemporaryDirectory() as out:
        for _ in range(args.runs):
            cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--target", "tflite", "--groups", "4", *source, "--out", out]
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                return done.returncode
            report = json.loads((Path(out) / "report.json").read_text())
            times.append(wall)
            print(f"{' '.join(cmd[1:-2])}: process wall {wall:.1f} s, report wall_time_s {report['wall_time_s']} s, "
                  f"files {[a['file'] for a in report['artifacts']]}")
            print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in report["timings_s"].items()))
    best = min(times)
    print(f"best of {len(times)}: {best:.1f} s -> {'PASS' if best < TARGET_S else 'FAIL'} (target < {TARGET_S:.0f} s)")
    return 0 if best < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
