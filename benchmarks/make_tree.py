"""Generate a synthetic folder tree for the scan benchmarks (deterministic for a given seed).

    python benchmarks/make_tree.py /tmp/tree --files 100000 --depth 4 --dup-share 0.1

Sizes follow a log-normal distribution (most files small, a long tail of big ones, as in a
home folder); ``--median-size`` and ``--sigma`` shape it and ``--max-size`` caps it.
``--dup-share`` of the files are byte-for-byte copies of an earlier file. Each leaf folder
holds about ``--per-dir`` files, at ``--depth`` levels below the root. A small share of the
files have no extension, so content sniffing is exercised too.

The same arguments and seed always give the same names, sizes and bytes, so figures from
two runs (or two machines) describe the same tree.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = (".txt", ".log", ".csv", ".json", ".xml", ".md", ".html", ".py", ".bin", ".dat")
NO_EXTENSION_SHARE = 0.02
# Bytes are cut from one random pool instead of drawn per file: drawing 2 GB from a seeded
# generator takes minutes, slicing takes a memcpy. A per-file header keeps contents unique.
POOL_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class TreeSpec:
    files: int = 100_000
    depth: int = 4
    per_dir: int = 100
    dup_share: float = 0.1
    median_size: int = 8 << 10
    sigma: float = 1.5
    max_size: int = 64 << 20
    seed: int = 1


@dataclass(frozen=True, slots=True)
class TreeSummary:
    files: int
    duplicates: int
    total_bytes: int
    folders: int


def leaf_folders(spec: TreeSpec) -> list[str]:
    """Relative folder paths, ``depth`` levels deep, about ``per_dir`` files in each."""
    leaves = max(1, math.ceil(spec.files / spec.per_dir))
    fanout = max(2, math.ceil(leaves ** (1 / max(spec.depth, 1))))
    names = []
    for index in range(leaves):
        parts, rest = [], index
        for _ in range(max(spec.depth, 1)):
            rest, digit = divmod(rest, fanout)
            parts.append(f"d{digit:03d}")
        names.append(os.path.join(*reversed(parts)))
    return names


def file_size(rng: random.Random, spec: TreeSpec) -> int:
    size = int(rng.lognormvariate(math.log(spec.median_size), spec.sigma))
    return min(size, spec.max_size)


def file_name(rng: random.Random, index: int) -> str:
    if rng.random() < NO_EXTENSION_SHARE:
        return f"file_{index:07d}"
    return f"file_{index:07d}{rng.choice(EXTENSIONS)}"


def make_tree(root: Path, spec: TreeSpec) -> TreeSummary:
    rng = random.Random(spec.seed)
    pool = rng.randbytes(POOL_BYTES)
    folders = leaf_folders(spec)
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    duplicates = total = 0
    for index in range(spec.files):
        path = root / folders[index // spec.per_dir % len(folders)] / file_name(rng, index)
        if written and rng.random() < spec.dup_share:
            data = written[rng.randrange(len(written))].read_bytes()
            duplicates += 1
        else:
            data = _unique_bytes(rng, pool, index, file_size(rng, spec))
            written.append(path)
        path.write_bytes(data)
        total += len(data)
    return TreeSummary(spec.files, duplicates, total, len(folders))


def _unique_bytes(rng: random.Random, pool: bytes, index: int, size: int) -> bytes:
    header = f"{index:016d}".encode()
    if size <= len(header):
        return header[:size] if size else b""
    body = size - len(header)
    chunks, left = [header], body
    while left:
        take = min(left, len(pool) // 2)
        start = rng.randrange(len(pool) - take + 1)
        chunks.append(pool[start : start + take])
        left -= take
    return b"".join(chunks)


def parse_args(argv: list[str]) -> tuple[Path, TreeSpec]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    defaults = TreeSpec()
    parser.add_argument("--files", type=int, default=defaults.files)
    parser.add_argument("--depth", type=int, default=defaults.depth)
    parser.add_argument("--per-dir", type=int, default=defaults.per_dir)
    parser.add_argument("--dup-share", type=float, default=defaults.dup_share)
    parser.add_argument("--median-size", type=int, default=defaults.median_size)
    parser.add_argument("--sigma", type=float, default=defaults.sigma)
    parser.add_argument("--max-size", type=int, default=defaults.max_size)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    spec = TreeSpec(
        files=args.files,
        depth=args.depth,
        per_dir=args.per_dir,
        dup_share=args.dup_share,
        median_size=args.median_size,
        sigma=args.sigma,
        max_size=args.max_size,
        seed=args.seed,
    )
    return args.root, spec


def main(argv: list[str] | None = None) -> int:
    root, spec = parse_args(sys.argv[1:] if argv is None else argv)
    if root.exists() and any(root.iterdir()):
        print(f"{root} is not empty; choose a new folder.", file=sys.stderr)
        return 1
    summary = make_tree(root, spec)
    print(
        f"{root}: {summary.files:,} files ({summary.duplicates:,} duplicates) in "
        f"{summary.folders:,} folders, {summary.total_bytes / 1e6:,.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
