"""One module per family; importing this package registers every corruption."""

from mnistlab.corrupt.families import (  # noqa: F401  (imported to register)
    affine,
    blur,
    digital,
    edge,
    noise,
    orientation,
    overlay,
    photometric,
)
