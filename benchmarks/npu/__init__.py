"""Benchmarks of files compiled for Qualcomm NPUs (``convert --npu``): what the compiler reports, shaped and not."""
