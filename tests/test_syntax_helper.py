"""The syntax helper the app and harness tests rely on can fail."""
from __future__ import annotations

from pathlib import Path

import pytest

from syntax import syntax_errors


@pytest.mark.parametrize("language,good,bad", [
    ("kotlin", "fun main() { val x = listOf(1, 2).map { it * 2 } }\n", "fun main() { val x = (1, \n"),
    ("swift", "import Foundation\nstruct A { let x: Int }\n", "struct A { let x: = }\n"),
])
def test_syntax_errors_found(tmp_path: Path, language: str, good: str, bad: str) -> None:
    ok, broken = tmp_path / "ok.src", tmp_path / "bad.src"
    ok.write_text(good)
    broken.write_text(bad)
    assert syntax_errors(ok, language) == []
    assert syntax_errors(broken, language) and str(broken) in syntax_errors(broken, language)[0]
