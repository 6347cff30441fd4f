"""`make dist`'s package.json installs every module with MicroPython's own `mip` (the unix port's),
served over HTTP on loopback as a board would fetch it from a web server."""
from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from pathlib import Path

import mip_package
import upy


def test_mip_install_from_package_json(tmp_path: Path) -> None:
    upy.ensure_modules()
    dist = tmp_path / "dist"
    (dist / "x64").mkdir(parents=True)
    for m in upy.MODULES:
        (dist / "x64" / f"{m}.mpy").write_bytes((upy.DIST / f"{m}.mpy").read_bytes())
    written = mip_package.write(dist)
    assert written == [dist / "x64" / "package.json"]
    pkg = json.loads(written[0].read_text())
    assert sorted(u[0] for u in pkg["urls"]) == sorted(f"{m}.mpy" for m in upy.MODULES)

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = tmp_path / "lib"
        url = f"http://127.0.0.1:{server.server_address[1]}/dist/x64/package.json"
        r = subprocess.run([str(upy.MICROPYTHON), "-m", "mip", "install", "--target", str(target), url],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        server.shutdown()
    for m in upy.MODULES:
        assert (target / f"{m}.mpy").read_bytes() == (upy.DIST / f"{m}.mpy").read_bytes()
    r = subprocess.run([str(upy.MICROPYTHON), "-c",
                        "import sys; sys.path.insert(0, %r)\nimport emltrees, emlneighbors, emliir, emlfft, emlkmeans, emlarray, emllinear, emllinear_train\n"
                        "print(emlfft.FFT(8).__class__.__name__)" % str(target)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "FFT", r.stdout + r.stderr
