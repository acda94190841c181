"""What TFLite's ``benchmark_model`` printed, as the fields of a latency result (schema v1).

``benchmark_model`` has no machine-readable output (its ``--result_file_path`` proto is LiteRT
only), and its text changed across versions, so users' binaries print any of these:

- timings: ``Inference timings in us: Init: .., First inference: .., Warmup (avg): .., Inference (avg): ..``
  (current) or ``Average inference timings in us: Warmup: .., Init: .., Inference: ..`` (older);
- statistics, one line for the warm-up and one for the timed runs:
  ``count=50 first=.. curr=.. min=.. max=.. avg=.. std=.. p5=.. median=.. p95=..`` (LiteRT), the same
  without percentiles (older TensorFlow), or ``count=1 curr=905463`` when every run took the same time;
- memory: ``Memory footprint delta from the start of the tool (MB): init=.. overall=..``, under its
  older name ``Peak memory footprint (MB): init=.. overall=..`` (the same delta of the peak RSS), and
  ``Overall peak memory footprint (MB) via periodic monitoring: ..`` (``--report_peak_memory_footprint``);
- delegation: what the tool says about the delegate it was asked to apply. A delegate that takes
  none of the graph still lets the run finish at CPU speed, so these lines are the only evidence
  that a "GPU" figure was measured on the GPU.

Everything here is a pure function of the text, so every format is unit-tested on samples.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: ``--delegate`` value -> the name ``benchmark_model`` prints for it (None: no delegate).
DELEGATE_NAMES: dict[str, str | None] = {"cpu": None, "xnnpack": "XNNPACK", "gpu": "GPU", "nnapi": "NNAPI"}

_PREFIX = re.compile(r"^(?:(?:INFO|WARN|WARNING|ERROR|VERBOSE|DEBUG):\s*)?(?:\[[^\]]*\]\s*)?")
_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"(\w+)=({_NUMBER})")
_TIMING = re.compile(rf"([A-Za-z][A-Za-z ()]*?):\s*({_NUMBER})")
_MEMORY_DELTA = re.compile(
    rf"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): "
    rf"init=({_NUMBER}) overall=({_NUMBER})")
_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({_NUMBER})")
_GPU_COUNTS = (
    re.compile(r"^(?:First )?(\d+) operations will run on the GPU, and the remaining (\d+)"),
    re.compile(r"^No operations will run on the GPU, and all (\d+)()"),
)
_REPLACING = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \(([^)]*)\)")
_GPU_UNSUPPORTED = re.compile(r"^(?:Following|Next) operations are not supported by GPU delegate:")
_PROFILE_SECTION = "Operator-wise Profiling Info for Regular Benchmark Runs:"


def _statements(name: str) -> list[tuple[re.Pattern[str], str]]:
    """The lines ``benchmark_tflite_model.cc`` and the delegate providers print about delegate ``name``."""
    n = re.escape(name)
    return [
        (re.compile(rf"Explicitly applied {n} delegate, and the model graph will be completely executed"), "full"),
        (re.compile(rf"Explicitly applied {n} delegate, and the model graph will be partially executed by the "
                    rf"delegate w/ (\d+) delegate kernels"), "partial"),
        (re.compile(rf"Though {n} delegate is explicitly applied, the model graph will not be executed"), "none"),
        (re.compile(rf"{n} acceleration is unsupported on this platform"), "none"),
        (re.compile(rf"Failed to apply {n} delegate"), "failed"),
    ]


@dataclass
class Delegation:
    """Whether the delegate asked for took the whole graph (schema ``delegation``)."""

    status: str
    delegate_kernels: int | None = None
    delegated_ops: int | None = None
    cpu_ops: int | None = None
    messages: list[str] = field(default_factory=list)

    def as_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        for key in ("delegate_kernels", "delegated_ops", "cpu_ops"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.messages:
            out["messages"] = self.messages
        return out


@dataclass
class BenchmarkOutput:
    """The figures one ``benchmark_model`` run printed; times in microseconds, memory in MB."""

    warmup: dict[str, float] | None = None
    runs: dict[str, float] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    memory_delta_mb: dict[str, float] | None = None
    peak_memory_mb: float | None = None
    delegation: Delegation = field(default_factory=lambda: Delegation("unknown"))
    op_profile: list[dict[str, Any]] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)


def message(line: str) -> str:
    """``line`` without its log prefix (``INFO: ``, ``ERROR: ``, ``[file.cc:123] ``)."""
    return _PREFIX.sub("", line.strip(), count=1)


def parse_stats(text: str) -> dict[str, float]:
    """``count=50 first=.. min=.. median=..`` -> {"count": 50.0, "first": .., ...}.

    ``count=N curr=X`` (every run the same) is completed to min = max = median = avg = X, std = 0,
    which is what it means.
    """
    values = {key: float(value) for key, value in _PAIR.findall(text)}
    if "curr" in values and "min" not in values:
        same = values["curr"]
        values.update({"min": same, "max": same, "avg": same, "median": same, "std": 0.0})
    return values


def parse_timings(text: str) -> dict[str, float]:
    """The summary line's ``Name: value`` pairs, keyed as printed (``Init``, ``Inference (avg)``, ...)."""
    return {key.strip(): float(value) for key, value in _TIMING.findall(text.split(":", 1)[1])}


