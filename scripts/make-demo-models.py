#!/usr/bin/env python3
# Sparse full-size demo models (real tensor names and shapes, zero data) for screenshots:
#   scripts/make-demo-models.py /tmp/kiln-demo && build/dev/app/kiln /tmp/kiln-demo
import json, os, shutil, struct, sys
root = sys.argv[1]
repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data')
def keys(path):
    out = []
    for line in open(path):
        line = line.rstrip('\n')
        if not line: continue
        name, dims = line.split('\t')
        shape = [int(x) for x in dims.strip('[]').split(',') if x.strip()]
        out.append((name, shape))
    return out
def write(path, entries, metadata=None, dtype='F16'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header = {}
    if metadata: header['__metadata__'] = metadata
    off = 0
    for name, shape in entries:
        n = 2
        for d in shape: n *= d
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [off, off + n]}
        off += n
    text = json.dumps(header).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text))); f.write(text)
    os.truncate(path, 8 + len(text) + off)
g = repo + '/golden/keys/'
write(f'{root}/checkpoints/sd-v1-5-pruned-emaonly.safetensors', keys(g + 'sd15/original_single_file.txt'))
write(f'{root}/checkpoints/sdxl-base-1.0.safetensors', keys(g + 'sdxl_base/original_single_file.txt'))
write(f'{root}/checkpoints/sd21-768-v.safetensors', keys(g + 'sd21/original_single_file.txt'))
open(f'{root}/checkpoints/sd21-768-v.yaml', 'w').write('model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n  params:\n    parameterization: "v"\n')
write(f'{root}/controlnet/control_canny_sd15.safetensors', keys(g + 'controlnet_sd15/original_single_file.txt'))
write(f'{root}/lora/my-dog-v2.safetensors', keys(repo + '/lora/kohya_sd1.txt'),
      {'ss_network_dim': '4', 'ss_network_alpha': '1.0', 'ss_base_model_version': 'sd_v1', 'ss_output_name': 'my-dog-v2',
       'ss_num_train_images': '24', 'ss_learning_rate': '0.0001', 'ss_resolution': '(512, 512)'})
shutil.copytree(repo + '/golden/pipeline/tiny_sd1', f'{root}/diffusers/tiny_sd1')
shutil.copy(repo + '/golden/pipeline/tiny_sd1.safetensors', f'{root}/checkpoints/tiny_sd1.safetensors')
os.makedirs(f'{root}/downloads', exist_ok=True)
open(f'{root}/downloads/half-downloaded.safetensors', 'wb').write(b'\x10\x27\x00\x00\x00\x00\x00\x00{"unet.conv_in.weight": {"dtype":')
