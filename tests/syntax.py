"""Test helper: does a Kotlin or Swift source parse? (tree-sitter grammars from PyPI; no compiler needed.)

Neither app can be built on Linux (no Android SDK, no Xcode), so every Kotlin and Swift file is at
least parsed: a syntax error anywhere fails ``make test`` with the file and line.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest


@lru_cache(maxsize=None)
def _parser(language: str):
    tree_sitter = pytest.importorskip("tree_sitter", reason="tree-sitter is not installed (pip install -e '.[dev]')")
    grammar = pytest.importorskip(f"tree_sitter_{language}", reason=f"tree-sitter-{language} is not installed")
    return tree_sitter.Parser(tree_sitter.Language(grammar.language()))


def parse(path: Path, language: str):
    """The tree-sitter tree of ``path`` (``language``: "kotlin" or "swift"), for tests that read code."""
    return _parser(language).parse(path.read_bytes())


def syntax_errors(path: Path, language: str) -> list[str]:
    """``file:line:column`` of every ERROR or MISSING node in ``path`` (``language``: "kotlin" or "swift")."""
    tree = parse(path, language)
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            found.append(f"{path}:{row + 1}:{col + 1}: {'missing ' + node.type if node.is_missing else 'syntax error'}")
        elif node.has_error:
            stack.extend(node.children)
    return sorted(found)
