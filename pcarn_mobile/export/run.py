"""One export run, start to finish: check, convert every format, measure parity, write the contract, move into place.

:func:`export` is the Python API; ``python -m pcarn_mobile.convert`` is a thin wrapper around it
that prints the table. Progress goes through :mod:`logging` (logger ``pcarn_mobile.export``);
the converters' native messages go to ``<out>/convert.log``.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import EvalPair, load_eval_set
from ..errors import UserError
from ..fileio import write_json, write_text
from ..machine import describe_machine
from ..modelargs import model_from_args
from ..models import SRDeploy
from ..native_log import stderr_to
from ..shared import REPO_ROOT
from ..tiling import TorchRunner
from ..weights import DEFAULT_WEIGHTS, LoadedWeights
from . import html_report, npu_target
from .arm64 import arm64_parity, merge_verdict
from .calibration import load_calibration
from .cost import expand_groups_cost
from .formats import FORMATS
from .install import DEMO_APPS, check_app, install
from .job import Artifact, Job
from .limits import check_memory
from .options import ExportOptions, Plan, plan as make_plan
from .parity import PARITY_PHOTOS, Reference, SetQuality, parity_crops, parity_on_photos, verdict
from .sidecar import SCHEMA_VERSION, check_schema, sidecar, tool_versions, weights_entry
from .staging import LOG_NAME, existing_exports, make_workdir, move_into_place, place_log

log = logging.getLogger("pcarn_mobile.export")

#: The visual report written beside report.json.
REPORT_HTML = "report.html"
#: Infix of a file whose parity verdict is MISMATCH: it never sits under the name a good file has.
MISMATCH_TAG = ".MISMATCH"


@dataclass(frozen=True)
class ExportedFile:
    """One file a run wrote, at its final path, with the sidecar written beside it."""

    path: Path
    sidecar: dict[str, Any]

    @property
    def verdict(self) -> str:
        return self.sidecar["parity"]["verdict"]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` returns: every file, the run's report (``report.json``) and where the log is.

    Paths are absolute, so they stay valid whatever the working folder later is.
    """

    files: list[ExportedFile]
    report: dict[str, Any]
    report_path: Path
    log_path: Path

    @property
    def ok(self) -> bool:
        """True when every file computes what PyTorch computes (no MISMATCH verdict) and every NPU compile worked."""
        return self.report["verdict"] == "OK" and not self.report.get("npu_failures")


def export(options: ExportOptions | None = None, **kwargs: Any) -> ExportResult:
    """Converts PCARN-M as ``python -m pcarn_mobile.convert`` does, with the same options and defaults.

    Pass an :class:`ExportOptions` or its fields as keywords (``export(target="tflite",
    precision="fp32,int8", out="exports")``). Returns the files written with their sidecars and
    verdicts; a file that fails parity is written as ``<name>.MISMATCH.<suffix>`` and
    ``result.ok`` is False. Raises :class:`~pcarn_mobile.errors.UserError` (one line, nothing
    written) on bad input.
    """
    start = time.perf_counter()
    options = dataclasses.replace(options or ExportOptions(), **kwargs)
    plan = make_plan(options)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    wants_int8 = any("int8" in p and "calib" in FORMATS[t].flags for t, p in plan.precisions.items())
    calibration = load_calibration(plan.calib) if wants_int8 else None
    pairs = load_eval_set(plan.parity_data, options.scale) if plan.parity_data else None
    check_memory(plan)
    for app in plan.install:
        check_app(app)
    weights = model_from_args(options, options.scale)
    module = SRDeploy(weights.model, options.scale).eval()
    _announce(weights, plan, options.scale)
    created = not plan.out.exists()
    workdir = make_workdir(plan.out)
    keep_log = True
    try:
        with stderr_to(workdir / LOG_NAME):
            report, staged, sections = _convert(plan, options, weights, module, pairs, workdir, calibration, start)
        existing = existing_exports(plan.out)
        replaced = move_into_place(staged, plan.out)
        written = {name for _, name in staged}
        report.update(replaced=replaced, kept=sorted(existing - written))
        files = [ExportedFile(plan.out.resolve() / meta["file"], meta) for meta in report["files"]]
        if plan.install:
            report["installed"] = {app: _install(app, files) for app in plan.install}
        report["wall_time_s"] = round(time.perf_counter() - start, 1)
        report["machine"] = describe_machine()
        check_schema(report, "report")
        write_json(plan.out / "report.json", report)
        write_text(plan.out / REPORT_HTML, html_report.render(report, sections))
    except Exception as exc:
        # A converter's own failure: its native messages are what a bug report needs. A refusal
        # (UserError) or an interruption leaves the folder as it was.
        keep_log = not isinstance(exc, UserError)
        if keep_log:
            log.error("the converters' own messages for this run are in %s", plan.out / LOG_NAME)
        raise
    except BaseException:
        keep_log = False
        raise
    finally:
        log_path = place_log(workdir, plan.out) if keep_log else plan.out / LOG_NAME
        shutil.rmtree(workdir, ignore_errors=True)
        if created and not keep_log and not any(plan.out.iterdir()):
            plan.out.rmdir()
    if report["replaced"] or report["kept"]:
        log.info("in %s: replaced %s; left alone %s", plan.out, ", ".join(report["replaced"]) or "nothing",
                 ", ".join(report["kept"]) or "nothing")
    return ExportResult(files, report, plan.out.resolve() / "report.json", log_path.resolve())


