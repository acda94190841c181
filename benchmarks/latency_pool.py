"""The parent's side of the measuring processes (:mod:`benchmarks.latency_worker`): start, ask, interleave.

Interleaving is the point: on a machine that is never quiet (a training run, a browser, thermal
limits), timing model A for a minute and then model B for a minute compares two different
minutes. Here every (model, threads) has a process, and the parent asks them in turn, one
inference (one frame) each per round, never two at once, so a noisy second hits all models
alike. Between two requests the parent waits :data:`SETTLE_S`: runtimes' thread pools keep
spinning for a moment after their work is done (OpenMP's default wait policy spins for
milliseconds), and that spinning must not steal cores from the next model's inference.

``PCARN_LATENCY_TRACE=FILE`` appends one JSON line per timed inference (worker, round, start and
end on the system-wide monotonic clock): what the tests read to check the schedule really ran
round-robin without overlap.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

#: Pause before each timed request so the previous model's idle threads stop spinning (seconds).
SETTLE_S = 0.02
TRACE_ENV = "PCARN_LATENCY_TRACE"
_REPO = Path(__file__).resolve().parents[1]


class WorkerError(Exception):
    """A worker's request failed; ``user`` is True for bad input (a file its runtime cannot load)."""

    def __init__(self, message: str, user: bool) -> None:
        super().__init__(message)
        self.user = user


def round_robin(workers: int, rounds: int) -> Iterator[tuple[int, int]]:
    """``(round, worker)`` in the order requests are made: every worker once per round, in turn."""
    for round_ in range(rounds):
        for worker in range(workers):
            yield round_, worker


class Worker:
    """One measuring process of ``kind`` (tflite, onnx, torch, gemm); its stderr (runtimes' chatter,
    tracebacks) goes to ``log``. It imports its runtime at once: :meth:`ready` waits for that."""

    def __init__(self, label: str, kind: str, log: Path) -> None:
        self.label, self.log = label, log
        path = os.pathsep.join(filter(None, (str(_REPO), os.environ.get("PYTHONPATH"))))
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.latency_worker", kind],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                                         cwd=_REPO, env={**os.environ, "PYTHONPATH": path})
        self.error: str | None = None  # set once a request failed: the worker is asked nothing more

    def ready(self) -> None:
        """Waits until the worker has imported its runtime."""
        self._reply()

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        """Sends one request and waits for its reply; :class:`WorkerError` when it failed or the process died."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # the process is gone: _reply says how it ended
        return self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise WorkerError(f"the measuring process exited with status {self.proc.returncode}"
                              f"{self._last_log_line()}", user=False)
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"], user=bool(reply.get("user")))
        return reply

    def _last_log_line(self) -> str:
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return f": {lines[-1].strip()}" if lines else ""

    def close(self) -> None:
        """Ends the process: EOF on its stdin, then a kill if it does not exit within 10 s."""
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@contextmanager
def started(kinds: list[tuple[str, str]], folder: Path) -> Iterator[list[Worker]]:
    """One worker per ``(label, kind)`` (logs in ``folder``), all importing at once; all are ended on
    the way out, Ctrl-C included. Call :meth:`Worker.ready` on each before measuring anything."""
    workers: list[Worker] = []
    try:
        for i, (label, kind) in enumerate(kinds):
            workers.append(Worker(label, kind, folder / f"worker-{i}.log"))
        yield workers
    finally:
        for worker in workers:
            worker.close()


def interleaved(workers: list[Worker], rounds: int, timed: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    """Asks every live worker for one frame per round, round-robin; yields ``(worker index, reply)``.

    A worker whose request fails gets its ``error`` set and is skipped from then on; the others go on.
    With ``timed`` and :data:`TRACE_ENV` set, each reply's interval is appended to the trace file.
    """
    trace = os.environ.get(TRACE_ENV) if timed else None
    for round_, index in round_robin(len(workers), rounds):
        worker = workers[index]
        if worker.error:
            continue
        time.sleep(SETTLE_S)
        try:
            reply = worker.ask("frame")
        except WorkerError as exc:
            worker.error = str(exc)
            continue
        if trace:
            with open(trace, "a") as fh:
                fh.write(json.dumps({"worker": index, "label": worker.label, "round": round_,
                                     "start_ns": reply["start_ns"], "end_ns": reply["end_ns"]}) + "\n")
        yield index, reply
