"""Format back-ends (ONNX, TFLite, Core ML) and runners for their artifacts.

They take a ``torch.nn.Module`` plus plain options and never import ``pcarn_mobile``, so that
the dependency arrows point one way: CLI -> model/weights and converters.
"""

#: The one input and one output name every exported file uses (ONNX graph, TFLite tensors and
#: signature, Core ML features), so an app or harness hard-codes them once for every format.
INPUT_NAME, OUTPUT_NAME = "lr", "sr"