def parse_delegation(lines: list[str], backend: str) -> Delegation:
    """What the output says about ``backend``'s delegate; ``not-applicable`` for plain ``cpu``.

    The tool's own statement (``completely`` / ``partially`` / ``will not be executed`` / ``Failed to
    apply``) decides; operation counts (the GPU delegate's ``N operations will run on the GPU``, the
    core's verbose ``Replacing N out of M node(s)``) only decide when there is no statement: NNAPI
    can report every node replaced and still not run the graph. Nothing at all is ``unknown``.
    """
    name = DELEGATE_NAMES[backend]
    if name is None:
        return Delegation("not-applicable")
    found = Delegation("unknown")
    replaced: list[tuple[int, int]] = []
    gpu_counts: tuple[int, int] | None = None
    in_unsupported = False  # inside the GPU delegate's list of unsupported ops (unprefixed lines)
    for line in lines:
        text = message(line)
        if in_unsupported and text and text == line.strip() and not _gpu_counts(text):
            found.messages.append(text)
            continue
        in_unsupported = False
        for pattern, status in _statements(name):
            match = pattern.search(text)
            if match:
                if found.status == "unknown" or status == "failed":
                    found.status = status
                if status == "partial":
                    found.delegate_kernels = int(match[1])
                found.messages.append(text)
        if backend == "gpu":
            if _GPU_UNSUPPORTED.search(text):
                in_unsupported = True
                found.messages.append(text)
            counts = _gpu_counts(text)
            if counts:
                gpu_counts = counts
                found.messages.append(text)
        match = _REPLACING.search(text)
        if match and backend in match[3].lower():
            replaced.append((int(match[1]), int(match[2])))
            found.messages.append(text)
    if gpu_counts is None and replaced:
        gpu_counts = (sum(r for r, _ in replaced), sum(t - r for r, t in replaced))
    if gpu_counts is not None:
        found.delegated_ops, found.cpu_ops = gpu_counts
        if found.status == "unknown":
            found.status = "none" if found.delegated_ops == 0 else "full" if found.cpu_ops == 0 else "partial"
    return found


def _gpu_counts(text: str) -> tuple[int, int] | None:
    for pattern in _GPU_COUNTS:
        match = pattern.search(text)
        if match:
            on_gpu, on_cpu = (0, int(match[1])) if match[2] == "" else (int(match[1]), int(match[2]))
            return on_gpu, on_cpu
    return None


