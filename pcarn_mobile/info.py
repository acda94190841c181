"""``python -m pcarn_mobile.info --groups G --scale S``: parameters and Mult-Adds, as the paper counts them.

Lets a user pick a group count by its cost before training or converting anything: the
figures are comparable with the PCARN/CARN tables (414,811 parameters and 32.49 G Mult-Adds
for PCARN-M, groups 4, x4).
"""
from __future__ import annotations

import argparse
import json

from .complexity import PAPER_OUTPUT_HW, count_parameters, paper_input_hw, sr_mult_adds
from .errors import CliParser, UserError, run_cli
from .models import ARCHITECTURES, MULTI_SCALES, VALID_GROUPS, build_model


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(
        prog="python -m pcarn_mobile.info",
        description="Parameters of the multi-scale network and Mult-Adds for one image whose SR output is "
        "1280x720 (paper convention: conv multiply-adds, the chosen scale's path only).",
    )
    p.add_argument("--groups", type=int, default=4, choices=VALID_GROUPS, metavar="G",
                   help=f"group count, one of {', '.join(map(str, VALID_GROUPS))} (default 4)")
    p.add_argument("--scale", type=int, default=4, choices=MULTI_SCALES, metavar="S", help="2, 3 or 4 (default 4)")
    p.add_argument("--arch", default="pcarn_m", choices=sorted(ARCHITECTURES), help="architecture (default pcarn_m)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def complexity_report(arch: str, groups: int, scale: int) -> dict[str, object]:
    """The figures ``info`` prints, as a dict."""
    try:
        model = build_model(arch, groups, MULTI_SCALES)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    mult_adds = sr_mult_adds(model, scale)
    h, w = paper_input_hw(scale)
    return {
        "arch": arch,
        "groups": groups,
        "scale": scale,
        "params": count_parameters(model),
        "params_single_scale": count_parameters(build_model(arch, groups, (scale,))),
        "mult_adds": mult_adds,
        "mult_adds_g": round(mult_adds / 1e9, 2),
        "input_hw": [h, w],
        "output_hw": [scale * h, scale * w],
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    r = complexity_report(args.arch, args.groups, args.scale)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    ph, pw = PAPER_OUTPUT_HW
    (ih, iw), s = r["input_hw"], r["scale"]
    rows = [
        ("parameters, multi-scale network (x2/x3/x4 upsamplers, mean shift)", f"{r['params']:,}"),
        (f"parameters, single-scale x{s} network", f"{r['params_single_scale']:,}"),
        (f"Mult-Adds, x{s}, one {pw}x{ph} output ({iw}x{ih} input)", f"{r['mult_adds_g']:.2f} G ({r['mult_adds']:,})"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{r['arch']}, groups {r['groups']}, x{s}")
    for key, value in rows:
        print(f"  {key + ':':<{width + 1}} {value}")
    return 0


if __name__ == "__main__":
    run_cli(main)
