"""Morpho-MNIST: morphometrics, perturbations and datasets for any MNIST-like images.

Examples
--------
>>> import numpy as np
>>> from mnistlab.execution import Execution
>>> from mnistlab.morpho import measure, Thinning
>>> img = np.zeros((1, 28, 28), np.uint8); img[0, 4:24, 12:16] = 255
>>> list(measure(img, execution=Execution("serial")).columns)
['index', 'area', 'length', 'thickness', 'slant', 'width', 'height']
>>> Thinning(amount=0.7)(img).shape
(1, 28, 28)
"""

from mnistlab.morpho.datasets import KINDS, perturb, write_dataset
from mnistlab.morpho.measure import COLUMNS, measure, measure_morphology
from mnistlab.morpho.morphology import Morphology, downscale, medial_axis, morphology, upscale
from mnistlab.morpho.perturb import (
    PERTURBATIONS,
    Fracture,
    Perturbation,
    Plain,
    Swelling,
    Thickening,
    Thinning,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "PERTURBATIONS",
    "Fracture",
    "Morphology",
    "Perturbation",
    "Plain",
    "Swelling",
    "Thickening",
    "Thinning",
    "downscale",
    "measure",
    "measure_morphology",
    "medial_axis",
    "morphology",
    "perturb",
    "upscale",
    "write_dataset",
]
