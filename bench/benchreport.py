"""benchreport: the tables, CSV, JSON and plot of bench/run-bench.

Turns the runs that run-bench measured into per-workload summaries (median,
min-max, pagerfs/native ratio per round and its median, target met or not),
renders the text table, writes table.txt, results.csv, runs.csv and
results.json, and draws ratios.svg with gnuplot. It measures nothing and
touches no file system under test; --replot uses it alone on a saved
results.json.
"""
import csv
import json
import os
import shutil
import statistics
import subprocess

GIB = 1 << 30
MIB = 1 << 20
SYSTEMS = ("pagerfs", "ext4", "tmpfs")
RSS_TARGET_MIB = 64


def fmt_size(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} B"


def fmt_num(v):
    if v is None:
        return "n/a"
    a = abs(v)
    if a >= 1000:
        return f"{v:.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def summarize(values):
    if not values:
        return None
    return dict(median=statistics.median(values), min=min(values),
                max=max(values), values=values)


def build_summary(names, workloads, runs, failures):
    """One row per workload: each system's summary, the ratios, the verdict."""
    rows = []
    for wl in workloads:
        row = dict(key=wl["key"], title=wl["title"], metric=wl["metric"], unit=wl["unit"],
                   better=wl["better"], baseline=wl["baseline"], target=wl["target"],
                   systems={}, ratios=[], ratio_median=None, met=None)
        byround = {}
        for name in SYSTEMS:
            if name not in wl["systems"] or name not in names:
                continue
            vals = [r["value"] for r in runs if r["workload"] == wl["key"] and r["system"] == name]
            failed = any(f["workload"] == wl["key"] and f["system"] == name for f in failures)
            row["systems"][name] = summarize(vals) or {}
            row["systems"][name]["failed"] = failed
            byround[name] = {r["round"]: r["value"] for r in runs
                             if r["workload"] == wl["key"] and r["system"] == name}
        base = byround.get(wl["baseline"], {})
        pg = byround.get("pagerfs", {})
        for rnd in sorted(set(base) & set(pg)):
            if base[rnd] > 0:
                row["ratios"].append(pg[rnd] / base[rnd])
        if row["ratios"]:
            row["ratio_median"] = statistics.median(row["ratios"])
            if wl["better"] == "higher":
                row["met"] = row["ratio_median"] >= wl["target"]
            else:
                row["met"] = row["ratio_median"] <= wl["target"]
        rows.append(row)
    return rows


def daemon_summary(workloads, runs, peak_hwm_kib):
    """Item 7: daemon CPU seconds per GiB moved, per workload, and peak RSS."""
    out = []
    for wl in workloads:
        rs = [r for r in runs if r["workload"] == wl["key"] and "daemon_cpu_s" in r]
        if not rs:
            continue
        cpu = [r["daemon_cpu_s"] for r in rs]
        if wl["mode"] in ("seq", "rand", "madv-random", "dirty-msync"):
            # bytes the daemon moved: the pages touched (cold, so each one is
            # paged in) or, for msync, the pages written out
            per_gib = [r["daemon_cpu_s"] / (r["bytes"] / GIB) for r in rs if r["bytes"]]
            what = "paged out" if wl["mode"] == "dirty-msync" else "paged in"
        else:
            per_gib, what = [], ""
        out.append(dict(workload=wl["key"], cpu_s=summarize(cpu),
                        cpu_s_per_gib=summarize(per_gib), per_gib_of=what))
    return dict(peak_rss_kib=peak_hwm_kib or None, rss_target_mib=RSS_TARGET_MIB,
                workloads=out)


def client_summary(names, workloads, runs):
    """The timed process's side: its page faults and system CPU per run, and
    for msync the dirtying loop apart from msync(2) itself. Where pagerfs and
    a native file system differ here, the difference is the kernel's, not the
    daemon's (e.g. page cache folio sizes: fewer, larger folios, fewer faults)."""
    out = []
    for wl in workloads:
        per = {}
        for n in names:
            rs = [r for r in runs if r["workload"] == wl["key"] and r["system"] == n
                  and "minflt" in r]
            if not rs:
                continue
            st = dict(faults=summarize([r["minflt"] + r.get("majflt", 0) for r in rs]),
                      sys_s=summarize([r.get("sys_s", 0.0) for r in rs]))
            dirty = [r["dirty_s"] for r in rs if "dirty_s" in r]
            if dirty:
                st["dirty_s"] = summarize(dirty)
                st["msync_s"] = summarize([r["seconds"] - r["dirty_s"] for r in rs
                                           if "dirty_s" in r])
            per[n] = st
        if per:
            out.append(dict(workload=wl["key"], systems=per))
    return out


