#!/usr/bin/env python3
"""diffusers' side of issue 23's few-step timings: the same work as
`bench_txt2img 1 512 cpu fp32 euler_a_trailing 0 --repeat=3 --taesd` (SD-Turbo style: 1 step, no CFG,
TAESD decode) and `bench_txt2img 4 512 cpu fp32 lcm 1 --repeat=3` (LCM: 4 steps, CFG 1, full VAE), on
the random SD 1.5 folder bench_txt2img makes ($TMPDIR/kiln-bench-sd15/diffusers) and a TAESD
(AutoencoderTiny) with diffusers' own random init. Run with the venv of bench/compare/setup.sh:

    $(bench/compare/setup.sh)/bin/python bench/compare/bench_diffusers_fast.py [--repeats 3]

Prints the median total of each run and, like Kiln's bench, one UNet forward (batch 1) and one decode
alone, and the run's overhead over (model calls x UNet + decode)."""

import argparse
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch
from diffusers import (AutoencoderTiny, EulerAncestralDiscreteScheduler, LCMScheduler,
                       StableDiffusionPipeline)

# The same prompts and timing as the main comparison (its import only sets Hugging Face offline).
from bench_diffusers import NEGATIVE, PROMPT, median_seconds  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", default=os.path.join(os.environ.get("TMPDIR") or "/tmp", "kiln-bench-sd15", "diffusers"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=int(os.environ.get("KILN_THREADS", os.cpu_count())))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, diffusers model {a.model_dir}")
    pipe = StableDiffusionPipeline.from_pretrained(a.model_dir, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    full_vae = pipe.vae
    torch.manual_seed(7)
    tiny = AutoencoderTiny().eval()
    unet_in = torch.randn(1, 4, 64, 64)
    text = torch.randn(1, 77, 768)

    with torch.inference_mode():
        unet = median_seconds(a.repeats, lambda: pipe.unet(unet_in, 999, encoder_hidden_states=text))
        tiny_decode = median_seconds(a.repeats, lambda: tiny.decode(unet_in))
        vae_decode = median_seconds(a.repeats, lambda: full_vae.decode(unet_in / full_vae.config.scaling_factor))
    print(f"alone: UNet forward batch 1 {unet:.2f} s, TAESD decode {tiny_decode:.2f} s, VAE decode {vae_decode:.2f} s")

    def run(steps, cfg):
        pipe(PROMPT, negative_prompt=NEGATIVE, num_inference_steps=steps, guidance_scale=cfg, height=512, width=512,
             generator=torch.Generator().manual_seed(1), output_type="np")

    # SD-Turbo style: Euler a, trailing spacing, 1 step, no CFG, TAESD decode.
    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing")
    pipe.vae = tiny
    run(1, 0.0)  # warm-up
    turbo = median_seconds(a.repeats, lambda: run(1, 0.0))
    parts = unet + tiny_decode
    print(f"Turbo style, 1 step, CFG 0, TAESD decode: {turbo:.2f} s (median of {a.repeats}); "
          f"1 call + decode = {parts:.2f} s, the run takes {100 * (turbo - parts) / parts:+.1f}% more")

    # LCM: 4 steps, CFG 1 (off), full VAE.
    pipe.scheduler = LCMScheduler.from_config(pipe.scheduler.config)
    pipe.vae = full_vae
    lcm = median_seconds(a.repeats, lambda: run(4, 1.0))
    parts = 4 * unet + vae_decode
    print(f"LCM, 4 steps, CFG 1, VAE decode: {lcm:.2f} s (median of {a.repeats}); "
          f"4 calls + decode = {parts:.2f} s, the run takes {100 * (lcm - parts) / parts:+.1f}% more")


if __name__ == "__main__":
    main()
