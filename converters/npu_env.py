"""The NPU environment (``make toolchain-npu``) from the outside: where its Python and Qualcomm's libraries are.

The compiler (ai-edge-litert 2.3.0) and the HTP emulator (onnxruntime 1.32 with the QNN plugin
EP) live in their own venv, because the main env's onnx2tf pins ai-edge-litert 2.1.0 and NumPy
1.x. The scripts that run there (:mod:`converters.npu_aot`, :mod:`converters.npu_emulator`) are
started as subprocesses by path and import nothing of this repository.
"""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import toolchains

NAME = "npu"
HERE = Path(__file__).resolve().parent


class NpuEnvMissing(RuntimeError):
    """The NPU venv is not installed; the message is the one line that says how to install it."""


@dataclass(frozen=True)
class NpuEnv:
    """The installed NPU toolchain: its Python, QNN's host libraries and the libQnnLpai.so stand-in's folder."""

    python: Path
    qnn_libs: Path
    standin_libs: Path

    @property
    def htp_backend(self) -> Path:
        """Qualcomm's HTP back-end: on x86 it emulates the Hexagon NPU (the compiler's and the emulator's)."""
        return self.qnn_libs / "libQnnHtp.so"

    def script(self, name: str) -> list[str]:
        """The command line that runs ``converters/<name>.py`` with this env's Python."""
        return [str(self.python), str(HERE / f"{name}.py")]

    def environ(self) -> dict[str, str]:
        """The subprocess environment: Qualcomm's libraries found by the loader, no stray Python path."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["LD_LIBRARY_PATH"] = os.pathsep.join([str(self.qnn_libs), str(self.standin_libs),
                                                  env.get("LD_LIBRARY_PATH", "")]).rstrip(os.pathsep)
        return env


def find() -> NpuEnv:
    """The installed env, or :class:`NpuEnvMissing` with the set-up command."""
    home = toolchains.home(NAME)
    python = home / "venv" / "bin" / "python"
    qnn = sorted((home / "venv").glob("lib/python3*/site-packages/onnxruntime_qnn"))
    if not toolchains.installed(NAME) or not python.exists() or not qnn:
        raise NpuEnvMissing(toolchains.missing_line(NAME))
    return NpuEnv(python, qnn[0], home / "lib")


def run_script(env: NpuEnv, name: str, args: list[str], log: Path | None = None) -> int:
    """Runs one of the env's scripts to the end, its output into ``log``; Ctrl-C / SIGTERM stop it too.

    The child is in its own process group, so that an interrupt reaches the compiler binary it
    starts as well, and is waited for before the exception goes on: nothing keeps writing after
    the caller has cleaned up.
    """
    with open(log or os.devnull, "ab") as sink:
        child = subprocess.Popen(env.script(name) + args, env=env.environ(), stdout=sink, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return child.wait()
        except BaseException:
            _stop(child)
            raise


def _stop(child: subprocess.Popen) -> None:
    """Ends a child's whole process group (it is its own session leader) and reaps it."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:
        pass