def client_lines(client):
    out = []
    for c in client:
        parts = []
        for n, st in c["systems"].items():
            p = (f"{n} {st['faults']['median']:.0f} faults, "
                 f"{fmt_num(st['sys_s']['median'])} s sys")
            if "dirty_s" in st:
                p += (f", {fmt_num(st['dirty_s']['median'])} s dirtying + "
                      f"{fmt_num(st['msync_s']['median'])} s msync")
            parts.append(p)
        out.append(f"  {c['workload']:12s} " + "; ".join(parts))
    return out


def cell(st):
    if not st or st.get("median") is None:
        return "FAILED" if st and st.get("failed") else "n/a"
    s = f"{fmt_num(st['median'])} ({fmt_num(st['min'])}-{fmt_num(st['max'])})"
    return s + (" !" if st.get("failed") else "")


def target_text(row):
    t = row["target"]
    return ("≥" if row["better"] == "higher" else "≤") + (f"{t:.1f}" if t >= 0.1 else f"{t:g}")


def systems_line(meta):
    ra = meta.get("read_ahead_kb") or {}
    parts = [f"ext4: {meta.get('scratch_fs') or '?'} (read_ahead_kb {ra.get('ext4')})"]
    if "pagerfs" in meta["systems"]:
        parts.append(f"pagerfs: {meta['options']['pagerfsd']} -o "
                     f"{meta['options']['pagerfs_mount_options']} "
                     f"(read_ahead_kb {ra.get('pagerfs')})")
    return "; ".join(parts)


def render_table(meta, rows, daemon, notes, client=None):
    names = meta["systems"]
    head = ["workload", "unit"] + names + ["ratio vs", "pagerfs/native per round",
                                           "median", "target", "met"]
    body = []
    for r in rows:
        line = [r["title"], r["unit"]]
        for n in names:
            line.append(cell(r["systems"][n]) if n in r["systems"] else "-")
        line.append(r["baseline"])
        line.append(" ".join(f"{x:.3g}" for x in r["ratios"]) or "n/a")
        line.append(f"{r['ratio_median']:.3g}" if r["ratio_median"] is not None else "n/a")
        line.append(target_text(r))
        line.append("n/a" if r["met"] is None else ("yes" if r["met"] else "NO"))
        body.append(line)
    if "pagerfs" in names:
        rss = daemon["peak_rss_kib"]
        line = ["daemon peak RSS (VmHWM)", "MiB"]
        for n in names:
            line.append(f"{rss / 1024:.1f}" if n == "pagerfs" and rss else
                        ("n/a" if n == "pagerfs" else "-"))
        met = "n/a" if not rss else ("yes" if rss / 1024 <= RSS_TARGET_MIB else "NO")
        line += ["-", "-", "-", f"≤{RSS_TARGET_MIB} MiB", met]
        body.append(line)
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    out = [f"pagerfs bench  {meta['date']}  kernel {meta['kernel']}  {meta['nproc']} CPUs  "
           f"size {fmt_size(meta['options']['size'])}  rounds {meta['options']['rounds']}  "
           f"msync {fmt_size(meta['options']['msync_size'])}  "
           f"madv pages {meta['options']['madv_pages']}  "
           f"pretouch {fmt_size(meta['options']['pretouch'])} "
           f"(before the {meta['options'].get('pretouch_at', 'loop')})",
           systems_line(meta),
           "values: median (min-max) over rounds; ratio = pagerfs / the 'ratio vs' system, "
           "per round; for clone it is a time ratio (lower is better)", ""]
    for line in [head] + body:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
    dw = [d for d in daemon["workloads"] if d["cpu_s"]]
    if dw:
        out += ["", "pagerfsd CPU (utime+stime) per timed run:"]
        for d in dw:
            pg = d["cpu_s_per_gib"]
            per = (f", {fmt_num(pg['median'])} s per GiB {d['per_gib_of']} "
                   f"({fmt_num(pg['min'])}-{fmt_num(pg['max'])})") if pg else ""
            out.append(f"  {d['workload']:12s} {fmt_num(d['cpu_s']['median'])} s{per}")
    if client:
        out += ["", "the timed process per run (medians): page faults, system CPU"]
        out += client_lines(client)
    if notes:
        out += [""] + [f"note: {n}" for n in notes]
    return "\n".join(out) + "\n"


