"""Speed, size and quality figures, printed with the machine they ran on; ``python -m benchmarks.<name>``."""
