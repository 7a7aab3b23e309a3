"""The built wheel carries every rule, inside txlint's namespace, and works in a fresh environment."""

import shutil
import subprocess
import sys
import zipfile

from helpers import REPOSITORY

RULE_FILES = sorted(path.stem for path in (REPOSITORY / "rules").glob("*.py") if path.stem != "__init__")


def _source_tree(destination):
    """The files a source distribution would hold, copied so the build never writes into the repository."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("txlint", "rules"):
        shutil.copytree(REPOSITORY / package, destination / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, destination / name)
    return destination


def test_wheel_installs_every_rule(tmp_path):
    source = _source_tree(tmp_path / "source")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
                   check=True)
    (wheel,) = wheels.glob("txlint-*.whl")

    names = zipfile.ZipFile(wheel).namelist()
    assert RULE_FILES and all(f"txlint/rules/{module}.py" in names for module in RULE_FILES), names
    assert not [name for name in names if name.startswith("rules/")], "a top-level `rules` package is in the wheel"

    environment = tmp_path / "venv"  # a fresh environment: no system site-packages, nothing from the repository
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    python = environment / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    def run(*args):
        return subprocess.run(args, capture_output=True, text=True, check=True, cwd=tmp_path,
                              env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})

    assert "include-system-site-packages = false" in (environment / "pyvenv.cfg").read_text()
    where = run(str(python), "-c", "import txlint; print(txlint.__file__)")
    assert where.stdout.startswith(str(environment)), where.stdout

    listed = run(str(environment / "bin" / "txlint"), "rules")
    listed_codes = [line.split()[0] for line in listed.stdout.splitlines()]
    shipped = sorted(module.split("_")[0].upper() for module in RULE_FILES)
    assert listed_codes == shipped

    explained = run(str(environment / "bin" / "txlint"), "explain", "TXL101")
    assert "## Use instead" in explained.stdout

    site = run(str(python), "-c", "import importlib.util; print(importlib.util.find_spec('rules'))")
    assert site.stdout.strip() == "None", "a top-level package named `rules` was installed"
