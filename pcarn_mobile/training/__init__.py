"""Training PCARN / PCARN-M: stage one (L1) and stage two (multi-scale GAN + VGG19 loss).

The CLI is :mod:`pcarn_mobile.train`; the pieces live here in small modules:

* :mod:`.data`: HR folders -> cached MATLAB-bicubic LR -> random augmented patch batches, with a
  sampling state that is saved and restored so that a resumed run sees the same batches;
* :mod:`.config`: the run's options and the two recipes (short CPU runs, the paper's 600k steps);
* :mod:`.state`: ``last.pt`` (everything --resume needs) and ``best.pt`` (project checkpoint format);
* :mod:`.distributed`: torchrun / DistributedDataParallel set-up;
* :mod:`.gan`: the paper's discriminators and the VGG19 feature extractor;
* :mod:`.engine`: the loop (progress bar, validation, CSV log, signals);
* :mod:`.ship`: turns a run into the embedded default weights and their model card.
"""
