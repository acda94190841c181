"""Shared fixtures: the ../shared folder (skipped with a reason when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pcarn_mobile.shared import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data folder; tests that need it skip when a clone has none beside it."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared (or $PCARN_SHARED) is absent: Set5/Set14 and the upstream checkpoints are not here")
    return path


@pytest.fixture(scope="session")
def upstream_l1(shared: Path) -> Path:
    """The authors' PCARN-M-L1 checkpoint."""
    return shared / "checkpoints" / "PCARN-M-L1.pth"


@pytest.fixture(scope="module")
def torch_one_thread():
    """One intra-op thread for modules that run the network: on the 2 shared cores of the dev
    machine (training in the background) two threads oversubscribe and run 3-10x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