def write_outputs(outdir, meta, rows, daemon, runs, failures, discarded, table,
                  client=None):
    with open(os.path.join(outdir, "table.txt"), "w") as f:
        f.write(table)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(dict(meta=meta, workloads=rows, daemon=daemon, client=client, runs=runs,
                       failures=failures, discarded_runs=discarded), f, indent=2)
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        hdr = ["workload", "metric", "unit"]
        for n in SYSTEMS:
            hdr += [f"{n}_median", f"{n}_min", f"{n}_max"]
        hdr += ["ratio_vs", "ratios", "ratio_median", "target", "better", "met"]
        w.writerow(hdr)
        for r in rows:
            line = [r["key"], r["metric"], r["unit"]]
            for n in SYSTEMS:
                st = r["systems"].get(n) or {}
                line += [st.get("median", ""), st.get("min", ""), st.get("max", "")]
            line += [r["baseline"], ";".join(f"{x:.6g}" for x in r["ratios"]),
                     "" if r["ratio_median"] is None else f"{r['ratio_median']:.6g}",
                     r["target"], r["better"], "" if r["met"] is None else int(r["met"])]
            w.writerow(line)
    with open(os.path.join(outdir, "runs.csv"), "w", newline="") as f:
        keys = ["workload", "round", "system", "value", "seconds", "bytes", "pages",
                "gib_per_s", "pages_per_s", "faults_per_s", "majflt", "minflt",
                "user_s", "sys_s",
                "prep_majflt", "dirty_s", "daemon_cpu_s", "daemon_hwm_kib", "cpu_pressure_pct",
                "io_pressure_pct", "attempt", "warning"]
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in runs:
            w.writerow(r)


def plot(outdir, log):
    """ratios.svg: median pagerfs/native ratio per workload, min-max bars, targets."""
    with open(os.path.join(outdir, "results.json")) as f:
        res = json.load(f)
    rows = [r for r in res["workloads"] if r["ratios"]]
    if not rows:
        log.say("--plot: no ratios to plot (no pagerfs results)")
        return None
    if not shutil.which("gnuplot"):
        log.say("--plot: gnuplot not found (apt-get install gnuplot-nox)")
        return None
    dat = os.path.join(outdir, "ratios.dat")
    with open(dat, "w") as f:
        f.write("# label median min max target colour(met: green, missed: red)\n")
        for r in rows:
            label = f"{r['key']} vs {r['baseline']}" + (" (time)" if r["better"] == "lower" else "")
            colour = 0x3a9a3a if r["met"] else 0xc03030
            f.write(f"\"{label}\" {r['ratio_median']:.6g} {min(r['ratios']):.6g} "
                    f"{max(r['ratios']):.6g} {r['target']:g} {colour}\n")
    svg = os.path.join(outdir, "ratios.svg")
    m = res["meta"]
    lo = min([min(r["ratios"]) for r in rows] + [r["target"] for r in rows])
    hi = max([max(r["ratios"]) for r in rows] + [r["target"] for r in rows])
    script = f"""
set terminal svg size 900,500 dynamic font 'sans,12'
set output '{svg}'
set title "pagerfs / native: median of {m['options']['rounds']} rounds, whiskers min-max\\n\
{m['date']}, kernel {m['kernel']}, {m['nproc']} CPUs, size {fmt_size(m['options']['size'])}\\n\
above 1: pagerfs faster, except clone (a time ratio: below 1 is faster)" noenhanced
set logscale y
set yrange [{lo / 2:g}:{hi * 6:g}]
set ylabel 'ratio (log scale)'
set grid ytics
set style fill solid 0.7 border -1
set boxwidth 0.6
set xtics noenhanced
set key top right font ',10'
plot '{dat}' using 0:2:6:xtic(1) with boxes lc rgb variable title 'median (green: target met)', \\
     '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt -1 title 'min-max', \\
     '' using 0:5:(0.3) with xerrorbars lc rgb '#202020' lw 3 pt -1 title 'target'
"""
    gp = os.path.join(outdir, "ratios.gp")
    with open(gp, "w") as f:
        f.write(script)
    p = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if p.returncode != 0:
        log.say(f"--plot: gnuplot failed: {p.stderr.strip()}")
        return None
    return svg
