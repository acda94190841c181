"""``python -m pcarn_mobile.export.validate FILE...``: check sidecars and reports against the shipped schemas.

For app and harness authors who consume exported files in their own CI: each ``<file>.json``
sidecar and ``report.json`` is validated against schema v1 (``report.json`` by its name), one
line per file, exit 1 when any breaks it.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import CliParser, UserError, run_cli
from .sidecar import schema_errors


def main(argv: list[str] | None = None) -> int:
    parser = CliParser(prog="python -m pcarn_mobile.export.validate",
                       description="Validate export sidecars (<file>.json) and report.json against schema v1.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="sidecar or report.json files")
    args = parser.parse_args(argv)
    broken = 0
    for name in args.files:
        path = Path(name)
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: not a readable JSON file ({exc})") from None
        kind = "report" if path.name == "report.json" else "sidecar"
        errors = schema_errors(document, kind)
        broken += bool(errors)
        print(f"{path}: " + ("; ".join(errors[:3]) if errors else f"valid {kind} v{document.get('schema_version')}"))
    return 1 if broken else 0


if __name__ == "__main__":
    run_cli(main)
