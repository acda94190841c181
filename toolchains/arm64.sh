#!/usr/bin/env bash
# ARM64 LiteRT under qemu (toolchains/README.md): an aarch64 Debian bookworm root with Python 3.11,
# PyPI's aarch64 wheels of ai-edge-litert 2.1.0 and numpy 1.26.4, Debian's static qemu-aarch64 (runs
# the root without binfmt_misc) and Debian's dynamic qemu-aarch64 with our instruction-count TCG
# plugin (the static build cannot load plugins). Used by converters/arm64_runner.py.
#
# Layout under $(python -c 'import converters.toolchains as t; print(t.home("arm64"))'):
#   root/              debootstrap first stage (nothing is run inside it; python3.11 is unpacked)
#   site/              aarch64 wheels, on the guest's PYTHONPATH
#   bin/qemu-aarch64-static   copy of the host package's binary (the host may lose it later)
#   qemu/              Debian's qemu-user .deb unpacked: usr/bin/qemu-aarch64 + its libraries
#   plugin/insn_count.so      toolchains/arm64/insn_count.c compiled here
#   versions.txt       what was installed, for the runner's report
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR="${PCARN_TOOLCHAINS:-$HOME/.cache/pcarn-mobile}/arm64"
[ -f "$HOME_DIR/.complete" ] && { echo "arm64 toolchain already in $HOME_DIR"; exit 0; }
start=$(date +%s)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_locked() { # another engineer's apt may hold the lock: wait for it, never break it
  local i; for i in $(seq 1 60); do "$@" && return 0; sleep 10; done; return 1; }
need=""
for tool in qemu-aarch64-static:qemu-user-static debootstrap:debootstrap gcc:gcc; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need="$need ${tool##*:}"
done
if [ -n "$need" ]; then
  apt_locked as_root apt-get install -y -qq $need >/dev/null \
    || { apt_locked as_root apt-get update -qq && apt_locked as_root apt-get install -y -qq $need >/dev/null; }
fi

# The Debian mirror apt already uses (deb822 .sources or one-line sources.list), never a fixed host.
mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
    /^URIs:/ {u=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") s=1}
    /^$/ {if (u != "" && s) {print u; exit} u=""; s=0}
    END {if (u != "" && s) print u}';
  grep -hE '^deb +(\[[^]]*\] +)?[a-z]+://[^ ]+ +bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}'; } 2>/dev/null | head -n1 || true)
[ -n "$mirror" ] || { echo "arm64: no Debian bookworm mirror in apt's sources" >&2; exit 1; }

mkdir -p "${HOME_DIR%/*}"
work=$(mktemp -d "${HOME_DIR%/*}/.arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/qemu" "$work/plugin" "$work/debs" "$work/wheels"
bytes_of() { find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

echo "arm64: debootstrap (first stage) from apt's mirror"
debootstrap --foreign --arch=arm64 --variant=minbase --include=python3.11 bookworm "$work/root" "$mirror" \
  > "$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
# The first stage unpacks only the required packages and leaves the rest (python3.11 and its
# libraries) downloaded; unpacking them too gives a root qemu can run, with no second stage
# (which would need binfmt_misc or a chroot under emulation).
for deb in "$work/root/var/cache/apt/archives/"*.deb; do dpkg-deb -x "$deb" "$work/root"; done
[ -x "$work/root/usr/bin/python3.11" ] || { echo "arm64: python3.11 missing from the root" >&2; exit 1; }
downloaded=$(bytes_of "$work/root/var/cache/apt/archives")
rm -rf "$work/root/var/cache/apt/archives/"*.deb

echo "arm64: aarch64 wheels"
wheel_args=(--disable-pip-version-check --platform manylinux_2_27_aarch64 --platform manylinux2014_aarch64 --only-binary=:all:
  --python-version 3.11 --implementation cp)
python3 -m pip download --quiet "${wheel_args[@]}" --dest "$work/wheels" ai-edge-litert==2.1.0 numpy==1.26.4
python3 -m pip install --quiet "${wheel_args[@]}" --no-compile --no-index --find-links "$work/wheels" \
  --target "$work/site" ai-edge-litert==2.1.0 numpy==1.26.4
downloaded=$(( downloaded + $(bytes_of "$work/wheels") ))

echo "arm64: qemu (static for runs, dynamic for instruction counts)"
cp "$(command -v qemu-aarch64-static)" "$work/bin/"
fetch_debs() { ( cd "$work/debs" && apt-get download -qq qemu-user libcapstone4 liburing2 >/dev/null 2>&1 ); }
fetch_debs || { apt_locked as_root apt-get update -qq && fetch_debs; } \
  || { echo "arm64: apt-get download qemu-user libcapstone4 liburing2 failed" >&2; exit 1; }
downloaded=$(( downloaded + $(bytes_of "$work/debs") ))
for deb in "$work/debs"/*.deb; do dpkg-deb -x "$deb" "$work/qemu"; done
gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$work/plugin/insn_count.so" toolchains/arm64/insn_count.c
# Prove the pair works before calling it complete: the guest's Python imports LiteRT, and the
# plugin prints a count.
PYTHONPATH="$work/site" "$work/bin/qemu-aarch64-static" -L "$work/root" "$work/root/usr/bin/python3.11" \
  -c "import numpy, ai_edge_litert.interpreter" \
  || { echo "arm64: the guest's Python cannot import ai_edge_litert" >&2; exit 1; }
LD_LIBRARY_PATH="$work/qemu/usr/lib/x86_64-linux-gnu" "$work/qemu/usr/bin/qemu-aarch64" \
  -plugin "$work/plugin/insn_count.so" -d plugin -D "$work/count.txt" -L "$work/root" \
  "$work/root/usr/bin/python3.11" -S -c "pass"
grep -q '^insns: [0-9]' "$work/count.txt" || { echo "arm64: the counting plugin printed no count" >&2; exit 1; }
{
  echo "qemu-user-static $(dpkg-query -W -f='${Version}' qemu-user-static 2>/dev/null || echo unknown)"
  for deb in "$work/debs"/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
  PYTHONPATH="$work/site" python3 -m pip list --path "$work/site" --format=freeze 2>/dev/null
} > "$work/versions.txt"
rm -rf "$work/debs" "$work/wheels" "$work/count.txt"
echo "arm64: downloaded $(( downloaded / 1000000 )) MB (packages and wheels), $(du -sm "$work" | cut -f1) MiB on disk"

rm -rf "$HOME_DIR"
mv "$work" "$HOME_DIR"
trap - EXIT
touch "$HOME_DIR/.complete"
echo "arm64: installed in $HOME_DIR in $(( $(date +%s) - start )) s"
