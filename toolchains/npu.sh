#!/usr/bin/env bash
# `make toolchain-npu`: the Qualcomm NPU compiler (LiteRT AOT) and the QNN HTP emulator, in their own venv.
#
# Why a separate venv: onnx2tf (main env) pins ai-edge-litert==2.1.0 and numpy 1.26; the AOT compiler needs
# ai-edge-litert 2.3.0 (numpy 2.x). convert calls this env as a subprocess (converters/npu_compile.py).
# Qualcomm's QNN 2.51 x86_64 host libraries come from the onnxruntime-qnn wheel on PyPI, installed into the
# venv under Qualcomm's licence; nothing of theirs is ever copied into the repository.
# LiteRT's Qualcomm plugin lists libQnnLpai.so as DT_NEEDED but never calls it, and no registry package
# ships one (ai-edge-litert-sdk-qualcomm downloads the SDK from a vendor site at install time, which fails
# offline), so an empty shared object built here satisfies the loader.
# Idempotent: exits at once when .complete exists; builds in a temporary folder, moves it into place,
# writes .complete last.
set -euo pipefail

PY="${PY:-python3.11}"
ROOT="${PCARN_TOOLCHAINS:-$HOME/.cache/pcarn-mobile}"
DEST="$ROOT/npu"
PACKAGES=(ai-edge-litert==2.3.0 onnxruntime==1.32.0 onnx onnxruntime-qnn==2.7.0)

if [ -f "$DEST/.complete" ]; then
  echo "npu toolchain already installed in $DEST"
  exit 0
fi
command -v "$PY" >/dev/null || { echo "npu toolchain: $PY not found (set PY=...)" >&2; exit 1; }
command -v cc >/dev/null || { echo "npu toolchain: a C compiler (cc) is needed for the libQnnLpai.so stand-in" >&2; exit 1; }

mkdir -p "$ROOT"
TMP="$(mktemp -d "$ROOT/.npu.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# After the move only the venv's console scripts keep the temporary path in their shebangs; bin/python
# finds its site-packages relative to itself, and everything here calls `venv/bin/python -m ...`.
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"

mkdir -p "$TMP/lib"
printf '/* Stand-in: LiteRT Qualcomm plugin needs this soname loaded, never calls it. */\n' > "$TMP/lib/empty.c"
cc -shared -fPIC -o "$TMP/lib/libQnnLpai.so" "$TMP/lib/empty.c"
rm "$TMP/lib/empty.c"

# Smoke check: the compiler imports and the QNN host libraries are where converters/npu_env.py looks.
"$TMP/venv/bin/python" - <<'EOF'
import pathlib, onnxruntime_qnn
from ai_edge_litert.aot import aot_compile  # noqa: F401
from ai_edge_litert.aot.vendors.qualcomm.target import SocModel  # noqa: F401
qnn = pathlib.Path(onnxruntime_qnn.__file__).parent
assert next(qnn.rglob("libQnnHtp.so"), None), f"libQnnHtp.so not found under {qnn}"
EOF

rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
"$DEST/venv/bin/python" -c "import ai_edge_litert, onnxruntime_qnn"
touch "$DEST/.complete"
echo "npu toolchain installed in $DEST"
