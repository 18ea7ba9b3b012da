#!/usr/bin/env python3
"""Makes the ESRGAN-family (RRDBNet) fixtures of tests/core/models/test_rrdbnet.cpp.

Run with the pinned LibTorch's Python (torch, no numpy or safetensors needed):
  ~/.cache/kiln/libtorch-*/bin/python3 tests/data/esrgan/make_esrgan_fixtures.py

Tiny random RRDBNets (nf 8, gc 4, nb 2) written in the two key layouts Kiln reads:
  x4_basicsr.pth          BasicSR / Real-ESRGAN: {"params_ema": state dict} via torch.save
  x4_old.pth              old ESRGAN (4x-UltraSharp and most community models): model.0, model.1.sub.N.RDBk.convM.0, ...
  x4_old.safetensors      the same keys as a safetensors file
  x2_basicsr.safetensors  Real-ESRGAN x2 layout: pixel-unshuffle by 2 at the input (conv_first takes 12 channels)
  swinir_like.safetensors a few SwinIR-style keys (must be refused)
and reference.safetensors: `input` [1, 3, 13, 11] in [0, 1] and the models' outputs `x4` and `x2`
(fp32, not clamped). The x2 input size is odd on purpose (reflect padding before the unshuffle).
"""

import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class DenseBlock(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)

    def forward(self, x):
        act = lambda t: F.leaky_relu(t, 0.2)
        x1 = act(self.conv1(x))
        x2 = act(self.conv2(torch.cat((x, x1), 1)))
        x3 = act(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = act(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = DenseBlock(nf, gc), DenseBlock(nf, gc), DenseBlock(nf, gc)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class Net(nn.Module):
    """BasicSR's RRDBNet: scale 4 as is, scale 2 with a pixel-unshuffle by 2 first."""

    def __init__(self, scale, nf=8, nb=2, gc=4):
        super().__init__()
        self.scale = scale
        unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self.unshuffle = unshuffle
        self.conv_first = nn.Conv2d(3 * unshuffle * unshuffle, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, gc) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x):
        h, w = x.shape[2:]
        u = self.unshuffle
        if u > 1:
            x = F.pad(x, (0, (u - w % u) % u, 0, (u - h % u) % u), mode="reflect")
            x = F.pixel_unshuffle(x, u)
        act = lambda t: F.leaky_relu(t, 0.2)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        out = self.conv_last(act(self.conv_hr(feat)))
        return out[:, :, : h * self.scale, : w * self.scale]


def old_layout(state, nb):
    """BasicSR names -> the old ESRGAN names (model.N as in its nn.Sequential)."""
    out = {}
    for key, value in state.items():
        name, kind = key.rsplit(".", 1)
        if name == "conv_first":
            new = "model.0"
        elif name.startswith("body."):
            _, block, rdb, conv = name.split(".")
            new = f"model.1.sub.{block}.RDB{rdb[3:]}.{conv}.0"
        else:
            new = {"conv_body": f"model.1.sub.{nb}", "conv_up1": "model.3", "conv_up2": "model.6",
                   "conv_hr": "model.8", "conv_last": "model.10"}[name]
        out[f"{new}.{kind}"] = value
    return out


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = bytes(t.contiguous().to(torch.float32).untyped_storage())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main():
    torch.manual_seed(18)
    x = torch.rand(1, 3, 13, 11)
    x4 = Net(4).eval()
    x2 = Net(2).eval()
    with torch.no_grad():
        out4 = x4(x)
        out2 = x2(x)
    s4 = {k: v.clone() for k, v in x4.state_dict().items()}
    s2 = {k: v.clone() for k, v in x2.state_dict().items()}
    torch.save({"params_ema": s4}, os.path.join(HERE, "x4_basicsr.pth"))
    torch.save(old_layout(s4, 2), os.path.join(HERE, "x4_old.pth"))
    save_safetensors(os.path.join(HERE, "x4_old.safetensors"), old_layout(s4, 2))
    save_safetensors(os.path.join(HERE, "x2_basicsr.safetensors"), s2)
    save_safetensors(os.path.join(HERE, "swinir_like.safetensors"), {
        "conv_first.weight": torch.zeros(8, 3, 3, 3),
        "layers.0.residual_group.blocks.0.attn.relative_position_bias_table": torch.zeros(9, 2),
        "layers.0.residual_group.blocks.0.norm1.weight": torch.zeros(8),
    })
    save_safetensors(os.path.join(HERE, "reference.safetensors"), {"input": x, "x4": out4, "x2": out2})
    print("x4", tuple(out4.shape), "x2", tuple(out2.shape))


if __name__ == "__main__":
    main()
