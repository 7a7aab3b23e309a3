"""The built wheel carries every rule, inside txlint's namespace."""

import subprocess
import sys

from helpers import REPOSITORY


def test_wheel_installs_every_rule(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPOSITORY)],
                   check=True)
    (wheel,) = wheels.glob("txlint-*.whl")
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    python = environment / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    listed = subprocess.run([str(environment / "bin" / "txlint"), "rules"], capture_output=True, text=True,
                            check=True, cwd=tmp_path)
    listed_codes = {line.split()[0] for line in listed.stdout.splitlines()}
    shipped = {path.stem.split("_")[0].upper() for path in (REPOSITORY / "rules").glob("txl*.py")}
    assert shipped and shipped <= listed_codes
    site = subprocess.run([str(python), "-c", "import importlib.util; print(importlib.util.find_spec('rules'))"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    assert site.stdout.strip() == "None", "a top-level package named `rules` was installed"
