"""The seed's chart from real firmware: results/boards_chart.csv drawn as samples per second at
RP2040's 125 MHz, assuming one instruction per cycle (benchmarks/bench_boards.py writes the CSV)."""
from __future__ import annotations

import csv
from pathlib import Path


def draw(csv_path: Path, png_path: Path, firmware: str) -> None:
    """firmware: what ran, for the title (e.g. the board's sys.version)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = [r for r in csv.DictReader(f) if r["samples_per_s_at_125MHz"]]
    names = [r["method"] for r in rows][::-1]
    rates = [float(r["samples_per_s_at_125MHz"]) for r in rows][::-1]
    insns = [float(r["instructions_per_prediction"]) for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax.barh(names, rates, color="#3b7dd8")
    ax.set_xscale("log")
    ax.set_xlim(left=min(rates) / 4, right=max(rates) * 6)
    ax.set_xlabel("samples per second at 125 MHz (log scale, higher is better)\n"
                  "= 125e6 / instructions per prediction: assumes one instruction per cycle")
    ax.set_title(f"digits random forest (10 trees, 100 leaves) on a Cortex-M0\n{firmware} in QEMU, "
                 "instructions counted by a TCG plugin", fontsize=9)
    for i, (v, n) in enumerate(zip(rates, insns)):
        ax.text(v, i, f" {v:,.0f}/s ({n:,.0f} instr.)", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
