#!/usr/bin/env python3
"""Reads the JSON lines of one bench/compare run (Kiln's bench_unet_vae and bench_txt2img with --json,
bench_diffusers.py) and prints issue 15's goal table: each row with Kiln, diffusers, their ratio, the
goal and whether it is met. Standard library only.

  report.py RESULTS.jsonl [--markdown OUT.md]

Where a tool ran a measurement several times (the UNet step in alternating rounds, loads in fresh
processes), the row shows the median of the runs. "diffusers/Kiln" is diffusers' time over Kiln's:
above 1, Kiln is faster. A row whose measurements are missing says which --only group makes them.
"""

import argparse
import json
import os
import statistics
import sys

GB = 1e9  # the goals' GB; peak RSS is measured in KiB (ru_maxrss)
DIFFUSERS_ATTENTION = ("sdpa", "sliced", "plain")
STAGES = ("encoding prompt", "sampling", "decoding")  # Kiln's stage names, in their order


def load(path):
    results = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"report.py: {path}:{n}: not a JSON line ({e})")
            if r.get("tool") in ("kiln", "diffusers") and "what" in r:
                results.append(r)
    return results


class Results:
    def __init__(self, results):
        self.results = results

    def pick(self, tool, what, **match):
        return [r for r in self.results
                if r["tool"] == tool and r["what"] == what and all(r.get(k) == v for k, v in match.items())]

    def median(self, tool, what, key="seconds", **match):
        values = []
        for r in self.pick(tool, what, **match):
            values += r["runs"] if key == "seconds" and "runs" in r else [r[key]]
        return statistics.median(values) if values else None


def fmt_s(v):
    return "-" if v is None else (f"{v:.2f} s" if v >= 0.1 else f"{v * 1000:.1f} ms")


def fmt_gb(gib):
    return "-" if gib is None else f"{gib * 2**30 / GB:.2f} GB"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_x(v):
    return "-" if v is None else f"{v:.2f}x"


def build_rows(res):
    # run.sh notes whether the CPU computes bf16 natively; bf16 rows are skipped where it does not.
    no_bf16 = any(r.get("native_bf16") is False for r in res.pick("kiln", "cpu"))

    def verdict(value, ok, bf16=False):
        if value is None:
            return "n/a: no native bf16" if bf16 and no_bf16 else "not measured"
        return "met" if ok else "not met"

    rows = []  # (work, kiln, diffusers, diffusers/kiln, goal, measured, verdict)
    size = next((r["size"] for r in res.results if "size" in r), None)
    size_label = f"{size}" if size else ""

    # UNet step, fp32.
    k32 = res.median("kiln", "unet_step", variant="fp32")
    best, best_name = None, None
    for name in DIFFUSERS_ATTENTION:
        v = res.median("diffusers", "unet_step", variant=name)
        if v is not None and (best is None or v < best):
            best, best_name = v, name
    r = ratio(best, k32)
    rows.append((f"UNet step {size_label}, CFG batch 2, fp32", fmt_s(k32),
                 f"{fmt_s(best)} ({best_name})" if best_name else "-", fmt_x(r),
                 ">= 1.3x diffusers' best attention", fmt_x(r), verdict(r, r is not None and r >= 1.3)))
    peak = res.median("kiln", "gemm_peak", key="gflops", dtype="fp32")
    gflop = next((x["gflop"] for x in res.pick("kiln", "unet_step")), None)
    share = None if None in (k32, peak, gflop) else gflop / k32 / peak
    d_share = None if None in (best, peak, gflop) else gflop / best / peak
    rows.append(("same, share of the fp32 GEMM peak" + (f" ({peak:.0f} GFLOP/s)" if peak else ""),
                 "-" if share is None else f"{100 * share:.0f}%",
                 "-" if d_share is None else f"{100 * d_share:.0f}%", "-", ">= 85% of the peak",
                 "-" if share is None else f"{100 * share:.0f}%", verdict(share, share is not None and share >= 0.85)))
    kcl = res.median("kiln", "unet_step", variant="fp32_channels_last")
    dcl = res.median("diffusers", "unet_step", variant="channels_last")
    r = ratio(dcl, kcl)
    rows.append(("same, channels-last (benchmark layout)", fmt_s(kcl), fmt_s(dcl), fmt_x(r), "(for information)",
                 "-", "-"))
    k16 = res.median("kiln", "unet_step", variant="bf16")
    d16 = res.median("diffusers", "unet_step", variant="bf16")
    own = ratio(k32, k16)
    rows.append(("same, bf16 (CPUs with avx512_bf16)", fmt_s(k16), fmt_s(d16), fmt_x(ratio(d16, k16)),
                 ">= 2x Kiln's fp32 step", fmt_x(own), verdict(own, own is not None and own >= 2.0, bf16=True)))

    # VAE decode.
    kv = res.median("kiln", "vae_decode", variant="fp32")
    dv = res.median("diffusers", "vae_decode", variant="fp32")
    r = ratio(dv, kv)
    rows.append((f"VAE decode {size_label}, fp32", fmt_s(kv), fmt_s(dv), fmt_x(r), ">= 1.2x diffusers", fmt_x(r),
                 verdict(r, r is not None and r >= 1.2)))
    kv16 = res.median("kiln", "vae_decode", variant="bf16")
    dv16 = res.median("diffusers", "vae_decode", variant="bf16")
    own = ratio(kv, kv16)
    rows.append(("VAE decode, bf16", fmt_s(kv16), fmt_s(dv16), fmt_x(ratio(dv16, kv16)), ">= 1.8x Kiln's fp32 decode",
                 fmt_x(own), verdict(own, own is not None and own >= 1.8, bf16=True)))

    # txt2img: total against the sum of its parts measured alone.
    def txt2img(tool, step_variant):
        runs = res.pick(tool, "txt2img", dtype="fp32")
        if not runs:
            return None, None, None
        run = runs[-1]
        # The parts measured alone at the same size (a run has one size; combined files may not).
        step = res.median(tool, "unet_step", variant=step_variant, size=run["size"])
        decode = res.median(tool, "vae_decode", variant="fp32", size=run["size"])
        encode = run["stages"].get("encoding prompt")
        if None in (step, decode, encode):
            return run, None, None
        parts = run["steps"] * step + decode + encode
        return run, parts, run["total_s"] / parts

    krun, kparts, kover = txt2img("kiln", "fp32")
    drun, dparts, dover = txt2img("diffusers", "sdpa")
    label = "txt2img" + (f" {krun['size']}, {krun['steps']} steps" if krun else "") + ", Euler a, CFG 7, fp32"
    rows.append((label, fmt_s(krun["total_s"]) if krun else "-",
                 fmt_s(drun["total_s"]) if drun else "-",
                 fmt_x(ratio(drun["total_s"] if drun else None, krun["total_s"] if krun else None)),
                 "total <= 1.08 x (steps x step + decode + encode)",
                 "-" if kover is None else f"{kover:.3f} (diffusers {dover:.3f})" if dover else f"{kover:.3f}",
                 "needs the unet and vae groups" if krun and kover is None
                 else verdict(kover, kover is not None and kover <= 1.08)))

    # Opening the fp16 single file.
    kl = res.median("kiln", "load", source="single_file", dtype="fp32")
    dl = res.median("diffusers", "load", source="single_file", dtype="fp32")
    rows.append(("open the fp16 single file until the first step can start", fmt_s(kl), fmt_s(dl),
                 fmt_x(ratio(dl, kl)), "<= 2 s from the page cache", fmt_s(kl), verdict(kl, kl is not None and kl <= 2)))
    df = res.median("diffusers", "load", source="folder", dtype="fp32")
    rows.append(("open the diffusers folder (diffusers only)", "-", fmt_s(df), "-", "(for information)", "-", "-"))

    # Peak RSS of a whole txt2img process.
    for dtype, goal in (("fp32", 5.0), ("bf16", 3.0)):
        k = res.median("kiln", "txt2img", key="peak_rss_gib", dtype=dtype)
        d = res.median("diffusers", "txt2img", key="peak_rss_gib", dtype=dtype)
        rows.append((f"peak RSS, txt2img, {dtype}", fmt_gb(k), fmt_gb(d), fmt_x(ratio(d, k)), f"<= {goal:.0f} GB",
                     fmt_gb(k), verdict(k, k is not None and k * 2**30 / GB <= goal, bf16=dtype == "bf16")))
    return rows, (krun, kparts, drun, dparts)


