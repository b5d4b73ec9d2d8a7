"""Vendor the Lambda's own builds of the app's C extensions into a staged bundle.

    python deploy/vendor_wheels.py --arch x86_64|arm64 VENDOR_DIR
    python deploy/vendor_wheels.py --download WHEELS_DIR    (both architectures' wheels, for
                                                             an air-gapped `make package`)

ada-url (WHATWG URL parsing of shortlink targets) is a C extension built
with cffi, whose `_cffi_backend` it loads at run time. This machine's
installed copies are built for this machine, so the wheels for the Lambda
runtime (CPython 3.11 on Amazon Linux 2: glibc 2.26, x86_64 or arm64) are
downloaded from PyPI at the versions requirements.txt pins, and only what
runs is kept: ada_url's Python files and extension (not its C++ sources),
`_cffi_backend` (not cffi's build-time package, nor pycparser), and both
licences. Debug information is stripped from the extensions (5.7 MB -> 0.6 MB
for ada); their code is untouched.

pip reads PIP_NO_INDEX and PIP_FIND_LINKS from the environment: with a folder
that `--download` (or `make wheels`) filled on a connected machine, nothing is
fetched from the network (deploy/package.sh sets both when WHEELS is given).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON_VERSION, ABI = "3.11", "cp311"
RUNTIME_GLIBC_MINOR = 26  # the python3.11 Lambda runtime: Amazon Linux 2, glibc 2.26
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
# ELF e_machine of each architecture's shared objects.
ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}
# Per distribution: the wheel files that run (regexes on their paths in the wheel).
KEEP = {
    "ada-url": [r"ada_url/(__init__|ada_adapter)\.py", r"ada_url/py\.typed", r"ada_url/_ada_wrapper\..*\.so",
                r"ada_url-[^/]+\.dist-info/(METADATA|licenses/.*|LICENSE.*)"],
    "cffi": [r"_cffi_backend\..*\.so", r"cffi-[^/]+\.dist-info/(licenses/.*|LICENSE.*)"],
}


def pinned(requirements: Path, name: str) -> str:
    for line in requirements.read_text().splitlines():
        match = re.fullmatch(rf"\s*{re.escape(name)}==([^\s#;]+).*", line, re.IGNORECASE)
        if match:
            return match.group(1)
    raise SystemExit(f"vendor_wheels: {requirements} pins no {name}==VERSION")


def platforms(arch: str) -> list[str]:
    machine = MACHINES[arch]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(17, RUNTIME_GLIBC_MINOR + 1)]
    return tags + [f"manylinux2014_{machine}"]


def download(specs: list[str], arch: str, dest: Path) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--no-deps", "--python-version", PYTHON_VERSION,
               "--implementation", "cp", "--abi", ABI, "--abi", "abi3", "--dest", str(dest)]
    for tag in platforms(arch):
        command += ["--platform", tag]
    subprocess.run(command + specs, check=True)
    return sorted(dest.glob("*.whl"))


# Strippers that understand each architecture's ELF: binutils for that
# target (Debian: binutils-x86-64-linux-gnu, binutils-aarch64-linux-gnu) or
# LLVM's, which reads every target (Debian: llvm).
STRIPPERS = {"x86_64": ["x86_64-linux-gnu-strip", "llvm-strip"],
             "arm64": ["aarch64-linux-gnu-strip", "llvm-strip"]}


def strip_debug_info(path: Path, arch: str) -> None:
    for name in STRIPPERS[arch]:
        tool = shutil.which(name)
        if tool:
            subprocess.run([tool, "--strip-debug", str(path)], check=True)
            return
    raise SystemExit(f"vendor_wheels: no strip for {arch}: apt-get install "
                     f"binutils-{MACHINES[arch].replace('_', '-')}-linux-gnu")


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        raise SystemExit(f"vendor_wheels: {path} is not an ELF shared object")
    return int.from_bytes(header[18:20], "little")


def vendor(arch: str, requirements: Path, vendor_dir: Path) -> list[Path]:
    specs = [f"{name}=={pinned(requirements, name)}" for name in KEEP]
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for wheel in download(specs, arch, Path(tmp)):
            distribution = wheel.name.split("-", 1)[0].replace("_", "-").lower()
            keep = [re.compile(pattern) for pattern in KEEP[distribution]]
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if any(pattern.fullmatch(member) for pattern in keep):
                        written.append(Path(archive.extract(member, vendor_dir)))
    for path in written:
        if path.suffix == ".so":
            strip_debug_info(path, arch)
            if elf_machine(path) != ELF_MACHINE[arch]:
                raise SystemExit(f"vendor_wheels: {path.name} is not built for {arch}")
    return written


def download_all(requirements: Path, wheels_dir: Path) -> list[Path]:
    """The pinned wheels of every architecture, kept as they are: a cache for --no-index."""
    specs = [f"{name}=={pinned(requirements, name)}" for name in KEEP]
    wheels_dir.mkdir(parents=True, exist_ok=True)
    for arch in sorted(MACHINES):
        download(specs, arch, wheels_dir)
    return sorted(wheels_dir.glob("*.whl"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(MACHINES), default="x86_64")
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--download", type=Path, metavar="WHEELS_DIR",
                        help="only download both architectures' wheels into WHEELS_DIR")
    parser.add_argument("vendor_dir", type=Path, nargs="?")
    args = parser.parse_args()
    if args.download:
        wheels = download_all(args.requirements, args.download)
        print(f"vendor_wheels: {len(wheels)} wheels in {args.download}")
        return 0
    if args.vendor_dir is None:
        parser.error("VENDOR_DIR is required (or --download WHEELS_DIR)")
    written = vendor(args.arch, args.requirements, args.vendor_dir)
    extensions = sorted(p.name for p in written if p.suffix == ".so")
    print(f"vendor_wheels: {args.arch}: {', '.join(extensions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
