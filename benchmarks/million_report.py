"""The tables ``bench_million.py`` prints (Markdown, pasted as is into the README)."""

from __future__ import annotations

from typing import Any

BACKENDS = ("SQLite", "PostgreSQL")
PAGE_MS = 10.0
SEARCH_MS = 30.0
SHORT_SEARCH_MS = 300.0
GUI_MB = 500.0


def target_for(label: str) -> float | None:
    """The issue's p95 target for a measurement, by its label (None: none set)."""
    if label.startswith("search"):
        return SHORT_SEARCH_MS if "1-2 chars" in label else SEARCH_MS
    if label.startswith(("first page", "page at", "re-sort", "filter")):
        return PAGE_MS
    return None


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "–"
    if "p50" in entry:
        return f"{entry['p50']:.1f} / {entry['p95']:.1f}"
    extra = f" ({entry['groups']:,} groups)" if "groups" in entry else ""
    return f"{entry['ms']:.0f}{extra}"


def _met(label: str, entries: list[dict[str, Any] | None]) -> str:
    target = target_for(label)
    if target is None:
        return ""
    worst = max((e["p95"] for e in entries if e and "p95" in e), default=None)
    if worst is None:
        return ""
    return "yes" if worst <= target else "**no**"


def library_table(figures: dict[str, Any]) -> list[str]:
    shown = [b for b in BACKENDS if b in figures]
    labels: list[str] = []
    for backend in shown:
        labels += [k for k, v in figures[backend].items() if isinstance(v, dict) and k != "gui"]
    labels = list(dict.fromkeys(labels))
    lines = [
        "| measurement (1M files, first 200 rows) | "
        + " | ".join(f"{b} p50 / p95 ms" for b in shown)
        + " | target p95 | met |",
        "|---" * (len(shown) + 3) + "|",
    ]
    for label in labels:
        entries = [figures[b].get(label) for b in shown]
        target = target_for(label)
        goal = f"<= {target:.0f} ms" if target else ""
        cells = " | ".join(_cell(e) for e in entries)
        lines.append(f"| {label} | {cells} | {goal} | {_met(label, entries)} |")
    return lines


def gui_table(figures: dict[str, Any]) -> list[str]:
    shown = [b for b in BACKENDS if b in figures and "gui" in figures[b]]
    if not shown:
        return ["GUI: not measured."]
    rows = (
        ("first paint (window created → rows drawn)", "first_paint_s", "s"),
        ("sidebar ready (folder and tag counts)", "attached_s", "s"),
        ("jump to row total/2 (rows drawn)", "middle_s", "s"),
        ("scroll to end (rows drawn)", "end_s", "s"),
        ("longest event-loop stall while opening", "startup_stall_ms", "ms"),
        ("longest event-loop stall while browsing (jump, scroll)", "browsing_stall_ms", "ms"),
    )
    lines = ["| window, offscreen | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for title, key, unit in rows:
        cells = []
        for backend in shown:
            gui = figures[backend]["gui"]
            value = gui.get(key)
            cells.append("error" if value is None else f"{value * 1000:.0f} ms" if unit == "s"
                         else f"{value:.0f} ms")  # fmt: skip
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    memory = []
    for backend in shown:
        mem = figures[backend]["gui"].get("memory", {})
        ok = mem.get("VmHWM", 1e9) <= GUI_MB
        memory.append(
            f"{mem.get('VmRSS', 0):.0f} MB (peak {mem.get('VmHWM', 0):.0f}) "
            + ("yes" if ok else "**no**")
        )
    lines.append(f"| resident memory (target <= {GUI_MB:.0f} MB) | " + " | ".join(memory) + " |")
    for backend in shown:
        if "error" in figures[backend]["gui"]:
            lines.append(f"\n{backend} window failed:\n{figures[backend]['gui']['error']}")
    return lines


def anchor_table(anchors: dict[str, Any] | None) -> list[str]:
    if not anchors:
        return ["Anchors: not measured."]
    ours, jd, pl = anchors["ours"], anchors["jdupes"], anchors["plocate"]
    lines = [
        f"| {anchors['files']:,}-file tree, warm cache | FileMeta | anchor | FileMeta/anchor |",
        "|---|---|---|---|",
        f"| walk: `filemeta scan --no-hash` vs `find` | {ours['meta_scan_s']:.2f} s | "
        f"{anchors['find_s']:.2f} s | {ours['meta_scan_s'] / anchors['find_s']:.1f} |",
    ]
    if pl.get("installed"):
        lines.append(
            f"| index: `filemeta scan --no-hash` vs `updatedb` | {ours['meta_scan_s']:.2f} s | "
            f"{pl['updatedb_s']:.2f} s | {ours['meta_scan_s'] / pl['updatedb_s']:.1f} |"
        )
        for label, ms in pl["search_ms"].items():
            mine = ours["search_ms"][label]
            lines.append(
                f"| search, {label} term: first 200 vs `plocate -i` | {mine:.1f} ms | "
                f"{ms:.1f} ms | {mine / ms:.2f} |"
            )
    else:
        lines.append("| plocate | | not installed | |")
    if jd.get("installed"):
        for run, target in (("first", 1.0), ("second", 0.1)):
            total, theirs = ours[run]["total_s"], jd[f"{run}_s"]
            ratio = total / theirs
            verdict = "yes" if ratio <= target else "**no**"
            lines.append(
                f"| {run} run: `filemeta scan` + `dupes` vs `jdupes -r` | {total:.2f} s "
                f"({ours[run]['scan_s']:.2f} + {ours[run]['dupes_s']:.2f}) | {theirs:.2f} s | "
                f"{ratio:.2f} (target <= {target:g}: {verdict}) |"
            )
    else:
        lines.append("| jdupes | | not installed | |")
    return lines


def print_report(figures: dict[str, Any]) -> None:
    load = figures.get("load", (0, 0, 0))
    after = figures.get("load_after", load)
    cores = figures.get("cores")
    print(f"\n{cores} cores; load average {load[0]:.1f} before, {after[0]:.1f} after")
    for backend in BACKENDS:
        if backend in figures:
            print(f"{backend}: {figures[backend]['files']:,} live files")
    depth = [
        f"{b} {figures[b]['page at depth 500,000']['walk_s']:.1f} s"
        for b in BACKENDS
        if b in figures
    ]
    print("walk to depth 500,000 in pages of 10,000 (once, for the cursor): " + ", ".join(depth))
    print()
    print("\n".join(library_table(figures)))
    print()
    print("\n".join(gui_table(figures)))
    print()
    print("\n".join(anchor_table(figures.get("anchors"))))
