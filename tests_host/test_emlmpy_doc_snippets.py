"""Every ```python snippet of README.md, python/README.md and docs/*.md runs as a user would run it:
the host part (before a `# device` line, when it imports emlmpy) with .venv's Python, the device
parts on the MicroPython unix port with dist/x64's modules, in one folder per document (so a
device snippet reads the file its host snippet wrote). Names a snippet leaves to the reader (X, y,
an estimator, samples) are given below, as small as possible; nothing else is added."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import upy

REPO = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "python/README.md"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
DEVICE_MARK = re.compile(r"(?m)^# device.*\n")
DEVICE_IMPORT = re.compile(r"(?m)^import .*\beml(?!mpy\b)")
HOST_IMPORT = re.compile(r"(?m)^(import|from) .*\bemlmpy\b")


def host_names(doc: str) -> dict:
    """The host names a document's snippets leave to the reader."""
    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(1)
    corners = rng.integers(0, 2, size=(400, 2))
    xor = ((corners + rng.normal(0.0, 0.15, size=(400, 2))).astype(np.float32), corners[:, 0] ^ corners[:, 1])
    return {
        "python/README.md": {"X": xor[0], "y": xor[1]},
        "docs/emliir_q15.md": {"x_int16": rng.normal(0, 3000, 500).astype(np.int16)},
        "docs/emlkmeans.md": {"X": rng.integers(0, 256, size=(300, 3)).astype(np.float32)},
        "docs/emllinear.md": {"X": X, "y": y},
        "docs/emlneighbors.md": {"knn": KNeighborsClassifier(n_neighbors=5).fit(X, np.where(y == 2, 42, y))},
        "docs/emltrees.md": {"estimator": DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), "X": X},
    }.get(doc, {})


# The device names a document's snippets leave to the reader (MicroPython source put before them;
# `coefficients.txt` holds the host snippet's `coefficients`).
DEVICE_NAMES = {
    "docs/emlfft.md": "import array, math\nsignal = [math.sin(i / 5) for i in range(256)]\nx = array.array('f', signal)\n",
    "docs/emlfft_q15.md": "import array\nsignal = [(i * 97) % 2000 - 1000 for i in range(256)]\nx = array.array('h', signal)\n",
    "docs/emliir.md": "import array\ncoefficients = [float(v) for v in open('coefficients.txt').read().split()]\n"
                      "samples = array.array('f', [1.0] * 50)\n",
    "docs/emliir_q15.md": "import array\ncoefficients = [int(v) for v in open('coefficients.txt').read().split()]\n"
                          "samples = array.array('h', [1000] * 50)\n",
    "docs/emlkmeans.md": "pixels = bytearray((i * 37) % 256 for i in range(3 * 200))\n",
    "docs/emllinear.md": "import array\nX = array.array('f', [i % 7 for i in range(30)])\n"
                         "y = array.array('f', [i % 3 for i in range(10)])\nX_new, y_new = X, y\n",
    "docs/emltrees.md": "import array\nn = 2\nX_flat = array.array('f', [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3])\n",
}


def snippets(doc: str) -> list[tuple[int, str, list[str]]]:
    """(line, host part or '', device parts) of each ```python block of `doc`."""
    text = (REPO / doc).read_text()
    out = []
    for m in BLOCK.finditer(text):
        parts = DEVICE_MARK.split(m.group(1))
        host = parts[0] if HOST_IMPORT.search(parts[0]) else ""
        device = [p for p in (parts[1:] if host else parts) if p.strip()]
        out.append((text[:m.start()].count("\n") + 1, host, device))
    return out


def test_every_snippet_is_host_or_device():
    for doc in DOCS:
        for line, host, device in snippets(doc):
            assert host or all(DEVICE_IMPORT.search(d) for d in device), \
                f"{doc}:{line}: neither a host snippet (import emlmpy) nor a device one (import eml...)"


@pytest.mark.parametrize("doc", [d for d in DOCS if any(BLOCK.finditer((REPO / d).read_text()))])
def test_doc_snippets_run(doc, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    names = host_names(doc)
    device_source = DEVICE_NAMES.get(doc, "")
    if any(device for _, _, device in snippets(doc)):
        upy.ensure_modules()
    for line, host, device in snippets(doc):
        if host:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(host, f"{doc}:{line}", "exec"), names)
            if "coefficients" in names:
                (tmp_path / "coefficients.txt").write_text(" ".join(map(str, np.asarray(names["coefficients"]).tolist())))
        for part in device:
            device_source += part  # a document's device snippets continue one another
            r = upy.run(device_source, tmp_path)
            assert r.returncode == 0, f"{doc}:{line}:\n{part}\n{r.stdout}{r.stderr}"
