"""No committed file holds a path of the machine it was made on (/work/..., /root/..., /home/..., /tmp/...).

Such a path means nothing on a user's machine and tells the world the build machine's layout. The
grep is precise: a path counts only where a machine folder starts a path (so URLs, ``/usr/bin/env``,
``/dev/null`` and a phone's ``/data/local/tmp`` do not), and the few files that must name such a
path for another reason are listed below with that reason, by file and exact text.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: A machine's own folders, where a path starts (not inside a URL or a longer path).
LEAK = re.compile(r"(?<![\w.:/~-])/(?:work|root|home|tmp|Users|mnt|opt|var|private|srv)/[\w.$*{}-]+")

#: (file, exact text) -> why it is not a leak.
ALLOWED: dict[tuple[str, str], str] = {
    ("benchmarks/appcores/swift.py", "/work/{folder}"): "a folder inside the Swift toolchain's own Debian root",
    ("benchmarks/appcores/swift.py", "/tmp/{self._dir.name}"): "a folder inside the Swift toolchain's own Debian root",
    ("tests/test_export_contract.py", "/home/me"): "a machine path the sidecar schema must refuse",
    ("tests/test_latency_schema.py", "/home/me"): "a machine path the latency schema must refuse",
    ("tests/test_npu.py", "/home/me"): "a machine path the sidecar schema must refuse",
}
#: This file: the patterns and examples above are the grep's own definition.
SELF = "tests/test_paths.py"


def leaks(text: str) -> list[str]:
    return LEAK.findall(text)


def test_the_grep_finds_real_leaks_and_nothing_else() -> None:
    assert leaks("--data /work/shared/data/T91 > /tmp/x.log; see /root/.cache") == [
        "/work/shared", "/tmp/x.log", "/root/.cache"]
    assert leaks("#!/usr/bin/env bash; 2>/dev/null; https://example.org/home/page; /data/local/tmp/x; "
                 "../shared/data; $PCARN_SHARED/data; ~/.cache/pcarn-mobile; a/tmp/b") == []


def test_no_committed_file_holds_a_machine_path() -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    found = []
    for name in filter(None, (f.decode() for f in files)):
        path = ROOT / name
        if name == SELF:
            continue
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary: weights, pictures
            continue
        for line_no, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            found += [f"{name}:{line_no}: {hit}" for hit in leaks(line) if (name, hit) not in ALLOWED]
    assert found == []
