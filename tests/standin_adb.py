"""A STAND-IN for ``adb``: no phone is attached to the machines that run these tests.

tests/test_android_harness.py copies this file as an executable named ``adb`` into a temporary
folder put first on PATH. It answers what the Android harness asks, from ``scenario.json`` in
its own folder, and records every call in ``adb.log`` (one JSON argv per line):

- ``adb devices`` / ``adb version``;
- ``adb -s SERIAL push LOCAL REMOTE`` (the local file must exist);
- ``adb -s SERIAL shell CMD``: ``getprop``, the cpufreq and thermal-zone reads, ``mkdir``, ``chmod``,
  ``rm``, and ``benchmark_model`` runs, which replay a recorded output per delegate flag with its
  exit status (tests/data/benchmark_model/).

It knows nothing of a real device: it is only as right as the formats it replays.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = json.loads((HERE / "scenario.json").read_text())
LOG = HERE / "adb.log"
DELEGATE_FLAGS = {"--use_gpu=true": "gpu", "--use_nnapi=true": "nnapi", "--use_xnnpack=true": "xnnpack",
                  "--use_xnnpack=false": "cpu"}


def log(argv: list[str]) -> None:
    with open(LOG, "a") as fh:
        fh.write(json.dumps(argv) + "\n")


def calls(word: str) -> int:
    return sum(word in line for line in LOG.read_text().splitlines())


def shell(command: str) -> int:
    if command == "getprop":
        for key, value in SCENARIO["props"].items():
            print(f"[{key}]: [{value}]")
    elif "cpuinfo_max_freq" in command:
        for cpu, khz in SCENARIO.get("max_freq", {}).items():
            print(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/cpuinfo_max_freq {khz}")
    elif "thermal_zone" in command:
        readings = SCENARIO.get("temps", [[]])
        print("\n".join(map(str, readings[min(calls("thermal_zone") - 1, len(readings) - 1)])))
    elif "benchmark_model" in command and "--graph=" in command:
        delegate = next(d for flag, d in DELEGATE_FLAGS.items() if flag in command.split())
        replay = SCENARIO["outputs"][delegate]
        sys.stdout.write(Path(replay["file"]).read_text())
        return replay.get("status", 0)
    elif not command.startswith(("mkdir -p ", "chmod ", "rm -rf ")):
        print(f"/system/bin/sh: {command.split()[0]}: inaccessible or not found", file=sys.stderr)
        return 127
    return 0


def main(argv: list[str]) -> int:
    log(argv)
    if argv[:1] == ["devices"]:
        print("List of devices attached")
        for serial, state in SCENARIO["devices"]:
            print(f"{serial}\t{state}")
        print()
        return 0
    if argv[:1] == ["version"]:
        print("Android Debug Bridge version 1.0.41 (stand-in)")
        return 0
    if argv[:1] != ["-s"] or [argv[1], "device"] not in SCENARIO["devices"]:
        print(f"adb: device '{argv[1] if len(argv) > 1 else ''}' not found", file=sys.stderr)
        return 1
    verb, rest = argv[2], argv[3:]
    if verb == "push":
        if not Path(rest[0]).is_file():
            print(f"adb: error: cannot stat '{rest[0]}': No such file or directory", file=sys.stderr)
            return 1
        print(f"{rest[0]}: 1 file pushed, 0 skipped.")
        return 0
    if verb == "shell":
        return shell(" ".join(rest))
    print(f"adb: unknown command {verb}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
