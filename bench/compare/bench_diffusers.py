#!/usr/bin/env python3
"""diffusers' side of bench/compare: the same work as Kiln's bench_unet_vae and bench_txt2img, on the
same random SD 1.5 weights and the same torch (run it with the venv of bench/compare/setup.sh).

  unet     one UNet step, CFG batch 2, fp32 with each attention processor diffusers offers on the CPU
           (sdpa = AttnProcessor2_0, sliced = set_attention_slice("auto"), plain = AttnProcessor),
           channels-last (with sdpa) and bf16 (sdpa); median of --repeats after a warm-up call
  vae      VAE decode, fp32 and bf16; median of --repeats after a warm-up call
  txt2img  StableDiffusionPipeline.from_single_file, Euler a (EulerAncestralDiscreteScheduler), CFG 7,
           batch 1, in a fresh subprocess: load time, total, split into text encoding, sampling and
           decoding (the stage marks Kiln uses), and the process's peak RSS (ru_maxrss)
  load     from_single_file (fp16 file, local config folder) and from_pretrained (the diffusers
           folder), fp32, each in a fresh subprocess, median of --load-repeats
  rss      txt2img in bf16 in a fresh subprocess (peak RSS; the fp32 one comes with txt2img)

Every result is one JSON line on stdout ({"tool": "diffusers", "what": ...}); a table follows.
The model is what Kiln's bench_txt2img makes in $TMPDIR/kiln-bench-sd15: sd15-random-fp16.safetensors
and diffusers/ (the same weights as a diffusers folder). Nothing is downloaded: the hub is offline.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

# No network: every config, tokenizer and weight comes from the local model folder.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROMPT = "a photograph of an astronaut riding a horse, highly detailed"  # as bench_txt2img
NEGATIVE = "blurry, lowres"
SINGLE_FILE = "sd15-random-fp16.safetensors"
GROUPS = ("unet", "vae", "txt2img", "load", "rss")
UNET_VARIANTS = ("sdpa", "sliced", "plain", "channels_last", "bf16")


def fail(message):
    print(f"bench_diffusers: {message}", file=sys.stderr)
    sys.exit(1)


def threads():
    value = os.environ.get("KILN_THREADS", "")  # the variable Kiln's init_engine reads
    try:
        return int(value) if int(value) > 0 else os.cpu_count() or 1
    except ValueError:
        return os.cpu_count() or 1


def cpu_has_bf16():
    """True where the CPU computes bf16 natively (AVX-512 BF16 or AMX), as Kiln decides (KILN_ASSUME_NO_BF16=1
    says no, as there)."""
    if os.environ.get("KILN_ASSUME_NO_BF16") == "1":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024.0 * 1024.0)  # KiB on Linux


def emit(result):
    result = {"tool": "diffusers", **result}
    print(json.dumps(result), flush=True)
    return result


def median_seconds(repeats, fn):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def setup_torch():
    import torch

    torch.set_num_threads(threads())
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return torch


def model_paths(model_dir):
    single = os.path.join(model_dir, SINGLE_FILE)
    folder = os.path.join(model_dir, "diffusers")
    missing = [p for p in (single, os.path.join(folder, "model_index.json")) if not os.path.exists(p)]
    if missing:
        fail(
            f"{missing[0]} is missing: run Kiln's bench once to make the random model, e.g. "
            f"`TMPDIR={os.path.dirname(os.path.abspath(model_dir))} build/ci/bench/bench_txt2img 0` "
            "(steps 0: it makes the model and its diffusers folder, loads it and stops)"
        )
    return single, folder


def config_folder(folder):
    """The diffusers folder's configs and tokenizer files without weights, for from_single_file's
    `config` (so diffusers cannot read the folder's weights instead of the single file's)."""
    target = folder + "-config"
    if os.path.exists(os.path.join(target, "model_index.json")):
        return target
    partial = target + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith((".json", ".txt")):
                rel = os.path.relpath(os.path.join(root, name), folder)
                os.makedirs(os.path.dirname(os.path.join(partial, rel)), exist_ok=True)
                shutil.copyfile(os.path.join(root, name), os.path.join(partial, rel))
    shutil.rmtree(target, ignore_errors=True)
    os.rename(partial, target)
    return target


# ---- UNet step and VAE decode (in this process) ----


def bench_unet(args, folder, variants):
    torch = setup_torch()
    from diffusers import UNet2DConditionModel
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    latent = args.size // 8
    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", dtype=torch.float32)
    unet.eval()
    gen = torch.Generator().manual_seed(0)
    sample = torch.randn(2, 4, latent, latent, generator=gen)
    context = torch.randn(2, 77, unet.config.cross_attention_dim, generator=gen)
    t = torch.tensor(500, dtype=torch.long)
    results = []
    with torch.inference_mode():
        reference = None
        for variant in variants:
            x, c = sample, context
            if variant == "sliced":
                unet.set_attention_slice("auto")
            elif variant == "plain":
                unet.set_attn_processor(AttnProcessor())
            else:
                unet.set_attn_processor(AttnProcessor2_0())
            if variant == "channels_last":
                unet.to(memory_format=torch.channels_last)
                x = sample.contiguous(memory_format=torch.channels_last)
            elif variant == "bf16":
                unet.to(dtype=torch.bfloat16, memory_format=torch.contiguous_format)
                x, c = sample.to(torch.bfloat16), context.to(torch.bfloat16)
            else:
                unet.to(memory_format=torch.contiguous_format)
            out = unet(x, t, encoder_hidden_states=c).sample.float()  # warm-up
            diff = None if reference is None else (out - reference).abs().max().item()
            if reference is None:
                reference = out
            seconds = median_seconds(args.repeats, lambda: unet(x, t, encoder_hidden_states=c))
            result = {"what": "unet_step", "variant": variant, "seconds": seconds}
            if diff is not None:
                result["max_abs_diff_to_first"] = diff
            results.append(emit({**result, **common(args)}))
            if variant == "bf16":
                unet.to(dtype=torch.float32)
    return results


def bench_vae(args, folder, bf16):
    torch = setup_torch()
    from diffusers import AutoencoderKL

    latent = args.size // 8
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", dtype=torch.float32)
    vae.eval()
    latents = torch.randn(1, 4, latent, latent, generator=torch.Generator().manual_seed(0))
    results = []
    with torch.inference_mode():
        for variant in ("fp32", "bf16") if bf16 else ("fp32",):
            if variant == "bf16":
                vae.to(torch.bfloat16)
            x = latents.to(vae.dtype)
            vae.decode(x)  # warm-up
            seconds = median_seconds(args.repeats, lambda: vae.decode(x))
            results.append(emit({"what": "vae_decode", "variant": variant, "seconds": seconds, **common(args)}))
    return results


def common(args):
    return {"threads": threads(), "size": args.size, "repeats": args.repeats}


# ---- fresh subprocesses: load and txt2img ----


def child_load(source, single, folder, dtype_name):
    torch = setup_torch()
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel  # noqa: F401
    from transformers import CLIPTextModel, CLIPTokenizer  # noqa: F401  (imported before the clock starts)

    dtype = torch.bfloat16 if dtype_name == "bf16" else torch.float32
    config = config_folder(folder)
    t0 = time.perf_counter()
    if source == "single_file":
        pipe = StableDiffusionPipeline.from_single_file(single, config=config, dtype=dtype, local_files_only=True)
    else:
        pipe = StableDiffusionPipeline.from_pretrained(folder, dtype=dtype, local_files_only=True)
    return pipe, time.perf_counter() - t0


def child_main(spec):
    """Runs in a fresh interpreter: {"mode": "load"|"txt2img", ...}; prints one JSON line."""
    t_start = time.perf_counter()
    pipe, load = child_load(spec["source"], spec["single"], spec["folder"], spec["dtype"])
    result = {"what": "load", "source": spec["source"], "dtype": spec["dtype"], "seconds": load, "threads": threads()}
    if spec["mode"] == "load":
        print(json.dumps({**result, "peak_rss_gib": peak_rss_gib()}), flush=True)
        return
    torch = sys.modules["torch"]
    from diffusers import EulerAncestralDiscreteScheduler

    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    marks = []

    def mark(name):
        if not marks or marks[-1][0] != name:
            marks.append((name, time.perf_counter()))

    # The stages Kiln marks: text encoding, sampling (from the first UNet call) and decoding (from
    # the VAE decode call to the finished image).
    pipe.text_encoder.register_forward_pre_hook(lambda *_: mark("encoding prompt") if not marks else None)
    pipe.unet.register_forward_pre_hook(lambda *_: mark("sampling"))
    vae_decode = pipe.vae.decode

    def timed_decode(*a, **k):
        mark("decoding")
        return vae_decode(*a, **k)

    pipe.vae.decode = timed_decode
    gen = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    with torch.inference_mode():
        image = pipe(
            PROMPT,
            negative_prompt=NEGATIVE,
            height=spec["size"],
            width=spec["size"],
            num_inference_steps=spec["steps"],
            guidance_scale=7.0,
            generator=gen,
            output_type="pil",
        ).images[0]
    end = time.perf_counter()
    if image.size != (spec["size"], spec["size"]):
        raise RuntimeError(f"txt2img made a {image.size} image, not {spec['size']}x{spec['size']}")
    stages = {}
    for i, (name, t) in enumerate(marks):
        stages[name] = (marks[i + 1][1] if i + 1 < len(marks) else end) - t
    txt = {
        "what": "txt2img",
        "dtype": spec["dtype"],
        "size": spec["size"],
        "steps": spec["steps"],
        "sampler": "euler_a",
        "cfg": 7.0,
        "total_s": end - t0,
        "stages": stages,
        "load_s": load,
        "process_s": end - t_start,
        "peak_rss_gib": peak_rss_gib(),
        "threads": threads(),
    }
    print(json.dumps(result), flush=True)
    print(json.dumps(txt), flush=True)


def run_child(spec):
    """One fresh interpreter; returns its JSON lines (each re-emitted as a diffusers result)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        fail(f"the {spec['mode']} subprocess ({spec['source']}, {spec['dtype']}) failed with exit code "
             f"{proc.returncode}; its messages are above")
    return [json.loads(line) for line in lines]


