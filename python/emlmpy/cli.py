"""Command line: `python -m emlmpy convert INPUT -o OUT [--format csv|bin] [--dtype float|int16]
[--leaf-bits 0|8|32]` and `python -m emlmpy info FILE`. INPUT is an estimator saved with joblib, or
a model file (emlmpy version 1 or 2, emlearn's CSV, a linear model's EMLL file) to write again. A KMeans or
MiniBatchKMeans estimator gives its float32 cluster centers (any output name but .csv); a linear
estimator its EMLL file (docs/model-format.md §6; any output name but .csv).
Exit status 0 on success, 1 on bad input (one line on stderr, never a traceback), 2 on usage errors.
Imports: argparse, os, sys, joblib, errors, files, io, convert, kmeans, linear."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, TextIO

import joblib

from .convert import convert
from .errors import ConversionError, ModelFormatError
from .files import format_for_path, write_atomic
from .io import KMEANS_HINT, Model, is_model_content, loads
from .kmeans import KMeansModel
from .linear import LinearModel

DESCRIPTION = ("Convert a fitted scikit-learn estimator (saved with joblib.dump) into a model file the "
               "emlmpy MicroPython modules load (convert), or print what a model file holds (info).")
DEVICE_BYTES_NOTE = "model arrays; the emltrees object adds its header"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emlmpy", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="convert a joblib-saved fitted estimator (or an older model "
                                       "file) into a model file")
    c.add_argument("model", help="estimator saved with joblib.dump, or a model file (CSV/bin)")
    c.add_argument("-o", "--output", required=True, help="output file (.csv or .bin)")
    c.add_argument("--format", choices=("csv", "bin"), default=None,
                   help="file format (default: from the output extension, .bin/.csv in any case, else csv)")
    c.add_argument("--dtype", choices=("float", "int16"), default=None,
                   help="device input type (estimators only; default float)")
    c.add_argument("--leaf-bits", type=int, default=None, choices=(0, 8, 32),
                   help="classifier leaves (estimators only): 0 class index, 8 proportions in 1/255, "
                        "32 exact proportions (default)")
    i = sub.add_parser("info", help="print kind, counts, device bytes and the device call of a model file "
                                    "(trees, k-NN, linear; not a k-means centers file, which has no header)")
    i.add_argument("file")
    return p


def print_info(info: dict, out: TextIO) -> None:
    for k, v in info.items():
        note = f"  ({DEVICE_BYTES_NOTE})" if k == "device_bytes" and info.get("kind") == "trees" else ""
        print(f"{k}: {v}{note}", file=out)


def _read(path: str) -> bytes:
    if not os.path.exists(path):
        raise ConversionError(f"no such file: {path}")
    with open(path, "rb") as fh:
        return fh.read()


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    return os.path.exists(b) and os.path.samefile(a, b)


def _convert(args: argparse.Namespace) -> int:
    data = _read(args.model)
    if _same_file(args.model, args.output):
        raise ConversionError(f"output {args.output} is the input file: choose another output name")
    model: Model
    if is_model_content(data):
        if args.dtype is not None or args.leaf_bits is not None:
            raise ConversionError(f"{args.model} is a model file: --dtype and --leaf-bits apply to "
                                  "estimators (re-convert the estimator to change them)")
        model = loads(data, path=args.model)
    else:
        try:
            estimator = joblib.load(args.model)
        except Exception as e:  # pickle/joblib raise many kinds
            raise ConversionError(f"cannot read {args.model}: neither a model file nor a joblib/pickle "
                                  f"file ({type(e).__name__}: {e}); {KMEANS_HINT}") from None
        model = convert(estimator, dtype=args.dtype or "float", leaf_bits=args.leaf_bits)
    if isinstance(model, KMeansModel):  # raw float32 centers (docs/model-format.md §5): no csv
        if args.format == "csv" or (args.format is None and format_for_path(args.output) == "csv"):
            raise ConversionError("k-means centers are written as a float32 array file: use a .bin output")
        write_atomic(args.output, model.tobytes())
        print(f"wrote {args.output} (float32 cluster centers)")
        print_info(model.info(), sys.stdout)
        return 0
    if isinstance(model, LinearModel):  # the EMLL binary file (docs/model-format.md §6): no csv
        if args.format == "csv" or (args.format is None and format_for_path(args.output) == "csv"):
            raise ConversionError("linear models are written as an EMLL binary file: use a .bin output")
        write_atomic(args.output, model.tobytes())
        print(f"wrote {args.output} (EMLL linear model)")
        print_info(model.info(), sys.stdout)
        return 0
    fmt = args.format or format_for_path(args.output) or "csv"
    write_atomic(args.output, model.save(format=fmt))
    print(f"wrote {args.output} ({fmt})")
    print_info(model.info(), sys.stdout)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "convert":
            return _convert(args)
        print_info(loads(_read(args.file), path=args.file).info(), sys.stdout)
        return 0
    except (ConversionError, ModelFormatError, OSError) as e:
        print(f"emlmpy: error: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("emlmpy: interrupted", file=sys.stderr)
    except Exception as e:  # a bug: still one line, no traceback
        print(f"emlmpy: error: internal error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
    return 1
