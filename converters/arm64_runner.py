"""A ``.tflite`` file on the phone's CPU kernels: LiteRT's aarch64 build under qemu, on this x86 machine.

Every other figure the project prints comes from LiteRT's x86 kernels; a phone runs XNNPACK's
ARM64 ones (NEON; on ARMv8.2 cores also fp16 arithmetic and int8 dot products). ``make
toolchain-arm64`` installs an aarch64 Python with LiteRT 2.1.0 and qemu; this module runs a file
there behind the common :class:`~converters.runner.Runner` interface (:class:`ArmRunner`, one
emulated process per file and core, fed tile after tile) and counts the guest instructions of
one inference (:func:`count_instructions`), a cost figure that does not depend on how loaded
the host is. The guest side is :mod:`converters.arm64_guest`.

Emulation is slow (a 128x128 x4 tile: int8 10-18 s, float 59-106 s on 2 host cores), so every
run has a time limit, and a file whose estimated inference time exceeds it is refused before
it starts. Every failure is an :class:`ArmError` whose message is one line naming the file and
the core.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import toolchains
from .arm64_guest import receive, send

#: The emulated cores of the standing check: qemu's ``-cpu`` name -> what it stands for.
CORES: dict[str, str] = {
    "cortex-a53": "ARMv8.0: NEON only (budget phones, little cores)",
    "cortex-a76": "ARMv8.2: fp16 arithmetic and int8 dot product (big cores of phones since 2019)",
}
DEFAULT_CORES: tuple[str, ...] = tuple(CORES)
#: Seconds one emulated inference may take before the run is stopped as hung.
DEFAULT_TIME_LIMIT_S = 600.0
#: Guest threads of a parity run (the host's cores); instruction counts always use one.
DEFAULT_THREADS = 2
#: Emulated seconds per (stored weight x LR pixel) with 2 guest threads, from the worst measured
#: 128x128 x4 default-weights runs (fp32 106 s over 325 k weights, int8 18 s over 416 kB), x1.5.
#: Weights x pixels tracks multiply-adds for a convolutional file, whatever its groups or scale.
SECONDS_PER_WEIGHT_PIXEL: dict[str, float] = {"float": 3.0e-8, "int8": 4.0e-9}
#: Stored weights (as :func:`file_kind` counts them) of the default g4 x4 files, for an estimate
#: before any file exists.
REFERENCE_WEIGHTS: dict[str, int] = {"float": 325_000, "int8": 416_000}
_GUEST = "converters.arm64_guest"
_REPO = Path(__file__).resolve().parent.parent
_COUNT = re.compile(r"^mark (\d+): (\d+)$", re.M)


class ArmError(RuntimeError):
    """An emulated run that cannot be done or did not finish; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Toolchain:
    """The installed pieces ``toolchains/arm64.sh`` leaves under ``toolchains.home("arm64")``."""

    home: Path

    @property
    def root(self) -> Path:
        return self.home / "root"

    @property
    def python(self) -> Path:
        return self.root / "usr" / "bin" / "python3.11"

    @property
    def qemu_static(self) -> Path:
        return self.home / "bin" / "qemu-aarch64-static"

    @property
    def qemu_dynamic(self) -> Path:
        return self.home / "qemu" / "usr" / "bin" / "qemu-aarch64"

    @property
    def plugin(self) -> Path:
        return self.home / "plugin" / "insn_count.so"

    def versions(self) -> dict[str, str]:
        """The runtime a row was measured with: LiteRT, NumPy and qemu as installed."""
        text = (self.home / "versions.txt").read_text()
        found = dict(re.findall(r"^([\w.-]+)==(\S+)$", text, re.M))
        qemu = re.search(r"^qemu-user-static (\S+)$", text, re.M)
        return {"ai-edge-litert": found.get("ai-edge-litert", "?"), "numpy": found.get("numpy", "?"),
                "qemu": qemu[1] if qemu else "?"}

    def env(self, **extra: str) -> dict[str, str]:
        site = self.home / "site"
        return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{site}:{_REPO}", "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def toolchain(counting: bool = False) -> Toolchain:
    """The installed toolchain, or :class:`ArmError` naming the set-up command (also when the plugin is gone)."""
    if not toolchains.installed("arm64"):
        raise ArmError(toolchains.missing_line("arm64"))
    tc = Toolchain(toolchains.home("arm64"))
    needed = [tc.python, tc.qemu_static] + ([tc.qemu_dynamic, tc.plugin] if counting else [])
    missing = [p for p in needed if not p.is_file()]
    if missing:
        what = "the instruction-count plugin" if tc.plugin in missing else "the ARM64 runtime"
        raise ArmError(f"{what} is missing ({missing[0].relative_to(tc.home)} in {tc.home}): "
                       f"remove that folder and run `make toolchain-arm64`")
    return tc


