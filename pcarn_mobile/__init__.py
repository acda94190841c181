"""pcarn-mobile: PCARN-M super-resolution from PyTorch to phones (TFLite, Core ML)."""
__version__ = "0.1.0"
