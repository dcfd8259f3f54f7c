"""report.py: turns the runs of each scenario into the Markdown tables of RESULTS.md."""

import statistics

MAP_TYPES = {1: "hash", 2: "array", 3: "prog_array", 4: "perf_event_array", 5: "percpu_hash",
             6: "percpu_array", 9: "lru_hash", 12: "array_of_maps", 13: "hash_of_maps",
             27: "ringbuf", 28: "inode_storage", 29: "task_storage"}

HOW_TO_READ = """\
How to read: each row is the median of the runs. ns/op is the workload's own time per
operation, measured inside its loop, tool start-up excluded (for threads: elapsed time
over one thread's operations); x untraced is that over the untraced median. delivered
counts the events of the workload's process found in the tool's output, over the
operations the workload made. payload exact is the share of delivered events whose
filename, write content (byte by byte) or argv is exactly what the workload used, among
those that carry it (an event whose payload the tracer marked lost is not counted as
wrong; "of N with payload" then says how many carried one); n/a when the tool does not
capture it whole. peak RSS is the tool's maximum resident set
from GNU time (it covers the workload the tool runs, a small static program); BPF maps
is the memlock of the maps the tool holds, sampled every 100 ms (perf-event buffers, as
bpftrace and perf use, are not maps and show in RSS). The floor is a minimal BPF program
sending a 64-byte ring-buffer record per event without waking its reader: the cost a
tracer of this design cannot go below."""


def _mib(n):
    if n >= 1048576:
        return f"{n / 1048576:.1f} MiB"
    return f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n:.0f} B"


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _row(label, runs, base_ns, generated, counted):
    """generated None: delivered is a number of samples, not a share of the operations."""
    ok = [r for r in runs if r.status == "ok"]
    if not ok:
        status = runs[0].status if runs else "not run"
        return f"| {label} | {status.split(':')[0]} | | | | | |"
    ns = _median([r.ns_per_op for r in ok])
    ratio = f"{ns / base_ns:.2f}" if base_ns else ""
    cells = [f"{ns:,.0f}", ratio]
    if not counted:
        cells += ["—", "—"]
    else:
        delivered = _median([r.count.delivered if r.count else None for r in ok])
        cells.append("?" if delivered is None else f"{delivered:,.0f} samples" if generated is None else
                     f"{100 * delivered / generated:.2f}% ({delivered:,.0f})")
        cells.append(_exact_cell(ok))
    rss = _median([r.rss_kib for r in ok])
    maps = _median([r.map_bytes for r in ok])
    cells.append(_mib(rss * 1024) if rss and counted else "—")
    cells.append(_mib(maps) if maps else "—")
    return f"| {label} | " + " | ".join(cells) + " |"


def _exact_cell(runs):
    """Exact payloads over the delivered events that carry one; events whose payload the
    tracer marked lost are shown apart ("of N with payload"), as they are not wrong."""
    checked = [r.count for r in runs if r.count and r.count.exact is not None]
    shares = [100 * c.exact / _with_payload(c) for c in checked if _with_payload(c)]
    if not shares:
        return "n/a"
    cell = f"{_median(shares):.2f}%"
    if any(_with_payload(c) < c.delivered for c in checked):
        cell += f" of {_median([_with_payload(c) for c in checked]):,.0f} with payload"
    return cell


def _with_payload(count):
    return count.delivered if count.present is None else count.present


def scenario_table(sc, rows):
    """rows: [(label, runs, counted)] with the untraced row first."""
    base = _median([r.ns_per_op for r in rows[0][1] if r.status == "ok"])
    out = [f"### `wload {' '.join(sc.args)}`: {sc.generated:,} {sc.what}", "",
           "| tool | ns/op | x untraced | delivered | payload exact | peak RSS | BPF maps |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    generated = None if sc.kind == "cpu" else sc.generated
    out += [_row(label, runs, base, generated, counted) for label, runs, counted in rows]
    notes = []
    for label, runs, _ in rows:
        for i, r in enumerate(runs, 1):
            if r.status != "ok":
                notes.append(f"- {label}, run {i}: {r.status}")
        last = [r for r in runs if r.count and r.count.notes]
        if last:
            notes.append(f"- {label} (last run): " + "; ".join(last[-1].count.notes))
    return "\n".join(out + ([""] + notes if notes else []) + unwind_table(rows))


def unwind_table(rows):
    """The CPU profilers' cost of a whole stack, medians of the runs: stacks unwound per
    second of user-space CPU time, and the bytes a sample takes from the kernel."""
    lines = []
    for label, runs, _ in rows:
        counts = [r.count for r in runs if r.status == "ok" and r.count]
        rate = _median([c.unwound_per_s for c in counts])
        size = _median([c.bytes_per_sample for c in counts])
        if rate is None and size is None:
            continue
        lines.append(f"| {label} | {'—' if rate is None else f'{rate:,.0f}'} | "
                     f"{'—' if size is None else f'{size:,.0f}'} |")
    if not lines:
        return []
    return ["", "Whole stacks (medians): unwound/s is stacks unwound per second of the tool's "
            "user-space unwinding (./example: its unwinder's time, --stats; perf --call-graph "
            "dwarf: the CPU time of `perf script`, which unwinds; — where the kernel walks "
            "frame pointers); bytes/sample is what a sample takes from the kernel (./example: "
            "ring record, kernel frames, registers and user stack copied; perf: perf.data's "
            "size per sample).", "",
            "| tool | unwound/s | bytes/sample |", "|---|---:|---:|"] + lines


def map_breakdown(maps):
    """'ringbuf 4.0 MiB + array 4.1 MiB + ...' for one sample of a tool's maps."""
    by_type = {}
    for map_type, memlock in maps.values():
        name = MAP_TYPES.get(map_type, f"type {map_type}")
        count, total = by_type.get(name, (0, 0))
        by_type[name] = (count + 1, total + memlock)
    parts = sorted(by_type.items(), key=lambda kv: -kv[1][1])
    return " + ".join(f"{name} {_mib(total)}" + (f" ({count} maps)" if count > 1 else "")
                      for name, (count, total) in parts)


def memory_section(tracer_runs, cpus):
    """./example's memory with default options: its BPF maps and its peak RSS."""
    runs = [r for rs in tracer_runs.values() for r in rs if r.status == "ok"]
    biggest = max((r for r in runs if r.maps), key=lambda r: r.map_bytes, default=None)
    out = [f"## Memory of ./example (default options, {cpus} CPUs)", ""]
    if biggest:
        out.append(f"- BPF maps: {_mib(biggest.map_bytes)} = {map_breakdown(biggest.maps)} "
                   "(memlock from /proc/PID/fdinfo)")
    rss = {key: _median([r.rss_kib for r in rs if r.status == "ok"])
           for key, rs in tracer_runs.items()}
    rss = {k: v for k, v in rss.items() if v}
    if rss:
        out.append("- peak RSS (median per scenario): " +
                   ", ".join(f"{k} {_mib(v * 1024)}" for k, v in rss.items()))
    return "\n".join(out)
