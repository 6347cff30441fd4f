"""Command line: `python -m emlmpy convert MODEL.joblib -o OUT [--format csv|bin] [--dtype int16]`
and `python -m emlmpy info FILE`. Exit status 0 on success, 1 on bad input, 2 on usage errors."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .convert import convert
from .errors import ConversionError, ModelFormatError
from .io import load


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emlmpy", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="convert a joblib-pickled fitted estimator into a model file")
    c.add_argument("model", help="estimator saved with joblib.dump")
    c.add_argument("-o", "--output", required=True, help="output file (.csv or .bin)")
    c.add_argument("--format", choices=("csv", "bin"), default=None,
                   help="file format (default: from the output extension, else csv)")
    c.add_argument("--dtype", choices=("float", "int16"), default="float", help="device input type")
    c.add_argument("--leaf-bits", type=int, default=None, choices=(0, 8, 32),
                   help="classifier leaves: 0 class index, 8 uint8 proportions, 32 float32 (default)")
    i = sub.add_parser("info", help="print kind, counts and device bytes of a model file")
    i.add_argument("file")
    return p


def _print_info(info: dict, out) -> None:
    for k, v in info.items():
        print(f"{k}: {v}", file=out)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "convert":
            import joblib
            if not os.path.exists(args.model):
                raise FileNotFoundError(f"no such file: {args.model}")
            try:
                estimator = joblib.load(args.model)
            except Exception as e:  # pickle/joblib raise many kinds
                raise ValueError(f"cannot read {args.model} with joblib: {type(e).__name__}: {e}") from None
            fmt = args.format or ("bin" if args.output.endswith(".bin") else "csv")
            model = convert(estimator, dtype=args.dtype, leaf_bits=args.leaf_bits)
            model.save(file=args.output, format=fmt)
            print(f"wrote {args.output} ({fmt})", file=sys.stdout)
            _print_info(model.info(), sys.stdout)
        else:
            _print_info(load(args.file).info(), sys.stdout)
    except (ConversionError, ModelFormatError, ValueError, OSError) as e:
        print(f"emlmpy: error: {e}", file=sys.stderr)
        return 1
    return 0