def details(res, txt):
    lines = []
    krun, kparts, drun, dparts = txt
    for tool, run, parts in (("Kiln", krun, kparts), ("diffusers", drun, dparts)):
        if not run:
            continue
        stages = dict(sorted(run["stages"].items(), key=lambda kv: (STAGES + (kv[0],)).index(kv[0])))
        staged = sum(stages.values())
        split = ", ".join(f"{k} {fmt_s(v)}" for k, v in stages.items())
        line = (f"- {tool} txt2img {run['dtype']}: total {fmt_s(run['total_s'])} = {split}; the stages add up to "
                f"{fmt_s(staged)} ({100 * staged / run['total_s']:.1f}% of the total)")
        if parts:
            line += f"; steps x step + decode + encode measured alone: {fmt_s(parts)}"
        lines.append(line)
    for tool in ("kiln", "diffusers"):
        runs = res.pick(tool, "unet_step")
        variants = sorted({r["variant"] for r in runs}, key=lambda v: [r["variant"] for r in runs].index(v))
        if variants:
            rounds = max(len(res.pick(tool, "unet_step", variant=v)) for v in variants)
            lines.append(f"- {'Kiln' if tool == 'kiln' else 'diffusers'} UNet step (median of "
                         f"{runs[0].get('repeats', '?')} calls, median over {rounds} round(s)): "
                         + ", ".join(f"{v} {fmt_s(res.median(tool, 'unet_step', variant=v))}" for v in variants))
    return lines


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="the JSON lines of one run")
    p.add_argument("--markdown", help="also write the table as Markdown to this file")
    args = p.parse_args()
    if not os.path.isfile(args.results):
        sys.exit(f"report.py: {args.results}: no such file")
    res = Results(load(args.results))
    if not res.results:
        sys.exit(f"report.py: {args.results}: no Kiln or diffusers results in it")
    rows, txt = build_rows(res)
    threads = sorted({r["threads"] for r in res.results if "threads" in r})
    header = ("work", "Kiln", "diffusers", "diffusers/Kiln", "goal", "measured", "")
    title = f"Kiln beside diffusers, {cpu_name()}, {'/'.join(map(str, threads))} threads, one run"
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print(title)
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    extra = details(res, txt)
    for line in extra:
        print(line)
    if args.markdown:
        md = [f"{title}\n", "| " + " | ".join(header[:-1]) + " | met |", "|" + " --- |" * len(header)]
        md += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        md += [""] + extra
        tmp = args.markdown + ".partial"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n")
        os.replace(tmp, args.markdown)


if __name__ == "__main__":
    main()
