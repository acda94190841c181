"""ARM64 figures that do not depend on this machine's load, from LiteRT's aarch64 kernels under qemu.

- ``python -m benchmarks.arm.counts``: guest instructions per inference and per output megapixel,
  per emulated core, for the trade-off study's group counts, precisions and tile sizes, into
  ``benchmarks/RESULTS.md`` beside the x86 milliseconds (``converters.arm64_runner.count_instructions``).
- ``python -m benchmarks.arm.fp16``: an fp16 file computed in half precision (XNNPACK's fp16 hint)
  on an ARMv8.2 core, against PyTorch on photo tiles and Set5 tiles, next to the default
  fp32-compute result.

Both need ``make toolchain-arm64``; both cache under ``runs/arm/``.
"""
