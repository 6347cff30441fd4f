"""emlmpy as a package: a straight import line (no cycles, no function-local imports of its own
modules), one internal problem type with one mapping to ModelFormatError, save() semantics."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import emlmpy
from emlmpy import errors, layout

PKG = Path(emlmpy.__file__).resolve().parent
# The documented layers (python/README.md): a module imports only modules of lower layers.
LAYERS = [
    {"errors", "keys", "iir", "samples", "fft_q15", "arrays"},
    {"numbers", "layout", "iir_q15"},
    {"csvtext", "encode"},
    {"csvformat", "binformat"},
    {"legacy", "files"},
    {"trees", "neighbors", "kmeans", "linear"},
    {"io", "convert"},
    {"cli"},
    {"__init__", "__main__"},
]
# Third-party modules imported inside a function (only where first use is the point).
LAZY_THIRD_PARTY = {("convert", "sklearn"), ("convert", "sklearn.exceptions"),
                    ("convert", "sklearn.utils.validation"),
                    ("iir_q15", "scipy.signal")}  # sosfreqz, only when spreading gains


def parsed():
    return {p.stem: ast.parse(p.read_text()) for p in sorted(PKG.glob("*.py"))}


def package_imports(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            yield node, ([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("emlmpy"):
            yield node, [node.module.split(".")[1] if "." in node.module else "__init__"]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("emlmpy.")]
            if names:
                yield node, names


def test_layers_cover_every_module():
    assert set().union(*LAYERS) == set(parsed())


def test_imports_go_down_the_layers_only():
    layer = {m: i for i, mods in enumerate(LAYERS) for m in mods}
    for mod, tree in parsed().items():
        for node, names in package_imports(tree):
            for name in names:
                assert layer[name] < layer[mod], f"{mod} imports {name} (line {node.lineno}): not a lower layer"


def test_no_function_local_imports():
    """Every import sits at module level (a function-local import would hide a cycle); the only
    exception is scikit-learn in convert.py, imported when convert() first runs."""
    for mod, tree in parsed().items():
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert getattr(node, "level", 0) == 0 and all((mod, n) in LAZY_THIRD_PARTY for n in names), \
                    f"{mod}.py line {node.lineno}: function-local import of {names}"


def test_one_internal_problem_type_and_one_mapping():
    exceptions = {}
    for mod, tree in parsed().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in ("Exception", "ValueError") for b in node.bases):
                exceptions[node.name] = mod
    assert exceptions == {"ConversionError": "errors", "ModelFormatError": "errors", "ModelProblem": "errors"}
    handlers = {}
    for mod, tree in parsed().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name) and node.type.id == "ModelProblem":
                handlers.setdefault(mod, 0)
                handlers[mod] += 1
    # errors.in_file: the one mapping to ModelFormatError; convert: to ConversionError
    assert handlers == {"errors": 1, "convert": 2}, handlers


def test_tree_and_knn_validators_raise_the_same_problem_type():
    X, y = load_iris(return_X_y=True)
    t = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    k = emlmpy.convert(KNeighborsClassifier(n_neighbors=3).fit(X, y))
    t.roots[0] = 100
    k.labels[0] = 7
    for m, where in ((t, "roots"), (k, "labels")):
        with pytest.raises(errors.ModelProblem) as e:
            m.check()
        assert e.value.where == where
    assert not hasattr(emlmpy.neighbors, "KnnProblem") and not hasattr(emlmpy.trees, "ModelProblem")
    # loading maps both to ModelFormatError the same way
    t.roots[0] = 0
    k.labels[0] = 0
    for m in (t, k):
        assert emlmpy.loads(m.save(format="bin")).same_as(m)
    assert issubclass(layout.TreeArrays, object) and isinstance(t, layout.TreeArrays)


def test_save_writes_only_the_named_file(tmp_path, monkeypatch):
    """As emlearn's save(name=..., file=...): `name` names nothing and no file is written without
    `file`; the content is returned. The format follows the file's extension unless given."""
    monkeypatch.chdir(tmp_path)
    X, y = load_iris(return_X_y=True)
    m = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    text = m.save(name="xor")
    assert isinstance(text, str) and text.startswith("v,2\n") and list(tmp_path.iterdir()) == []
    assert m.save(name="xor", format="bin")[:4] == b"EMLT" and list(tmp_path.iterdir()) == []
    assert m.save(file="model.bin", name="xor")[:4] == b"EMLT"
    assert (tmp_path / "model.bin").read_bytes()[:4] == b"EMLT"
    assert m.save(file="model.bin", format="csv").startswith("v,2")  # an explicit format wins
    assert (tmp_path / "model.bin").read_text().startswith("v,2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    assert "defaults to name" not in (emlmpy.TreeModel.save.__doc__ or "")
    assert "names nothing" in emlmpy.TreeModel.save.__doc__


def test_save_through_a_symlink_writes_its_target(tmp_path):
    X, y = load_iris(return_X_y=True)
    m = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    (tmp_path / "real.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    m.save(file=str(tmp_path / "link.csv"))
    assert (tmp_path / "link.csv").is_symlink()
    assert emlmpy.load(tmp_path / "real.csv").same_as(m)
    np.testing.assert_array_equal(emlmpy.load(tmp_path / "link.csv").predict(X), m.predict(X))


def test_save_errors_name_the_file_asked_for(tmp_path):
    """A failed write names the file given to save(), never the temporary file, and leaves none."""
    X, y = load_iris(return_X_y=True)
    t = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    lin = emlmpy.LinearModel(np.ones(3), 0.5)
    missing = str(tmp_path / "no-such-folder" / "x.bin")
    for save in (lambda f: t.save(file=f), lambda f: lin.save(f)):
        with pytest.raises(FileNotFoundError) as e:
            save(missing)
        assert e.value.filename == missing and str(e.value).endswith(f": '{missing}'"), str(e.value)
        assert ".tmp" not in str(e.value)
    (tmp_path / "file").write_text("")  # a folder that is a file
    with pytest.raises(NotADirectoryError) as e:
        t.save(file=str(tmp_path / "file" / "x.csv"))
    assert e.value.filename == str(tmp_path / "file" / "x.csv")
