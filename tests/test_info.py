"""Parameter and Mult-Add figures match the paper's, and the counter works on any module."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from pcarn_mobile.complexity import count_mult_adds, count_parameters
from pcarn_mobile.errors import run_cli
from pcarn_mobile.info import main
from clitools import cli_error


def _info(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as e:
        run_cli(main, argv)
    out, err = capsys.readouterr()
    assert e.value.code == 0, err
    return out


@pytest.mark.parametrize("groups, giga", [(4, "32.49"), (1, "93.0"), (8, "22.4"), (64, "13.6")])
def test_paper_mult_adds(groups: int, giga: str, capsys: pytest.CaptureFixture[str]) -> None:
    r = json.loads(_info(["--groups", str(groups), "--scale", "4", "--json"], capsys))
    decimals = len(giga.split(".")[1])
    assert f"{r['mult_adds'] / 1e9:.{decimals}f}" == giga
    assert r["output_hw"] == [720, 1280] and r["input_hw"] == [180, 320]


def test_text_output_has_the_paper_figures(capsys: pytest.CaptureFixture[str]) -> None:
    out = _info(["--groups", "4", "--scale", "4"], capsys)
    assert "414,811" in out and "32.49 G" in out and "1280x720" in out


def test_bad_group_count_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--groups" in cli_error(main, ["--groups", "5"], capsys)


def test_counter_on_any_module() -> None:
    conv = nn.Conv2d(8, 16, 3, padding=1, groups=2)
    assert count_mult_adds(conv, (1, 8, 10, 10)) == 16 * 10 * 10 * (8 // 2) * 3 * 3
    assert conv.weight.device.type == "cpu"  # the original is untouched (counting runs on a meta copy)

    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = nn.Conv2d(4, 4, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(self.block(x))  # one weight, two uses: counted twice, stored once

    shared = Shared()
    assert count_mult_adds(shared, (2, 4, 5, 5)) == 2 * (2 * 4 * 5 * 5 * 4)
    assert count_parameters(shared) == 4 * 4 + 4
