"""DDP: two processes with the gloo backend on CPU, set up from torchrun's environment variables.

Rank 1 is given its own (otherwise identical) ``--out`` so that "only rank 0 writes" is
checkable: its folder must stay empty while rank 0's fills up, and both ranks must end with
bit-identical weights (DDP all-reduces the gradients; every rank steps the same optimizer).
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from pcarn_mobile.imageio import write_image
from pcarn_mobile.photos import sample_photos


def _worker(rank: int, world: int, port: int, data: str, outs: list[str], results: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from pcarn_mobile.train import build_parser, make_config
    from pcarn_mobile.training.distributed import init_distributed, shutdown
    from pcarn_mobile.training.engine import train

    args = build_parser().parse_args(["--groups", "4", "--data", data, "--out", outs[rank], "--steps", "6",
                                      "--batch", "2", "--patch", "12", "--val", "none", "--log-every", "3",
                                      "--ema", "0"])  # summary["model"]: the raw weights DDP keeps in step
    ctx = init_distributed("cpu")
    assert ctx.distributed and ctx.rank == rank
    summary = train(make_config(args), ctx, resume=False)
    torch.save(summary["model"].state_dict(), Path(results) / f"rank{rank}.pt")
    shutdown(ctx)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_identical_weights_only_rank0_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name, img in sample_photos()[:3]:
        write_image(data / f"{name}.png", img[40:112, 60:140])
    outs = [str(tmp_path / "out0"), str(tmp_path / "out1")]
    results = tmp_path / "results"
    results.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(data), outs, str(results)), nprocs=2, join=True)

    w0 = torch.load(results / "rank0.pt", weights_only=True)
    w1 = torch.load(results / "rank1.pt", weights_only=True)
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k
    assert {p.name for p in Path(outs[0]).iterdir()} == {"last.pt", "best.pt", "train.csv"}
    assert not Path(outs[1]).exists()
    state = torch.load(Path(outs[0]) / "last.pt", weights_only=True)
    assert state["step"] == 6
    for k, v in state["model"].items():
        assert torch.equal(v, w0[k]), k
    # Each rank drew its own patches: two different sampling states, both saved for --resume.
    s0, s1 = state["sampler"]
    assert torch.equal(s0["scale_gen"], s1["scale_gen"]) and not torch.equal(s0["patch_gen"], s1["patch_gen"])
