"""File content and file writing for every model: dumps() (CSV text or binary bytes), the
format a file name implies, and writes that never leave a half-written file.
Imports: os, tempfile, layout, csvformat, binformat."""
from __future__ import annotations

import os
import tempfile
from typing import Optional, Union

from . import binformat, csvformat
from .layout import KnnArrays, TreeArrays

FORMATS = ("csv", "bin")
PathLike = Union[str, "os.PathLike[str]"]


def format_for_path(path: Optional[PathLike]) -> Optional[str]:
    """'bin' for a `.bin` name, 'csv' for `.csv` (case-insensitive), else None."""
    if path is None:
        return None
    ext = os.path.splitext(os.fspath(path))[1].lower()
    return {".bin": "bin", ".csv": "csv"}.get(ext)


def dumps(model: Union[TreeArrays, KnnArrays], format: str = "csv") -> Union[str, bytes]:
    """File content: str for 'csv', bytes for 'bin'. TypeError for other models (LinearModel,
    KMeansModel: their own tobytes())."""
    if format not in FORMATS:
        raise ValueError(f"unsupported format {format!r}: use 'csv' or 'bin'")
    if isinstance(model, KnnArrays):
        return csvformat.write_knn(model) if format == "csv" else binformat.write_knn(model)
    if not isinstance(model, TreeArrays):
        raise TypeError(f"dumps() writes tree and k-NN models, not {type(model).__name__}: use its "
                        "tobytes() or save(file) (linear and k-means files are binary only)")
    return csvformat.write_trees(model) if format == "csv" else binformat.write_trees(model)


def write_atomic(path: PathLike, content: Union[str, bytes]) -> None:
    """Write via a temporary file in the same folder and os.replace: an error never leaves a
    half-written file, and an existing file keeps its permissions. A symlink is written through
    (its target is replaced). An OSError names `path`, the file asked for (never the temporary
    file)."""
    target = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(target) or "."
    data = content.encode("ascii") if isinstance(content, str) else content
    tmp = None
    try:
        if os.path.exists(target):
            mode = os.stat(target).st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise


def _naming(e: OSError, path: PathLike) -> OSError:
    """`e` (same type, errno and reason) naming the file the caller asked to write."""
    if e.errno is None:
        return type(e)(f"cannot write {os.fspath(path)}: {e}")
    return type(e)(e.errno, e.strerror, os.fspath(path))


def save(model: Union[TreeArrays, KnnArrays], file: Optional[PathLike] = None, name: Optional[str] = None,
         format: Optional[str] = None) -> Union[str, bytes]:
    """The content of `model` as `format` (default: the one `file`'s extension names, else csv),
    written to `file` when one is given. `name` is accepted as in emlearn's save(name=..., file=...)
    and names nothing: emlmpy files carry no model name, and no file is written without `file`."""
    fmt = format or format_for_path(file) or "csv"
    content = dumps(model, fmt)
    if file is not None:
        write_atomic(file, content)
    return content
