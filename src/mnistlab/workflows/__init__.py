"""Workflows: the code that composes several domain packages over run directories.

:mod:`mnistlab.workflows.compare` compares models of one or several runs;
:mod:`mnistlab.workflows.study_models` resolves the models of a study (registered names,
ONNX files, logits files, the corruption-augmented model).
"""
