"""Why did the model say that? Grad-CAM maps, the MK line list, and figures.

* :func:`gradcam` — maps ``(N, npix)`` in [0, 1] on the model grid (tf-keras-vis:
  Grad-CAM, Grad-CAM++, Score-CAM, LayerCAM, HiResCAM); :func:`gradcam_reference`
  is an independent ``GradientTape`` Grad-CAM used to cross-check the dependency.
* :mod:`~specnet.explain.lines` — the MK lines and bands in vacuum Å.
* :mod:`~specnet.explain.plots` — a spectrum coloured by its map; per-class mean maps.
* :func:`explain_files` — the batch job behind ``specnet explain``.

>>> from specnet.explain import lines_in
>>> [line.label for line in lines_in(4800, 4900)]
['Hβ']
"""
from specnet.explain.lines import (CLASS_FEATURES, LINES, MK_CLASSES, Line, get_lines, lines_in,
                                   window_mask)
from specnet.explain.gradcam import METHODS, gradcam, gradcam_reference, upsample_map
from specnet.explain.graph import default_layer_name, split_at
from specnet.explain.plots import plot_class_means, plot_explanation, save_figure
from specnet.explain.batch import explain_files

__all__ = ["gradcam", "gradcam_reference", "explain_files", "plot_explanation", "plot_class_means",
           "save_figure", "default_layer_name", "split_at", "upsample_map", "METHODS", "LINES", "Line",
           "CLASS_FEATURES", "MK_CLASSES", "get_lines", "lines_in", "window_mask"]
