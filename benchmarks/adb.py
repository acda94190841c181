"""One Android device over ``adb``: choosing it, its properties, big cores and temperature, a scratch folder.

Every way ``adb`` can refuse (no device, several, unauthorised, offline, adb missing) ends in one
:class:`UserError` line that says what to do, because a phone benchmark is usually run by hand
with a phone on the desk. The parsers are pure functions so the harness tests can feed them a
stand-in ``adb``'s answers.
"""
from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pcarn_mobile.errors import UserError

#: Where ``adb shell`` may write and execute on every Android version without root.
DEVICE_TMP = "/data/local/tmp"

#: Device facts recorded with every result (those the device has).
PROPERTIES = ("ro.product.manufacturer", "ro.product.model", "ro.soc.model", "ro.board.platform",
              "ro.build.version.release", "ro.build.version.sdk", "ro.product.cpu.abi")

_STATE_ADVICE = {
    "unauthorized": "unlock it and accept the 'Allow USB debugging' prompt, then run again",
    "offline": "reconnect the cable (or run 'adb kill-server'), then run again",
}
_PROPERTY = re.compile(r"^\[([^\]]+)\]: \[(.*)\]$")
_MAX_FREQ = re.compile(r"/cpu(\d+)/cpufreq/cpuinfo_max_freq[:\s]\s*(\d+)\s*$")
_MAX_FREQ_COMMAND = ("for f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/cpuinfo_max_freq; "
                     "do echo \"$f $(cat $f)\"; done 2>/dev/null")
_THERMAL_COMMAND = "cat /sys/class/thermal/thermal_zone*/temp 2>/dev/null"


def parse_devices(text: str) -> list[tuple[str, str]]:
    """``adb devices`` -> [(serial, state)]; state is ``device`` when usable."""
    found = []
    for line in text.splitlines():
        if "\t" in line and not line.startswith("*"):
            serial, state = line.split("\t", 1)
            found.append((serial.strip(), state.strip()))
    return found


def choose(devices: list[tuple[str, str]], serial: str | None) -> str:
    """The serial to use, or a :class:`UserError` for none, several without ``--serial``, or a bad state."""
    listed = ", ".join(f"{s} ({state})" for s, state in devices)
    if serial is not None:
        matches = [(s, state) for s, state in devices if s == serial]
        if not matches:
            raise UserError(f"no device {serial} is connected (adb devices lists: {listed or 'none'})")
    elif not devices:
        raise UserError("no Android device found: connect one with USB debugging enabled (adb devices lists none)")
    elif len(devices) > 1:
        raise UserError(f"{len(devices)} devices are connected ({listed}): choose one with --serial")
    else:
        matches = devices
    chosen, state = matches[0]
    if state != "device":
        advice = _STATE_ADVICE.get(state, "it is not ready for 'adb shell'")
        raise UserError(f"device {chosen} is {state}: {advice}")
    return chosen


def parse_properties(text: str) -> dict[str, str]:
    """``adb shell getprop`` (``[key]: [value]`` lines) -> {key: value}."""
    return {m[1]: m[2] for m in map(_PROPERTY.match, text.splitlines()) if m}


def parse_max_frequencies(text: str) -> dict[int, int]:
    """``<path>/cpuN/cpufreq/cpuinfo_max_freq <kHz>`` lines -> {cpu: max kHz}; unreadable cores left out."""
    return {int(m[1]): int(m[2]) for m in map(_MAX_FREQ.search, text.splitlines()) if m}


def big_core_mask(max_freq: dict[int, int]) -> str | None:
    """Hex ``taskset`` mask of every core faster than the slowest cluster (all cores when they are alike).

    "Big" means not LITTLE: on a 1+3+4 phone that is the prime core and the three big ones, the
    cores a foreground app's heavy threads are scheduled on. None when no frequency was readable.
    """
    if not max_freq:
        return None
    slowest = min(max_freq.values())
    big = [cpu for cpu, khz in max_freq.items() if khz > slowest] or list(max_freq)
    return format(sum(1 << cpu for cpu in big), "x")


def parse_temperatures(text: str) -> list[float]:
    """Thermal-zone ``temp`` readings -> degrees Celsius; millidegrees (most kernels) are converted,
    and sensors that report nothing plausible (disabled zones: 0, -273000, ...) are left out."""
    found = []
    for token in text.split():
        try:
            value = float(token)
        except ValueError:
            continue
        celsius = value / 1000.0 if abs(value) >= 1000 else value
        if 0 < celsius < 150:
            found.append(celsius)
    return found


class Device:
    """The device ``serial``, through the ``adb`` found on PATH."""

    def __init__(self, adb: str, serial: str) -> None:
        self.adb, self.serial = adb, serial

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([self.adb, "-s", self.serial, *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise UserError(f"adb {args[0]} on {self.serial} failed: {said[-1] if said else f'status {done.returncode}'}")
        return done

    def shell(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``command`` run by the device's ``sh``; its exit status comes back (adb shell protocol v2)."""
        return self._run("shell", command, check=check)

    def push(self, local: Path, remote: str) -> None:
        self._run("push", str(local), remote)

    def properties(self) -> dict[str, str]:
        return parse_properties(self.shell("getprop").stdout)

    def max_frequencies(self) -> dict[int, int]:
        return parse_max_frequencies(self.shell(_MAX_FREQ_COMMAND, check=False).stdout)

    def hottest(self) -> float | None:
        """The hottest thermal zone now (°C); None when the device exposes none."""
        readings = parse_temperatures(self.shell(_THERMAL_COMMAND, check=False).stdout)
        return max(readings) if readings else None

    @contextmanager
    def scratch(self) -> Iterator[str]:
        """A fresh folder under /data/local/tmp, removed afterwards whatever happens (Ctrl-C included)."""
        folder = f"{DEVICE_TMP}/pcarn-bench-{secrets.token_hex(4)}"
        self.shell(f"mkdir -p {shlex.quote(folder)}")
        try:
            yield folder
        finally:
            self.shell(f"rm -rf {shlex.quote(folder)}", check=False)


def adb_path() -> str:
    found = shutil.which("adb")
    if not found:
        raise UserError("adb not found on PATH: install Android SDK platform-tools and put adb on PATH")
    return found


def connect(serial: str | None) -> Device:
    """The one usable device (``serial``, or the only one connected)."""
    adb = adb_path()
    listing = subprocess.run([adb, "devices"], capture_output=True, text=True)
    if listing.returncode != 0:
        raise UserError(f"adb devices failed: {(listing.stderr or listing.stdout).strip() or listing.returncode}")
    return Device(adb, choose(parse_devices(listing.stdout), serial))


def adb_version() -> str:
    """``adb version``'s first line (``Android Debug Bridge version 1.0.41``)."""
    lines = subprocess.run([adb_path(), "version"], capture_output=True, text=True).stdout.splitlines()
    return lines[0].strip() if lines else "unknown"
