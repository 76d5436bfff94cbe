"""Make the Grad-CAM figures of the docs' "Explanations" page (``docs/_static/explain_*.png``).

What it does, with nothing but the package (no external data):

1. builds the ``resnet-lamost`` zoo architecture (its manifest's config and
   preprocessing) and trains it on mock LAMOST spectra of the embedded demo set
   (:func:`specnet.demo.demo_spectra`, built-in templates), split 7:1:2;
2. saves and reloads it as a model folder (:func:`specnet.zoo.save`,
   :func:`specnet.zoo.load`), draws new mock A, F, G and K stars (another
   seed) and computes their Grad-CAM maps with :func:`specnet.explain.gradcam`;
3. writes ``explain_spectrum.png`` (one K star coloured by its map, MK lines
   marked: :func:`specnet.explain.plots.plot_explanation`) and
   ``explain_class_means.png`` (mean map per class, as Wang et al. 2021 Fig. 4:
   :func:`specnet.explain.plots.plot_class_means`).

Run from the repository root (about 8 minutes on 2 CPU cores with the defaults)::

    .venv/bin/python docs/scripts/make_explain_figures.py

``--quick`` trains a toy network in seconds (to check the script, not for the
figures that are committed).
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

STATIC = Path(__file__).resolve().parents[1] / "_static"
#: Subtypes of the spectra explained in the figures, several per class A, F, G, K.
SUBTYPES = ["A1", "A3", "A5", "A7", "F1", "F3", "F5", "F7", "G1", "G3", "G5", "G7", "K1", "K3", "K5", "K7"]
#: A toy ResNet for ``--quick``.
TOY_CONFIG = {"widths": [8, 8, 8, 8], "blocks_per_stage": 1, "stem_filters": 8, "head_units": 16}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=STATIC, help="folder for the PNG files")
    parser.add_argument("--n-train", type=int, default=1500, help="mock spectra to train, validate and test on")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--per-subtype", type=int, default=6, help="mock spectra per subtype explained")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="toy network and few spectra (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.epochs, args.per_subtype = 200, 1, 1

    import keras
    import numpy as np

    from specnet import models, zoo
    from specnet.demo import demo_spectra
    from specnet.explain import gradcam
    from specnet.explain.plots import plot_class_means, plot_explanation, save_figure
    from specnet.labels import format_subtype
    from specnet.metrics import regression_metrics
    from specnet.preprocess import preprocess
    from specnet.simulate.splits import stratified_split

    t0 = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    manifest = copy.deepcopy(zoo.info("resnet-lamost"))
    manifest["name"] = "resnet-demo"
    if args.quick:
        manifest["config"].update(TOY_CONFIG)
    pre = zoo.preprocess_config(manifest)

    spectra, cat = demo_spectra(args.n_train, seed=args.seed)
    X, _ = preprocess(spectra, pre)
    y = np.asarray(cat["subtype"], np.float32)
    train, val, test = stratified_split(y, seed=args.seed)
    net = models.build(manifest["architecture"], **manifest["config"])
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=models.default_loss(manifest["architecture"]))
    # the default ResNet needs ~15+ epochs on this set before its validation error drops
    # (BatchNorm statistics settle late); keep the best epoch
    best = keras.callbacks.EarlyStopping(monitor="val_loss", patience=8, restore_best_weights=True)
    net.fit(X[train], y[train], validation_data=(X[val], y[val]), epochs=args.epochs, batch_size=32,
            callbacks=[best], verbose=0)
    mae = regression_metrics(y[test], net.predict(X[test], verbose=0)[:, 0])["mae"]
    print(f"trained on {len(train)} mock spectra in {time.perf_counter() - t0:.0f} s: test MAE {mae:.2f} subtypes")

    with tempfile.TemporaryDirectory() as tmp:
        manifest["training"] = {"data": f"embedded demo set, n={args.n_train}, split 7:1:2",
                                "epochs": args.epochs, "seed": args.seed}
        manifest["metrics"] = {"test": {"mae": float(mae)}}
        zoo.save(net, manifest, Path(tmp) / "model")
        model = zoo.load(Path(tmp) / "model")

        classes = [s for s in SUBTYPES for _ in range(args.per_subtype)]
        new, new_cat = demo_spectra(len(classes), classes=classes, snr=(30, 100), seed=args.seed + 1000)
        maps = gradcam(model, new)
        Xn, _ = preprocess(new, model.preprocess_config)
        pred = model.classify(Xn)["subtype"]
    wave = model.preprocess_config.grid.wave
    truth = np.asarray(new_cat["subtype"], float)
    k = int(np.argmin(np.abs(truth - 55.0)))                       # a mid-K star
    title = (f"mock LAMOST spectrum, true {format_subtype(truth[k])}, predicted "
             f"{format_subtype(float(pred[k]), 1)} (ResNet trained on the demo set)")
    args.out.mkdir(parents=True, exist_ok=True)
    one = save_figure(plot_explanation(wave, Xn[k, :, 0], maps[k], title=title), args.out / "explain_spectrum.png")
    means = save_figure(plot_class_means(wave, maps, truth, classes=("A", "F", "G", "K"), fluxes=Xn[..., 0]),
                        args.out / "explain_class_means.png")
    print(f"wrote {one} and {means} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