def warm_page_cache(paths):
    """Reads the files once, so that every load is measured from the page cache."""
    for path in paths:
        files = [path] if os.path.isfile(path) else [
            os.path.join(root, name) for root, _, names in os.walk(path) for name in names]
        for name in files:
            with open(name, "rb") as f:
                while f.read(64 << 20):
                    pass


def bench_load(args, single, folder):
    results = []
    warm_page_cache([single, folder])
    for source in ("single_file", "folder"):
        seconds = []
        for _ in range(args.load_repeats):
            (line,) = run_child({"mode": "load", "source": source, "dtype": "fp32",
                                 "single": single, "folder": folder})
            seconds.append(line["seconds"])
        results.append(emit({"what": "load", "source": source, "dtype": "fp32",
                             "seconds": statistics.median(seconds), "runs": seconds, "threads": threads()}))
    return results


def bench_txt2img(args, single, folder, dtype):
    lines = run_child({"mode": "txt2img", "source": "single_file", "dtype": dtype, "single": single,
                       "folder": folder, "size": args.size, "steps": args.steps})
    return [emit(line) for line in lines]


# ---- table ----


def table(results):
    rows = []
    for r in results:
        what = r["what"]
        if what == "unet_step":
            rows.append((f"UNet step {r['size']}, CFG batch 2, {r['variant']}", f"{r['seconds']:.3f} s"))
        elif what == "vae_decode":
            rows.append((f"VAE decode {r['size']}, {r['variant']}", f"{r['seconds']:.3f} s"))
        elif what == "load":
            rows.append((f"open ({r['source']}, {r['dtype']}) until the pipeline is ready", f"{r['seconds']:.2f} s"))
        elif what == "txt2img":
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in r["stages"].items())
            rest = r["total_s"] - sum(r["stages"].values())
            rows.append((f"txt2img {r['size']}, {r['steps']} steps, Euler a, CFG 7, {r['dtype']}",
                         f"{r['total_s']:.2f} s ({parts}; outside the stages {rest:.2f} s)"))
            rows.append((f"peak RSS, txt2img {r['dtype']}", f"{r['peak_rss_gib']:.2f} GiB"))
    width = max((len(r[0]) for r in rows), default=0)
    import diffusers
    import torch

    print(f"\ndiffusers {diffusers.__version__} on torch {torch.__version__}, {threads()} threads")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join(os.environ.get("TMPDIR") or "/tmp", "kiln-bench-sd15"),
                   help="the folder bench_txt2img made (default: $TMPDIR/kiln-bench-sd15)")
    p.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups: {','.join(GROUPS)}")
    p.add_argument("--unet-variants", default=",".join(UNET_VARIANTS), help=",".join(UNET_VARIANTS))
    p.add_argument("--size", type=int, default=512, help="image size in pixels (default 512)")
    p.add_argument("--steps", type=int, default=20, help="txt2img steps (default 20)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per UNet/VAE variant, median (default 3)")
    p.add_argument("--load-repeats", type=int, default=3, help="fresh processes per load source (default 3)")
    p.add_argument("--txt2img-dtypes", help="txt2img runs to make: fp32,bf16 (default: fp32 for txt2img or rss, "
                   "and bf16 for rss where the CPU has native bf16)")
    p.add_argument("--no-bf16", action="store_true", help="skip bf16 (default where the CPU lacks native bf16)")
    p.add_argument("--force-bf16", action="store_true", help="run bf16 even where the CPU lacks native bf16")
    p.add_argument("--smoke", action="store_true", help="128x128, 2 steps, 1 repeat: checks that everything runs")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.smoke:
        args.size, args.steps, args.repeats, args.load_repeats = 128, 2, 1, 1
    groups = [g for g in args.only.split(",") if g]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        p.error(f"--only: unknown group {unknown[0]!r} (known: {', '.join(GROUPS)})")
    variants = [v for v in args.unet_variants.split(",") if v]
    unknown = [v for v in variants if v not in UNET_VARIANTS]
    if unknown:
        p.error(f"--unet-variants: unknown variant {unknown[0]!r} (known: {', '.join(UNET_VARIANTS)})")
    if args.size < 64 or args.size % 8:
        p.error("--size must be a multiple of 8, at least 64")
    if args.steps < 1 or args.repeats < 1 or args.load_repeats < 1:
        p.error("--steps, --repeats and --load-repeats must be at least 1")
    args.groups, args.variants = groups, variants
    return args


