"""Write results/mpy_sizes.csv: the size in bytes of every dist/<arch>/<module>.mpy."""
import csv
from pathlib import Path

from modules import MODULES

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    arches = sorted(p.name for p in (ROOT / "dist").iterdir() if p.is_dir())
    out = ROOT / "benchmarks" / "results" / "mpy_sizes.csv"
    out.parent.mkdir(exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", *MODULES])
        for arch in arches:
            row = [arch]
            for m in MODULES:
                p = ROOT / "dist" / arch / f"{m}.mpy"
                row.append(p.stat().st_size if p.exists() else "")
            w.writerow(row)
            print(row)


if __name__ == "__main__":
    main()
