"""Format back-ends (ONNX, TFLite, Core ML) and runners for their artifacts.

They take a ``torch.nn.Module`` plus plain options and never import ``pcarn_mobile``, so that
the dependency arrows point one way: CLI -> model/weights and converters.
"""