def parse_op_profile(lines: list[str]) -> list[dict[str, Any]]:
    """The ``Summary by node type`` table of the timed runs (``--enable_op_profiling=true``).

    Columns are read from the table's own header, and op names may hold spaces (XNNPACK's
    ``Convolution (NHWC, QC8) GEMM``), so each row is split from the right.
    """
    try:
        start = next(i for i, line in enumerate(lines) if message(line) == _PROFILE_SECTION)
        header_at = next(i for i in range(start, len(lines)) if "Summary by node type" in lines[i]) + 1
    except StopIteration:
        return []
    columns = re.findall(r"\[([^\]]+)\]", lines[header_at])[1:]
    rows = []
    for line in lines[header_at + 1:]:
        fields = line.split()
        if len(fields) <= len(columns):
            break
        values = dict(zip(columns, fields[-len(columns):]))
        row: dict[str, Any] = {"op": " ".join(fields[:-len(columns)]),
                               "avg_ms": float(values["avg ms"])}
        if "count" in values:
            row["count"] = int(values["count"])
        if "avg %" in values:
            row["percent"] = float(values["avg %"].rstrip("%"))
        rows.append(row)
    return rows


def parse(text: str, backend: str) -> BenchmarkOutput:
    """Everything ``benchmark_model`` printed (stdout and stderr together) for a run with ``backend``."""
    lines = text.splitlines()
    out = BenchmarkOutput(delegation=parse_delegation(lines, backend), op_profile=parse_op_profile(lines))
    stats = []
    for line in lines:
        msg = message(line)
        timings_at = msg.lower().find("inference timings in us:")
        delta, peak = _MEMORY_DELTA.search(msg), _PEAK.search(msg)
        if msg.startswith("count="):  # not the op profile's "Timings (microseconds): count=..."
            stats.append(parse_stats(msg))
        elif timings_at >= 0:
            out.timings = parse_timings(msg[timings_at:])
        elif delta:
            out.memory_delta_mb = {"init": float(delta[1]), "overall": float(delta[2])}
        elif peak:
            out.peak_memory_mb = float(peak[1])
        elif line.strip().startswith("ERROR") or msg == "Benchmarking failed.":
            out.error_lines.append(msg)
    if stats:
        out.runs = stats[-1]
        out.warmup = stats[-2] if len(stats) > 1 else None
    return out


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000.0, 3)


def failure(out: BenchmarkOutput, exit_status: int) -> str | None:
    """Why this run has no figures, in one line; None when it measured."""
    if exit_status == 0 and out.runs:
        return None
    failed = [m for m in out.delegation.messages if m.startswith("Failed to apply")]
    reason = failed[0] if failed else out.error_lines[-1] if out.error_lines else "no statistics line in its output"
    return f"benchmark_model exited with status {exit_status}: {reason}" if exit_status else f"benchmark_model: {reason}"


def result_fields(out: BenchmarkOutput, exit_status: int) -> dict[str, Any]:
    """The schema-v1 result fields this output fills (latency in ms, delegation, memory, op profile).

    Without percentiles (older builds) ``p50`` holds the mean and ``p50_is_mean`` says so: the
    schema requires a p50 and the report marks it, rather than leaving the row out.
    """
    error = failure(out, exit_status)
    fields: dict[str, Any] = {"delegation": out.delegation.as_schema()}
    if error:
        fields["latency_ms"] = None
        fields["error"] = error
    else:
        runs = out.runs or {}
        stats = {"min": _ms(runs["min"]), "p50": _ms(runs.get("median", runs["avg"])), "mean": _ms(runs["avg"]),
                 "max": _ms(runs["max"]), "std": _ms(runs["std"])}
        if "p95" in runs:
            stats["p95"] = _ms(runs["p95"])
        fields["latency_ms"] = stats
        if "median" not in runs:
            fields["p50_is_mean"] = True
        fields["runs"] = int(runs["count"])
        if out.warmup:
            fields["warmup"] = int(out.warmup["count"])
    timings = out.timings
    fields["init_ms"] = _ms(timings.get("Init"))
    fields["first_inference_ms"] = _ms(timings.get("First inference"))
    fields["peak_memory_mb"] = out.peak_memory_mb
    if out.memory_delta_mb:
        fields["memory_delta_mb"] = out.memory_delta_mb
    if out.op_profile:
        fields["op_profile"] = out.op_profile
    return fields
