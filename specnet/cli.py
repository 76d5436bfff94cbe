"""Command-line interface: thin click commands over the library (no logic here).

``specnet`` is one command group (``demo``, ``fit``, ``predict``, ``explain``,
``zoo list/info``, ``simulate``, ``ingest``, ``read``, ``formats``);
``specnet-fit`` and ``specnet-predict`` are the same commands stand-alone.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRECISIONS = ["auto", "float32", "mixed_float16", "mixed_bfloat16"]


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="specnet-stars")
def main():
    """specnet: MK spectral types for LAMOST and SDSS spectra.

    \b
    Example:
      specnet demo --output specnet-demo
      specnet zoo list
      specnet predict resnet-lamost spectra/*.fits --output types.csv
    """


# ---------------------------------------------------------------- demo
@main.command()
@click.option("--output", default="specnet-demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the mock files, the trained model, predictions and report.")
@click.option("--n", "n_spectra", default=1500, show_default=True, help="Mock spectra to train on.")
@click.option("--epochs", default=12, show_default=True)
@click.option("--seed", default=0, show_default=True)
def demo(output, n_spectra, epochs, seed):
    """The main job on the embedded default, end to end, with no external file.

    Simulates a mock LAMOST survey from the built-in templates, trains the ResNet
    subtype regressor on it, writes 60 new mock spectra as real LAMOST FITS files,
    classifies them with the trained model through the FITS readers, and prints
    the result next to the truth.

    \b
    Example:
      specnet demo --output specnet-demo --epochs 12
    """
    from specnet.demo import demo_spectra
    from specnet.metrics import regression_metrics
    from specnet.predict import predict_files
    from specnet.train import fit

    out = Path(output)
    click.echo(f"[1/3] training resnet_regressor on {n_spectra} mock LAMOST spectra (built-in templates)")
    try:
        res = fit("resnet_regressor", demo=True, demo_size=n_spectra, epochs=epochs, seed=seed,
                  output=out / "run", overwrite=True, name="resnet-demo", verbose=2)
    except (ValueError, FileExistsError) as exc:
        _fail(exc)
    click.echo(f"      test MAE {res.metrics['mae']:.2f} subtypes; model in {res.model_dir}")
    click.echo("[2/3] writing 60 new mock spectra as LAMOST DR2-DR8 FITS files")
    _, cat = demo_spectra(60, seed=seed + 1000, out_dir=out / "mock_fits")
    click.echo("[3/3] classifying the FITS files with the trained model (specnet-predict)")
    pred_csv = out / "predictions.csv"
    if pred_csv.exists():
        pred_csv.unlink()
    predict_files(res.model_dir, out / "mock_fits" / "catalogue.csv", pred_csv, progress=False)
    from astropy.table import Table

    pred = Table.read(pred_csv, format="ascii.csv")
    truth = {Path(p).name: s for p, s in zip(cat["path"], cat["subtype"])}
    y_true = [truth[Path(p).name] for p in pred["path"]]
    m = regression_metrics(y_true, list(pred["subtype"]))
    click.echo(f"\n{'file':<34}{'true':>6}{'pred':>7}  flags")
    for row, t in list(zip(pred, y_true))[:12]:
        click.echo(f"{Path(row['path']).name:<34}{_fmt(t):>6}{row['label']:>7}  {row['flags'] or ''}")
    click.echo(f"... {len(pred)} files: MAE {m['mae']:.2f} subtypes, {m['within_1']:.0%} within 1 subtype")
    click.echo(f"report: {res.report_dir / 'report.md'}   predictions: {pred_csv}")


def _fmt(x: float) -> str:
    from specnet.labels import format_subtype

    return format_subtype(x)


# ---------------------------------------------------------------- fit
@main.command("fit")
@click.argument("arch_or_name")
@click.option("--train", "train", type=click.Path(exists=True), help="Catalogue CSV, FITS folder or shard folder.")
@click.option("--val", type=click.Path(exists=True))
@click.option("--test", type=click.Path(exists=True))
@click.option("--demo", is_flag=True, help="Train on the embedded demo set (no files needed).")
@click.option("--demo-size", default=1500, show_default=True)
@click.option("--epochs", default=20, show_default=True)
@click.option("--batch-size", default=32, show_default=True)
@click.option("--lr", default=1e-3, show_default=True, type=float)
@click.option("--kernel-size", type=int, help="Convolution kernel (ResNet: 3, 5, 7 or 9).")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True)
@click.option("--output", default="specnet-run", show_default=True, type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace a finished run in --output.")
@click.option("--patience", default=5, show_default=True, help="Early-stopping patience (epochs).")
@click.option("--survey", type=click.Choice(["lamost-lrs", "sdss"]), help="Input grid for a new architecture.")
@click.option("--classes", help="Comma-separated class names for a new classifier, e.g. K1,K3,K5,K7.")
@click.option("--name", help="Name written into the model's manifest.")
@click.option("--config", "config_json", help='Builder overrides as JSON, e.g. \'{"widths": [8, 16, 16, 16]}\'.')
@click.option("--augment", is_flag=True,
              help="Augment training spectra in-graph: noise, RV shifts, calibration tilts, masked runs.")
@click.option("--tensorboard", is_flag=True)
def fit_cmd(arch_or_name, classes, config_json, augment, **kw):
    """Train an architecture or fine-tune a zoo model (ARCH_OR_NAME).

    Ends with OUTPUT/model (load it with specnet.zoo.load) and OUTPUT/report.

    \b
    Examples:
      specnet-fit resnet_regressor --demo --epochs 5 --output runs/demo
      specnet-fit resnet-lamost --train my_labels.csv --epochs 30 --output runs/ft
      specnet-fit bert_cnn --classes K1,K3,K5,K7 --train k.csv --val kval.csv
    """
    from specnet.train import fit

    try:
        config = json.loads(config_json) if config_json else None
        aug = None
        if augment:
            from specnet.data import AugmentConfig

            aug = AugmentConfig(seed=kw["seed"])
        res = fit(arch_or_name, classes=classes.split(",") if classes else None, config=config, augment=aug,
                  verbose=2, **kw)
    except (ValueError, FileExistsError) as exc:
        _fail(exc)
    click.echo(json.dumps(res.metrics, indent=2, default=str)[:2000])
    click.echo(f"model: {res.model_dir}\nreport: {res.report_dir / 'report.md'}")


# ---------------------------------------------------------------- predict
@main.command("predict")
@click.argument("model")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--catalog", type=click.Path(exists=True), help="CSV with a 'path' column, instead of FILES.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="OUT.csv, OUT.fits or OUT.parquet")
@click.option("--batch-size", default=256, show_default=True)
@click.option("--jobs", "n_jobs", default=1, show_default=True, help="Reader processes (-1: all cores).")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Rejects CSV (default OUT.rejects.csv).")
def predict_cmd(model, files, catalog, output, batch_size, n_jobs, rejects):
    """Classify FITS FILES (or a --catalog) with MODEL (zoo name or model folder).

    Streams and writes as it goes; a rerun resumes, skipping rows already written;
    unreadable files go to the rejects CSV with the reason.

    \b
    Example:
      specnet-predict resnet-lamost spec-*.fits --output types.csv
      specnet-predict runs/ft/model --catalog all.csv --output types.fits --jobs -1
    """
    from specnet.predict import predict_files

    if not files and not catalog:
        raise click.UsageError("give FILES or --catalog")
    try:
        stats = predict_files(model, catalog or list(files), output, batch_size=batch_size,
                              n_jobs=n_jobs, rejects=rejects)
    except ValueError as exc:
        _fail(exc)
    click.echo(f"{stats['written']} written, {stats['skipped']} already done, {stats['rejected']} rejected "
               f"-> {stats['output']} (rejects: {stats['rejects']})")


# ---------------------------------------------------------------- explain
@main.command("explain")
@click.argument("model")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--output", required=True, type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(["hirescam", "gradcam", "gradcam++", "scorecam", "layercam"]),
              default="hirescam", show_default=True,
              help="HiResCAM equals Grad-CAM on the ResNet and, unlike it, localises on the "
                   "Flatten-head CNN and BERT-CNN classifiers.")
def explain_cmd(model, files, output, method):
    """Grad-CAM maps for FILES with MODEL: one PNG each, maps.npz/csv, class means.

    \b
    Example:
      specnet explain resnet-lamost spec-*.fits --output cams/
    """
    from specnet.explain import explain_files

    try:
        res = explain_files(model, list(files), output, method=method)
    except ValueError as exc:
        _fail(exc)
    click.echo(json.dumps(res, indent=2, default=str)[:2000])


# ---------------------------------------------------------------- zoo
@main.group()
def zoo():
    """List and describe the pretrained models.

    \b
    Example:
      specnet zoo list 'bertcnn-*'
      specnet zoo info resnet-lamost
    """


@zoo.command("list")
@click.argument("pattern", default="*")
def zoo_list(pattern):
    """Names of zoo entries matching PATTERN (wildcards)."""
    from specnet import zoo as z

    for name in z.list(pattern):
        m = z.info(name)
        trained = "trained" if m.get("weights") else "untrained"
        click.echo(f"{name:<18} {m['architecture']:<18} {m['task']:<15} {trained}")


@zoo.command("info")
@click.argument("name")
def zoo_info(name):
    """The manifest of NAME: grid, normalisation, labels, metrics, provenance."""
    from specnet import zoo as z

    try:
        click.echo(z.format_info(name))
    except ValueError as exc:
        _fail(exc)


# ---------------------------------------------------------------- simulate / ingest / read
@main.command()
@click.option("--library", default="builtin", show_default=True,
              help="'builtin' or a template file/folder (e.g. ../shared/data/templates).")
@click.option("--n", "n_spectra", default=1000, show_default=True)
@click.option("--profile", default="lamost-lrs", show_default=True)
@click.option("--snr", default="5,100", show_default=True, help="S/N range lo,hi.")
@click.option("--layout", type=click.Choice(["lamost-dr2", "lamost-dr9", "sdss-spec"]), default="lamost-dr2",
              show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--output", required=True, type=click.Path(file_okay=False))
def simulate(library, n_spectra, profile, snr, layout, seed, output):
    """Write a mock survey as real-format FITS files plus catalogue.csv.

    \b
    Example:
      specnet simulate --library ../shared/data/templates --n 5000 --output mock/
    """
    from specnet.simulate import TemplateLibrary, builtin_library, mock_survey

    lib = builtin_library() if library == "builtin" else TemplateLibrary.from_path(library)
    lo, hi = (float(v) for v in snr.split(","))
    mock_survey(lib, n_spectra, profile=profile, snr=(lo, hi), seed=seed, out_dir=output, layout=layout,
                return_spectra=False)
    click.echo(f"{n_spectra} spectra from {len(lib)} templates -> {output}/catalogue.csv")


@main.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--model", default="resnet-lamost", show_default=True,
              help="Zoo name or model folder whose grid and normalisation to use.")
@click.option("--output", required=True, type=click.Path(file_okay=False))
@click.option("--jobs", "n_jobs", default=-1, show_default=True)
@click.option("--shard-size", default=4096, show_default=True)
def ingest(source, model, output, n_jobs, shard_size):
    """Preprocess a catalogue CSV or folder of FITS into training shards.

    \b
    Example:
      specnet ingest labels.csv --model resnet-lamost --output shards/
    """
    import warnings

    from specnet import data, zoo as z
    from specnet.zoo.manifest import preprocess_config

    m = z.info(model) if not Path(model).is_dir() else json.loads((Path(model) / "manifest.json").read_text())
    classes = m["labels"].get("classes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = data.ingest(source, preprocess_config(m), output, task=m["task"],
                          classes=classes, shard_size=shard_size, n_jobs=n_jobs)
    click.echo(str(res))


@main.command("read")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def read_cmd(files):
    """Identify and summarise spectrum FILES (layout, class, coverage, S/N).

    \b
    Example:
      specnet read spec-55862-B6212_sp06-003.fits
    """
    from specnet.io import SpectrumFormatError, read_spectra

    status = 0
    for f in files:
        try:
            for s in read_spectra(f):
                click.echo(repr(s))
        except SpectrumFormatError as exc:
            click.echo(f"error: {exc}", err=True)
            status = 1
    sys.exit(status)


@main.command("formats")
def formats_cmd():
    """The file layouts specnet reads, highest priority first."""
    from specnet.io import formats, get_format

    for name in formats():
        click.echo(f"{name:<16} {get_format(name).description}")


def fit_main():  # console script ``specnet-fit``
    fit_cmd(prog_name="specnet-fit")


def predict_main():  # console script ``specnet-predict``
    predict_cmd(prog_name="specnet-predict")


if __name__ == "__main__":  # python -m specnet.cli ...
    main()
