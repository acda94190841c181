"""The latency result every harness writes (host, Android, iOS, the demo apps): schema v1 and its checks.

One schema for every harness, so ``python -m benchmarks.report`` puts host, Android and iOS
figures side by side. The schema (``benchmarks/schema/latency-v1.schema.json``) is the contract;
its fields are described in ``benchmarks/README.md``.
"""
from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SCHEMA = Path(__file__).with_name("schema") / "latency-v1.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA.read_text()))


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Every way ``document`` breaks the latency schema; empty when it is valid."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in _validator().iter_errors(document)]


def new_result(harness: str, device: dict[str, Any], tools: dict[str, str]) -> dict[str, Any]:
    """An empty result document for ``harness`` ("host", "android", "ios", "android-app", "ios-app")."""
    return {"schema_version": SCHEMA_VERSION, "harness": harness,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "device": device, "tools": tools,
            "results": []}
