"""Checkpoint loading: both formats detected, every bad file refused in one line, nothing executed."""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

import pcarn_mobile.weights as weights
from pcarn_mobile.errors import UserError
from pcarn_mobile.models import build_model
from pcarn_mobile.weights import (
    TRAIN_STATE_FORMAT, Header, load_weights, read_checkpoint, resolve_weights, save_checkpoint,
)


def _one_line_error(excinfo: pytest.ExceptionInfo[UserError]) -> str:
    msg = str(excinfo.value)
    assert msg and "\n" not in msg
    return msg


def test_upstream_format_detected(upstream_l1: Path) -> None:
    header, state, meta, kind = read_checkpoint(upstream_l1)
    assert kind == "upstream" and meta == {}
    assert header == Header("pcarn_m", 4, (2, 3, 4), 64)
    assert len(state) == 94


def test_project_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build_model("pcarn_m", groups=8, scales=(3,)).eval()
    path = tmp_path / "g8.pt"
    save_checkpoint(path, model, Header("pcarn_m", 8, (3,)), {"steps": 7})
    loaded = load_weights(path, groups=8, scale=3)
    assert loaded.kind == "project" and loaded.meta == {"steps": 7}
    assert loaded.header == Header("pcarn_m", 8, (3,), 64)
    assert loaded.sha256 == weights.sha256_of(path)
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(loaded.model(x, 3), model(x, 3))
    assert [p.name for p in tmp_path.iterdir()] == ["g8.pt"]  # the temporary file was moved, not left


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        load_weights(tmp_path / "nope.pth")
    assert "not found" in _one_line_error(e)


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hi")
    return buffer.getvalue()


@pytest.mark.parametrize("content, kind", [
    (os.urandom(4096), "binary data"),
    (b"model weights, honest\n" * 20, "a text file"),
    # 'h' is a pickle opcode: torch.load raised KeyError on these, not one of the errors it was expected to raise
    (b"hello world\n", "a text file"),
    ((Path(__file__).parents[1] / "README.md").read_bytes(), "a text file"),
    (b"", "an empty file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"),
    (b"\xff\xd8\xff\xe0" + bytes(64), "a JPEG image"),
    (b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n", "an HTML page"),
    (_zip_bytes(), "a zip archive"),
], ids=["random", "text", "hello", "readme", "empty", "png", "jpeg", "html", "zip"])
def test_not_a_checkpoint_names_the_file_and_what_it_is(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "w.pth"
    path.write_bytes(content)
    with pytest.raises(UserError) as e:
        load_weights(path)
    msg = _one_line_error(e)
    assert msg.startswith(f"{path} is not a PyTorch checkpoint: it is {kind}"), msg


def test_truncated_checkpoint_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "half.pt"
    save_checkpoint(path, build_model("pcarn_m", scales=(2,)), Header("pcarn_m", 4, (2,)))
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(UserError) as e:
        load_weights(path)
    assert f"{path} is a damaged PyTorch checkpoint" in _one_line_error(e)


def test_folder_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        load_weights(tmp_path)
    assert "is a folder" in _one_line_error(e)


def test_training_state_points_to_best_pt(tmp_path: Path) -> None:
    last = tmp_path / "run" / "last.pt"
    last.parent.mkdir()
    torch.save({"format": TRAIN_STATE_FORMAT, "step": 3, "model": {}}, last)
    with pytest.raises(UserError) as e:
        load_weights(last)
    msg = _one_line_error(e)
    assert "training state" in msg and "--resume" in msg and str(tmp_path / "run" / "best.pt") in msg


def test_state_dict_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(UserError) as e:
        load_weights(path)
    assert "not of PCARN" in _one_line_error(e)


class _Evil:
    """A pickle payload that would create a marker file if it were ever unpickled with code."""

    marker = ""

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("style", ["torch.save", "raw pickle"])
def test_malicious_pickle_refused_not_executed(tmp_path: Path, style: str) -> None:
    marker = tmp_path / "pwned"
    evil = _Evil()
    evil.marker = str(marker)
    path = tmp_path / "evil.pth"
    if style == "torch.save":
        torch.save({"entry.weight": evil}, path)
    else:
        path.write_bytes(pickle.dumps(evil))
    with pytest.raises(UserError) as e:
        load_weights(path)
    msg = _one_line_error(e)
    # a torch.save file with a code global is named as such; a bare pickle is no checkpoint at all
    assert ("needs code to load; refused" if style == "torch.save" else "not a PyTorch checkpoint") in msg
    assert not marker.exists()


def test_group_mismatch_names_both(upstream_l1: Path) -> None:
    with pytest.raises(UserError) as e:
        load_weights(upstream_l1, groups=8)
    msg = _one_line_error(e)
    assert "groups=4" in msg and "groups=8" in msg


def test_scale_mismatch_names_both(tmp_path: Path) -> None:
    path = tmp_path / "x2.pt"
    save_checkpoint(path, build_model("pcarn_m", scales=(2,)), Header("pcarn_m", 4, (2,)))
    with pytest.raises(UserError) as e:
        load_weights(path, scale=4)
    msg = _one_line_error(e)
    assert "x2" in msg and "x4" in msg


def test_no_default_weights_says_what_to_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", tmp_path / "missing.pt")
    with pytest.raises(UserError) as e:
        resolve_weights(None, False)
    msg = _one_line_error(e)
    assert "--weights" in msg and "--random-init" in msg


def test_random_init_only_when_asked() -> None:
    loaded = resolve_weights(None, True, groups=16, scale=2)
    assert loaded.kind == "random-init" and loaded.header.groups == 16 and loaded.sha256 is None
    with pytest.raises(UserError, match="exclude each other"):
        resolve_weights("w.pth", True)


def test_the_authors_gan_model_is_recognised_and_named(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """PCARN-M.pth looks exactly like PCARN-M-L1.pth from inside; its digest says it is the GAN model."""
    capsys.readouterr()
    gan = resolve_weights(str(shared / "checkpoints" / "PCARN-M.pth"), False, groups=4, scale=4)
    err = capsys.readouterr().err
    assert gan.note is not None and "GAN (perceptual)" in gan.note and "PCARN-M-L1.pth" in gan.note
    assert err == f"note: {shared / 'checkpoints' / 'PCARN-M.pth'} is {gan.note}\n"
    l1 = load_weights(shared / "checkpoints" / "PCARN-M-L1.pth")
    assert l1.note is None and capsys.readouterr().err == ""
