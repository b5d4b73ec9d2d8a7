"""Add compiled bytecode to a Lambda bundle, so a cold start does not compile.

    python deploy/compile_bundle.py DEPLOYMENT_ZIP RUNTIME     (e.g. python3.11)

Lambda unpacks the bundle into a read-only /var/task: without `.pyc` files
every cold start compiles every module it imports. This adds, for each
`.py` in the zip that lacks one, `__pycache__/<name>.cpython-3XX.pyc`, where
the runtime's Python looks. The `.pyc` files are hash-based and unchecked
(PEP 552): the zip's timestamps cannot invalidate them, and the import
system does not read the source to check them. They are compiled by this
interpreter, which must be the runtime's version (RUNTIME) for Lambda to
use them. The zip is rewritten in place; every other entry is kept as is.
"""
from __future__ import annotations

import compileall
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the bundle: the paths in tracebacks


def compile_zip(bundle: Path) -> int:
    """Add the missing `.pyc` files to `bundle`; how many were added."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "task"
        with zipfile.ZipFile(bundle) as zf:
            entries = zf.infolist()
            zf.extractall(tree)
            had = set(zf.namelist())
        if not compileall.compile_dir(
                tree, quiet=2, workers=0, stripdir=str(tree), prependdir=LAMBDA_TASK_ROOT,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
            raise SystemExit("compile_bundle.py: a module of the bundle does not compile")
        added = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.pyc")
                       if p.relative_to(tree).as_posix() not in had)
        rewritten = bundle.with_suffix(".tmp")
        with zipfile.ZipFile(bundle) as source, \
                zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in entries:
                target.writestr(entry, source.read(entry))
            for name in added:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, (tree / name).read_bytes())
        shutil.move(rewritten, bundle)
    return len(added)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    bundle, runtime = Path(sys.argv[1]), sys.argv[2]
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != mine:
        raise SystemExit(f"compile_bundle.py: the function runs {runtime} but this is {mine}: "
                         f"run it with {runtime}'s interpreter")
    added = compile_zip(bundle)
    print(f"compile_bundle.py: {added} .pyc files added to {bundle} (for {runtime})")


if __name__ == "__main__":
    main()
