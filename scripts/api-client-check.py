#!/usr/bin/env python3
"""Drives a running `kiln-cli serve` with a real AUTOMATIC1111 client (the `webuiapi` package)
the way programs written for A1111 do: lists models and samplers, switches the model, txt2img,
img2img with a mask and with a ControlNet unit, png-info, progress and interrupt while a job
runs. Each step asserts what A1111 would give. Not part of the test suite (it needs webuiapi from
PyPI); tests/app/cli/test_cli_serve.cpp covers the same over raw HTTP.

    python3 -m venv /tmp/webui && /tmp/webui/bin/pip install webuiapi
    mkdir -p /tmp/m && cp -r tests/data/golden/pipeline/tiny_sd1 tests/data/golden/controlnet/model /tmp/m/
    kiln-cli serve --port 7861 --models /tmp/m [--api-auth alice:s3cret] &
    /tmp/webui/bin/python scripts/api-client-check.py --port 7861 [--user alice --password s3cret]

Any SD checkpoints work (generation is 64x64, a few steps); a ControlNet among the models adds the
ControlNet steps.
"""
import argparse
import threading
import time

import webuiapi
from PIL import Image, ImageDraw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--user")
    parser.add_argument("--password")
    a = parser.parse_args()
    api = webuiapi.WebUIApi(host=a.host, port=a.port, sampler="Euler a", steps=4, username=a.user, password=a.password)

    models = [m["title"] for m in api.get_sd_models()]
    assert models, "no models"
    samplers = [s["name"] for s in api.get_samplers()]
    assert "DPM++ 2M Karras" in samplers and "Euler a" in samplers, samplers
    print("models:", models)

    api.util_set_model(models[-1])
    current = api.util_get_current_model()
    assert current.split(" [")[0] == models[-1].split(" [")[0], (current, models[-1])

    r = api.txt2img(prompt="a cat", negative_prompt="blurry", seed=7, width=64, height=64, batch_size=2,
                    sampler_name="DPM++ 2M", scheduler="Karras")
    assert len(r.images) == 2 and r.images[0].size == (64, 64)
    assert r.info["all_seeds"] == [7, 8], r.info["all_seeds"]
    assert api.png_info(r.image).parameters["Seed"] == "7"
    print("txt2img, png-info: ok")

    init = Image.new("RGB", (64, 64), (200, 30, 30))
    mask = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(mask).rectangle([0, 0, 31, 63], fill=255)
    r = api.img2img(images=[init], mask_image=mask, prompt="a dog", width=64, height=64, denoising_strength=0.7,
                    seed=3, mask_blur=0)
    assert r.images[0].convert("RGB").getpixel((60, 30)) == (200, 30, 30), "outside the mask must stay"
    print("img2img with mask: ok")

    cn_models = api.controlnet_model_list()
    if cn_models:
        picture = Image.new("RGB", (64, 64), "white")
        ImageDraw.Draw(picture).rectangle([16, 16, 47, 47], fill="black")
        unit = webuiapi.ControlNetUnit(image=picture, module="canny", model=cn_models[0], processor_res=64)
        r = api.txt2img(prompt="a house", seed=5, width=64, height=64, controlnet_units=[unit])
        assert len(r.images) == 2 and "ControlNet 0" in r.info["infotexts"][0]
        r = api.img2img(images=[init], prompt="a house", seed=5, width=64, height=64,
                        controlnet_units=[webuiapi.ControlNetUnit(module="none", model=cn_models[0])])
        assert "ControlNet 0" in r.info["infotexts"][0]
        assert api.controlnet_detect(images=[picture], module="canny", processor_res=64).images
        print("ControlNet: ok")

    result = {}
    job = threading.Thread(target=lambda: result.setdefault("r", api.txt2img(
        prompt="slow", steps=300, width=128, height=128, n_iter=2, alwayson_scripts={})))
    job.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        p = api.get_progress()
        if p["state"]["sampling_step"] > 0:
            break
        time.sleep(0.05)
    start = time.time()
    p = api.get_progress()
    assert time.time() - start < 1.0 and p["state"]["job_count"] == 2, p["state"]
    start = time.time()
    assert api.interrupt() == {}
    assert time.time() - start < 1.0
    job.join(60)
    assert "r" in result and result["r"].info["all_seeds"], "the interrupted request must answer"
    print("progress, interrupt: ok")
    print("OK")


if __name__ == "__main__":
    main()