def file_kind(path: str | os.PathLike[str]) -> tuple[str, int]:
    """``("int8" | "float", stored weights)`` of a ``.tflite`` file, read with the host's LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    tensors = Interpreter(model_path=str(path)).get_tensor_details()
    dtypes = {np.dtype(t["dtype"]) for t in tensors}
    kind = "int8" if np.dtype(np.int8) in dtypes else "float"
    per_weight = 1 if kind == "int8" else (2 if np.dtype(np.float16) in dtypes else 4)
    return kind, os.path.getsize(path) // per_weight


def estimated_seconds(kind: str, weights: int, pixels: int, threads: int = DEFAULT_THREADS) -> float:
    """A generous estimate of one emulated inference (``pixels`` LR pixels), to refuse hopeless runs up front."""
    return SECONDS_PER_WEIGHT_PIXEL[kind] * weights * pixels * DEFAULT_THREADS / threads


def check_budget(path: Path, core: str, pixels: int, limit_s: float, threads: int) -> None:
    """Refuses a file whose inference at ``pixels`` LR pixels would not finish within the time limit."""
    kind, weights = file_kind(path)
    need = estimated_seconds(kind, weights, pixels, threads)
    if need > limit_s:
        raise ArmError(f"{path.name} on {core}: about {need:.0f} s per emulated inference of {pixels} LR pixels, over "
                       f"the {limit_s:.0f} s limit of an emulated run: raise the limit or check a smaller tile")


def _check_core(core: str) -> None:
    if core not in CORES:
        raise ArmError(f"unknown ARM core {core!r}; choose from {', '.join(CORES)}")


class ArmRunner:
    """A file run by the aarch64 LiteRT under qemu at one emulated core, behind the Runner interface.

    One guest process per runner, started here and fed tile after tile (the emulated start-up and
    XNNPACK's weight packing cost tens of seconds, paid once). ``close()`` (or ``with``) ends it.
    """

    def __init__(self, path: str | os.PathLike[str], core: str, threads: int = DEFAULT_THREADS,
                 limit_s: float = DEFAULT_TIME_LIMIT_S, any_size: bool = False) -> None:
        _check_core(core)
        self.path, self.core, self.threads, self.limit_s = Path(path), core, threads, limit_s
        tc = toolchain()
        self.versions = tc.versions()
        self._proc = subprocess.Popen(
            [str(tc.qemu_static), "-cpu", core, "-L", str(tc.root), str(tc.python), "-m", _GUEST, "serve",
             str(self.path.resolve()), str(threads), "1" if any_size else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tc.env(), cwd=_REPO)
        self._stderr: list[bytes] = []
        threading.Thread(target=lambda: self._stderr.extend(self._proc.stderr), daemon=True).start()
        head = self._answer(self.limit_s, "loading it")
        self.scale = int(head[0])
        self.input_size: tuple[int, int] | None = (int(head[1]), int(head[2])) if head[1] else None

    def _answer(self, limit_s: float, doing: str) -> np.ndarray:
        box: dict[str, Any] = {}

        def read() -> None:
            try:
                box["array"] = receive(self._proc.stdout)
            except Exception as exc:  # EOF or a torn frame: the guest died
                box["error"] = exc

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(limit_s)
        if reader.is_alive():
            self.close()
            raise ArmError(f"{self.path.name} on {self.core}: no answer within {limit_s:.0f} s {doing} (the emulated "
                           "run's time limit); the emulator was stopped")
        if "array" not in box:
            code = self._proc.wait()
            last = b"".join(self._stderr).decode(errors="replace").strip().splitlines()
            raise ArmError(f"{self.path.name} on {self.core}: the emulator stopped (exit code {code}) {doing}"
                           + (f": {last[-1].strip()}" if last else ""))
        return box["array"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._proc.poll() is not None:
            raise ArmError(f"{self.path.name} on {self.core}: the emulator is no longer running")
        check_budget(self.path, self.core, int(x.shape[2]) * int(x.shape[3]), self.limit_s, self.threads)
        try:
            send(self._proc.stdin, x.astype(np.float32, copy=False))
        except BrokenPipeError:
            pass  # the guest died; _answer says how
        return self._answer(self.limit_s, f"running a {x.shape[2]}x{x.shape[3]} tile")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()

    def __enter__(self) -> "ArmRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_instructions(path: str | os.PathLike[str], core: str, size: tuple[int, int], runs: int = 1,
                       limit_s: float = DEFAULT_TIME_LIMIT_S) -> list[int]:
    """Guest instructions of each of ``runs`` inferences of ``path`` at ``size`` LR pixels, one guest thread.

    Counted by the TCG plugin between marks around ``invoke`` (after a warm-up invoke), so Python's
    start-up, the imports and XNNPACK's set-up are not in it. One thread makes it reproducible.
    """
    _check_core(core)
    path = Path(path)
    tc = toolchain(counting=True)
    pixels = size[0] * size[1]
    check_budget(path, core, pixels, limit_s / (runs + 1), 1)
    log = Path(tempfile.gettempdir()) / f"pcarn-arm64-count-{os.getpid()}-{threading.get_ident()}.txt"
    cmd = [str(tc.qemu_dynamic), "-cpu", core, "-plugin", str(tc.plugin), "-d", "plugin", "-D", str(log),
           "-L", str(tc.root), str(tc.python), "-m", _GUEST, "count", str(path.resolve()), str(size[0]), str(size[1]),
           str(runs)]
    env = tc.env(LD_LIBRARY_PATH=str(tc.home / "qemu" / "usr" / "lib" / "x86_64-linux-gnu"))
    try:
        done = subprocess.run(cmd, env=env, cwd=_REPO, capture_output=True, timeout=limit_s)
        text = log.read_text() if log.is_file() else ""
    except subprocess.TimeoutExpired:
        raise ArmError(f"{path.name} on {core}: counting {runs} inference(s) at {size[0]}x{size[1]} took over "
                       f"{limit_s:.0f} s (the emulated run's time limit); the emulator was stopped") from None
    finally:
        log.unlink(missing_ok=True)
    marks = {int(k): int(n) for k, n in _COUNT.findall(text)}
    if done.returncode != 0 or len(marks) != 2 * runs:
        last = done.stderr.decode(errors="replace").strip().splitlines()
        raise ArmError(f"{path.name} on {core}: the counting emulator stopped (exit code {done.returncode}) at "
                       f"{size[0]}x{size[1]}" + (f": {last[-1].strip()}" if last else ""))
    return [marks[2 * k + 1] - marks[2 * k] for k in range(runs)]


def with_fp16_hint(model: bytes) -> bytes:
    """The same file with the ``reduced_precision_support = fp16accfp16`` model metadata.

    LiteRT 2.1's Python API has no XNNPACK option (its ``Interpreter`` passes no delegate flags,
    the wheel exports no ``TfLiteXNNPackDelegateCreate``, and the CompiledModel's CPU options are
    not reachable from Python), but its default XNNPACK delegate reads this metadata key and then
    creates its runtime with ``XNN_FLAG_HINT_FP16_INFERENCE``: fp16 arithmetic where the core has
    it (ARMv8.2 fp16), the fp32 kernels elsewhere. That is what a phone app gets with
    ``TFLITE_XNNPACK_DELEGATE_FLAG_FORCE_FP16`` on such a core.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(b"fp16accfp16", dtype=np.uint8)
    obj.buffers.append(buffer)
    meta = schema.MetadataT()
    meta.name, meta.buffer = b"reduced_precision_support", len(obj.buffers) - 1
    obj.metadata = [m for m in (obj.metadata or []) if m.name != meta.name] + [meta]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))
