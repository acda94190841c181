#!/usr/bin/env bash
# Swift 6 for the iOS core on Linux: a Debian trixie root (Debian 13 packages `swiftlang` 6.0.3;
# bookworm has no Swift) made with debootstrap from the Debian mirror already in apt's sources, with
# `swiftlang` and `libc6-dev` (swiftlang does not pull the libc headers; without them every
# `import Foundation` fails with "libc not found"). Cached in $PCARN_TOOLCHAINS/swift/root, outside
# the repository; idempotent (`.complete` is written last). benchmarks/appcores/swift.py builds and
# tests the packages inside this root.
#
# /proc, /sys, /dev and /dev/pts are bind-mounted into the root only while apt runs in it, each time
# in a private mount namespace (unshare --mount): the kernel drops them when that command ends, on
# any exit path, and nothing is mounted on the host. The temporary root is never removed while
# anything is mounted in it.
set -euo pipefail

CACHE="${PCARN_TOOLCHAINS:-$HOME/.cache/pcarn-mobile}"
HOME_DIR="$CACHE/swift"
[ -f "$HOME_DIR/.complete" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "toolchains/swift.sh: debootstrap and chroot need root; run it as root (CI does)" >&2
  exit 1
fi

# The Debian mirror apt already uses (deb822 `URIs:` or one-line `deb URL suite ...`); never a name
# written here. The security archive is a different layout, so it is skipped.
mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local f
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    awk '
      /^[ \t]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
      /^[ \t]*deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }
    ' "$f"
  done | grep -E '/debian/?$' | grep -v security | head -n 1
}
MIRROR="$(mirror || true)"
if [ -z "$MIRROR" ]; then
  echo "toolchains/swift.sh: no Debian mirror found in /etc/apt/sources.list(.d)" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  # Another engineer's apt may hold the lock: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq debootstrap >/dev/null \
    || { apt-get -o DPkg::Lock::Timeout=900 update -qq \
         && apt-get -o DPkg::Lock::Timeout=900 install -y -qq debootstrap >/dev/null; }
fi

mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/swift.tmp.XXXXXX")"
ROOT="$TMP/root"
still_mounted() {
  grep -qF " $TMP/" /proc/self/mounts
}

cleanup() {
  if still_mounted; then
    echo "toolchains/swift.sh: something is still mounted under $TMP; left in place, not removed" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "swift: debootstrap trixie from $MIRROR" >&2
debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 \
  || { tail -n 20 "$TMP/debootstrap.log" >&2; exit 1; }

cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# Runs a command in the root with /proc, /sys, /dev and /dev/pts bound, in its own mount namespace.
in_root() {
  DEBIAN_FRONTEND=noninteractive unshare --mount --propagation private bash -c '
    root=$1; shift
    for m in proc sys dev dev/pts; do mount --bind "/$m" "$root/$m" || exit 1; done
    exec chroot "$root" "$@"' in_root "$ROOT" "$@"
}
echo "swift: apt-get install swiftlang libc6-dev in the root" >&2
in_root apt-get update -qq
in_root apt-get install -y --no-install-recommends swiftlang libc6-dev >"$TMP/apt.log" 2>&1 \
  || { tail -n 20 "$TMP/apt.log" >&2; exit 1; }
in_root apt-get clean
VERSION="$(in_root swift --version 2>&1 | head -n 1)"
echo "$VERSION" > "$TMP/VERSION"
echo "swift: $VERSION" >&2

rm -rf "$HOME_DIR"
mv "$TMP" "$HOME_DIR"
TMP="$HOME_DIR"  # cleanup() must not remove the installed root now
trap - EXIT
touch "$HOME_DIR/.complete"