def main(argv):
    args = parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return
    single, folder = model_paths(args.model_dir)
    bf16 = not args.no_bf16 and (args.force_bf16 or cpu_has_bf16())
    if not bf16 and not args.no_bf16:
        print("bench_diffusers: this CPU has no native bf16 (avx512_bf16/amx_bf16): bf16 skipped "
              "(--force-bf16 runs it anyway)", file=sys.stderr)
    variants = [v for v in args.variants if bf16 or v != "bf16"]
    results = []
    if "load" in args.groups:
        results += bench_load(args, single, folder)
    if "unet" in args.groups and variants:
        results += bench_unet(args, folder, variants)
    if "vae" in args.groups:
        results += bench_vae(args, folder, bf16)
    if args.txt2img_dtypes is not None:
        dtypes = [d for d in args.txt2img_dtypes.split(",") if d]
    else:
        dtypes = (["fp32"] if "txt2img" in args.groups or "rss" in args.groups else []) + (
            ["bf16"] if "rss" in args.groups else [])
    for dtype in dtypes:
        if dtype not in ("fp32", "bf16"):
            fail(f"--txt2img-dtypes: unknown dtype {dtype!r} (fp32 or bf16)")
        if dtype == "fp32" or bf16:
            results += bench_txt2img(args, single, folder, dtype)
    table(results)


if __name__ == "__main__":
    main(sys.argv[1:])
