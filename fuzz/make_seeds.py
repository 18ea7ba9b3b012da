#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets added for the model configs, LoRAs, embeddings,
PNG parameters, API bodies, captioning answers and SafeZip (fuzz/corpus/<target>/). Small, valid
inputs of each shape the parser knows; libFuzzer mutates from there. Deterministic: a second run
writes the same bytes. Run from the repository root: python3 fuzz/make_seeds.py
(.pt seeds need torch, e.g. the LibTorch wheel's environment ~/.cache/kiln/libtorch-*/bin/python3;
they are skipped without it)."""
import base64, io, json, os, random, shutil, struct, zipfile, zlib

ROOT = 'fuzz/corpus'
rng = random.Random(1)

def out(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape) in tensors.items():
        n = 1
        for s in shape: n *= s
        if dtype == 'F32':
            blob = struct.pack('<%df' % n, *[rng.gauss(0, 0.02) for _ in range(n)])
        elif dtype == 'F16':
            blob = struct.pack('<%de' % n, *[rng.gauss(0, 0.02) for _ in range(n)])
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob); offset += len(blob)
    if metadata: header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)

# --- model configs: the tiny test models' and their variants
for path in ['tests/data/golden/pipeline/tiny_sd1/unet/config.json', 'tests/data/golden/pipeline/tiny_sd1/vae/config.json',
             'tests/data/golden/pipeline/tiny_sd1/text_encoder/config.json', 'tests/data/golden/controlnet/model/config.json',
             'tests/data/golden/unet/sdxl/model/config.json', 'tests/data/golden/unet/sd2/model/config.json',
             'tests/data/golden/clip_text/gelu/model/config.json', 'tests/data/golden/pipeline_more/tiny_sdxl/text_encoder_2/config.json']:
    out('fuzz_model_config', path.split('/')[-4] + '_' + path.split('/')[-2] + '.json', open(path, 'rb').read())
out('fuzz_model_config', 'python_tokens.json', '{"norm_eps": NaN, "sample_size": Infinity, "block_out_channels": [32, 64], "layers_per_block": -Infinity}')

# --- LoRAs for the tiny SD 1.x model (rank 2): kohya, diffusers attn-procs, PEFT, text encoder
unet_mod = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q'
te_mod = 'text_model.encoder.layers.0.self_attn.q_proj'
def kohya(prefix, module):
    return prefix + '_' + module.replace('.', '_')
k_unet, k_te = kohya('lora_unet', unet_mod), kohya('lora_te', te_mod)
out('fuzz_lora', 'kohya.safetensors', safetensors({
    k_unet + '.lora_down.weight': ('F16', (2, 32)), k_unet + '.lora_up.weight': ('F16', (32, 2)), k_unet + '.alpha': ('F16', ()),
    k_te + '.lora_down.weight': ('F16', (2, 32)), k_te + '.lora_up.weight': ('F16', (32, 2))},
    {'ss_network_module': 'networks.lora', 'ss_base_model_version': 'sd_v1'}))
out('fuzz_lora', 'attn_procs.safetensors', safetensors({
    'unet.' + unet_mod.replace('.to_q', '.processor.to_q_lora') + '.down.weight': ('F32', (2, 32)),
    'unet.' + unet_mod.replace('.to_q', '.processor.to_q_lora') + '.up.weight': ('F32', (32, 2))}))
out('fuzz_lora', 'peft.safetensors', safetensors({
    'unet.' + unet_mod + '.lora_A.weight': ('F32', (2, 32)), 'unet.' + unet_mod + '.lora_B.weight': ('F32', (32, 2)),
    'text_encoder.' + te_mod + '.lora_A.weight': ('F32', (2, 32)), 'text_encoder.' + te_mod + '.lora_B.weight': ('F32', (32, 2))}))
conv = 'lora_unet_down_blocks_0_resnets_0_conv1'
out('fuzz_lora', 'kohya_conv.safetensors', safetensors({
    conv + '.lora_down.weight': ('F16', (2, 32, 3, 3)), conv + '.lora_up.weight': ('F16', (32, 2, 1, 1)), conv + '.alpha': ('F32', ())}))

# --- embeddings: A1111 safetensors, SDXL pair, and torch .pt (string_to_param)
out('fuzz_embedding', 'sd1.safetensors', safetensors({'emb_params': ('F32', (2, 32))}))
out('fuzz_embedding', 'sdxl.safetensors', safetensors({'clip_l': ('F16', (1, 768)), 'clip_g': ('F16', (1, 1280))}))
try:
    import torch
    buf = io.BytesIO()
    torch.manual_seed(0)
    torch.save({'string_to_token': {'*': 265}, 'string_to_param': {'*': torch.randn(2, 32)}, 'name': 'tok', 'step': 100}, buf)
    out('fuzz_embedding', 'a1111.pt', buf.getvalue())
    buf = io.BytesIO()
    torch.save({'<tok>': torch.randn(32)}, buf)
    out('fuzz_embedding', 'diffusers_learned_embeds.pt', buf.getvalue())
    buf = io.BytesIO()
    torch.save({k_unet + '.lora_down.weight': torch.randn(2, 32).half(), k_unet + '.lora_up.weight': torch.randn(32, 2).half()}, buf)
    out('fuzz_lora', 'kohya.pt', buf.getvalue())
except ImportError:
    pass

# --- PNG parameters: infotexts and PNGs carrying them
infotexts = [
    'a cat, <lora:film:0.8>, (masterpiece:1.2)\nNegative prompt: blurry, [lowres]\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.55, Clip skip: 2, Hires upscale: 2, Hires steps: 10, Hires upscaler: Latent, Lora hashes: "film: abcdef123456", TI hashes: "tok: 0123456789ab", Version: v1.9.4',
    'portrait\nSteps: 4, Sampler: Euler a, CFG scale: 1, Seed: 42, Size: 1024x1024, Model: sdxl_turbo, ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1, Resize Mode: Crop and Resize, Low Vram: False, Processor Res: 512, Threshold A: 100, Threshold B: 200, Guidance Start: 0, Guidance End: 1, Pixel Perfect: False, Control Mode: Balanced", Kiln precision: fp16',
    'Steps: 30, Sampler: DDIM, CFG scale: 7.5, Seed: 18446744073709551615, Size: 64x64, Hires resize: 1024x768',
]
def png(text, key=b'parameters'):
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', 2, 2, 8, 2, 0, 0, 0)
    raw = b''.join(b'\x00' + bytes(6) for _ in range(2))
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'tEXt', key + b'\x00' + text.encode('latin-1', 'replace')) + \
        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
def png_itxt(text):
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', 1, 1, 8, 0, 0, 0, 0)
    itxt = b'parameters\x00\x01\x00\x00\x00' + zlib.compress(text.encode())
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'iTXt', itxt) + chunk(b'IDAT', zlib.compress(b'\x00\x80')) + chunk(b'IEND', b'')
for i, t in enumerate(infotexts):
    out('fuzz_png_parameters', 'infotext%d.txt' % i, t)
    out('fuzz_png_parameters', 'text%d.png' % i, png(t))
out('fuzz_png_parameters', 'itxt_utf8.png', png_itxt('ein Hund, 犬\nSteps: 8, Sampler: LCM, CFG scale: 1.5, Seed: 7, Size: 512x512'))

# --- A1111 API bodies
tiny_png = base64.b64encode(png('x')).decode()
out('fuzz_api_request', 'txt2img.json', json.dumps({
    'prompt': 'a cat <lora:film:0.7>', 'negative_prompt': 'blurry', 'steps': 20, 'sampler_name': 'DPM++ 2M', 'scheduler': 'Karras',
    'cfg_scale': 7, 'seed': 5, 'subseed': -1, 'width': 512, 'height': 512, 'batch_size': 2, 'n_iter': 1,
    'enable_hr': True, 'hr_scale': 2, 'hr_upscaler': 'Latent', 'hr_second_pass_steps': 10, 'denoising_strength': 0.5,
    'override_settings': {'sd_model_checkpoint': 'tiny', 'CLIP_stop_at_last_layers': 2}, 'send_images': True, 'save_images': False}))
out('fuzz_api_request', 'img2img.json', json.dumps({
    'prompt': 'a dog', 'init_images': ['data:image/png;base64,' + tiny_png], 'mask': tiny_png, 'inpainting_fill': 1,
    'inpaint_full_res': False, 'mask_blur': 4, 'inpainting_mask_invert': 0, 'denoising_strength': 0.75, 'resize_mode': 1,
    'steps': 8, 'sampler_name': 'Euler a', 'cfg_scale': 1.0, 'width': 64, 'height': 64}))
out('fuzz_api_request', 'controlnet.json', json.dumps({
    'prompt': 'pose', 'steps': 4, 'alwayson_scripts': {'ControlNet': {'args': [
        {'enabled': True, 'input_image': tiny_png, 'module': 'canny', 'model': 'control_v11p_sd15_canny [d14c016b]',
         'weight': 0.8, 'guidance_start': 0.1, 'guidance_end': 0.9, 'control_mode': 'My prompt is more important',
         'resize_mode': 'Just Resize', 'pixel_perfect': True, 'processor_res': 256, 'threshold_a': 50, 'threshold_b': 150}]}}}))
out('fuzz_api_request', 'png_info.json', json.dumps({'image': 'data:image/png;base64,' + base64.b64encode(png(infotexts[0])).decode()}))

# --- captioning answers
out('fuzz_caption_answer', 'openai.json', json.dumps({'id': 'c1', 'object': 'chat.completion', 'choices': [
    {'index': 0, 'message': {'role': 'assistant', 'content': 'A photo of sks dog on a red sofa.'}, 'finish_reason': 'stop'}],
    'usage': {'prompt_tokens': 812, 'completion_tokens': 12, 'total_tokens': 824}}))
out('fuzz_caption_answer', 'parts.json', json.dumps({'choices': [{'message': {'content': [{'type': 'text', 'text': 'Caption: "a cat,'}, {'type': 'text', 'text': ' a cat, a cat, a cat"'}]}, 'finish_reason': 'length'}]}))
out('fuzz_caption_answer', 'refusal.json', json.dumps({'choices': [{'message': {'content': None, 'refusal': "I'm sorry, I can't help with that."}}]}))
out('fuzz_caption_answer', 'error.json', json.dumps({'error': {'message': 'image input is not supported - hint: if this is unexpected, you may need to provide the mmproj', 'type': 'invalid_request_error', 'code': 400}}))
out('fuzz_caption_answer', 'vllm.json', json.dumps({'object': 'error', 'message': 'insufficient_quota', 'type': 'BadRequestError', 'param': None, 'code': 402}))
out('fuzz_caption_answer', 'retry_after.txt', 'Mon, 07 Dec 2026 12:00:30 GMT\n<!DOCTYPE html><html><body>502 Bad Gateway</body></html>')

# --- zips for SafeZip
def zipped(entries, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    return buf.getvalue()
out('fuzz_safe_zip', 'dataset.zip', zipped([('photos/', b''), ('photos/a.png', png('x')), ('photos/a.txt', b'a photo of sks dog'), ('photos/b.txt', b'b' * 300)]))
out('fuzz_safe_zip', 'stored.zip', zipped([('kiln-session.json', b'{"format":"kiln-session","version":1}'), ('session/metrics.jsonl', b'{"step":1,"loss":0.1}\n')], zipfile.ZIP_STORED))
out('fuzz_safe_zip', 'windows.zip', zipped([('dir\\file.txt', b'backslashes'), ('other/x', b'')]))