def _install(app: str, files: list[ExportedFile]) -> list[str]:
    """Installs the run's good files of the app's format; a file that failed parity never reaches an app."""
    fmt = DEMO_APPS[app][2]
    good = [f.path for f in files if f.sidecar["format"] == fmt and f.verdict == "OK"]
    failed = [f.path.name for f in files if f.sidecar["format"] == fmt and f.verdict != "OK"]
    if failed:
        log.warning("not installed into %s (failed parity): %s", app, ", ".join(failed))
    if not good:
        log.warning("nothing installed into %s: no %s file passed parity", app, fmt)
        return []
    installed, removed = install(app, good)
    log.info("installed into %s: %s%s", DEMO_APPS[app][0].relative_to(REPO_ROOT), ", ".join(installed),
             f" (removed older: {', '.join(removed)})" if removed else "")
    return installed


def _announce(weights: LoadedWeights, plan: Plan, scale: int) -> None:
    if weights.kind == "random-init":
        log.warning("converting an UNTRAINED network (--random-init): numerics only, no useful output")
        label = "random-init"
    else:
        which = "the embedded default" if Path(weights.source) == DEFAULT_WEIGHTS else weights.kind
        label = f"{weights.file_name} ({which})"
    h = weights.header
    log.info("weights: %s; %s g%d x%d -> %s", label, h.arch, h.groups, scale,
             ", ".join(f"{t} {'/'.join(plan.precisions[t])}" for t in plan.targets))


def _convert(plan: Plan, options: ExportOptions, weights: LoadedWeights, module: SRDeploy,
             pairs: list[EvalPair] | None, workdir: Path, calibration,
             start: float) -> tuple[dict[str, Any], list[tuple[Path, str]], list[list[str]]]:
    """Every format's files in ``workdir``, measured and described.

    Returns the report, (staged path, final name) per file and each file's report.html pictures.
    """
    scale, h = options.scale, weights.header
    reference = Reference(TorchRunner(module, scale))
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "verdict": "OK", "model": h.arch, "scale": scale, "groups": h.groups,
        "expand_groups": plan.expand_groups, "weights": {**weights_entry(weights), "as_given": options.weights},
        "options": plan.given, "tools": tool_versions(),
    }
    if plan.expand_groups:
        report["expand_groups_cost"] = cost = expand_groups_cost(module, h, scale, plan.input_size)
        log.info("--expand-groups: %.2f G -> %.2f G Mult-Adds per %dx%d tile (x%s); %.2f G -> %.2f G at 720p out",
                 cost["grouped_mult_adds"] / 1e9, cost["dense_mult_adds"] / 1e9, *cost["tile"], cost["factor"],
                 cost["grouped_mult_adds_720p"] / 1e9, cost["dense_mult_adds_720p"] / 1e9)
    quality = SetQuality(reference, pairs, scale, plan.parity_data) if pairs is not None else None
    if quality is not None:
        report["reference"] = {"quality": {"set": quality.name, **quality.torch(None)}}
    timings: dict[str, float] = {"start-up (imports, weights, reference)": round(time.perf_counter() - start, 2)}
    artifacts: list[Artifact] = []
    for target in plan.targets:
        job = Job(module, weights, plan, FORMATS[target], scale, workdir, calibration, pairs)
        t = time.perf_counter()
        artifacts += job.fmt.load_adapter().export(job)
        timings.update(job.timings or {target: round(time.perf_counter() - t, 2)})
    if plan.npu:
        compiled, report["npu_failures"] = npu_target.export(plan.npu, artifacts, workdir, workdir / LOG_NAME, timings)
        artifacts += compiled
    t = time.perf_counter()
    crops: dict[Any, list] = {}
    sections = []  # the report.html pictures of each file, in file order
    for a in artifacts:
        count = a.parity_photos or PARITY_PHOTOS
        photos, outputs = crops.setdefault((a.input_size, count), parity_crops(a.input_size, count)), {}
        a.parity["photos"] = parity_on_photos(a.runner(), reference, photos, outputs)
        sections.append(html_report.photo_rows(a, outputs, reference, photos, scale))
        if quality is not None and pairs is not None:
            a.parity["quality"] = quality.of(a)
            sections[-1] += html_report.set_rows(quality, pairs, a.parity["quality"])
        a.parity.update(verdict(a.fmt, a.variant, a.parity["photos"], a.parity.get("quality")))
        if a.baseline is not None:
            npu_target.against_cpu(a, outputs, photos)
        if "arm64" in plan.parity_on and a.fmt.name == "tflite" and a.baseline is None:
            log.info("%s: on ARM64 kernels (emulated; minutes)", a.path.name)
            a.parity["arm64"] = arm64_parity(a.path, a.fmt, a.variant, reference, photos, outputs,
                                             limit_s=plan.arm_time_limit)
            merge_verdict(a.parity)
    timings["parity (and report pictures)"] = round(time.perf_counter() - t, 2)
    common = {"model": h.arch, "scale": scale, "groups": h.groups, "weights": weights_entry(weights), "tools": report["tools"]}
    staged = []
    for a in artifacts:
        name = a.path.name if a.parity["verdict"] == "OK" else a.path.stem + MISMATCH_TAG + a.fmt.suffix
        meta = sidecar(a, name, {**common, "expand_groups": plan.expand_groups and "expand_groups" in a.fmt.flags})
        check_schema(meta)
        write_json(a.path.with_name(a.path.name + ".json"), meta)
        report["files"] = report.get("files", []) + [meta]
        staged.append((a.path, name))
        if a.parity["verdict"] != "OK":
            report["verdict"] = "MISMATCH"
    report["timings_s"] = timings
    return report, staged, sections
