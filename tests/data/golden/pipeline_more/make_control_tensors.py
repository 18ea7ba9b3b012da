#!/usr/bin/env python3
"""Writes cases/<case>/control_images.safetensors: each control_image_<i>.png of a ControlNet case
as a U8 tensor "control_image.<i>" [H, W, 3], so the doctest core tests (no image library) get the
exact pixels the reference pipeline got (PIL RGB; the pipeline divides by 255).

Standard library only (zlib + the five PNG row filters); handles the 8-bit RGB/RGBA/grey,
non-interlaced PNGs of the golden cases. Run: python3 make_control_tensors.py (from this folder)."""
import json
import pathlib
import struct
import zlib


def decode_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    at, idat, header = 8, b"", None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}[color]
    assert depth == 8 and interlace == 0, (path, header)
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            upper_left = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[x] = (line[x] + predictor) & 255
        rows.append(bytes(line))
        previous = line
    rgb = bytearray()
    for line in rows:
        for x in range(width):
            px = line[x * channels:(x + 1) * channels]
            rgb += bytes(px[:1] * 3) if channels == 1 else bytes(px[:3])  # PIL convert("RGB")
    return height, width, bytes(rgb)


def write_safetensors(path, tensors):
    header, blob = {}, b""
    for name, (shape, data) in tensors.items():
        header[name] = {"dtype": "U8", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + blob)


for case in sorted(pathlib.Path(__file__).parent.glob("cases/controlnet*")):
    tensors = {}
    for png in sorted(case.glob("control_image_*.png")):
        h, w, rgb = decode_png(png)
        tensors["control_image." + png.stem.rsplit("_", 1)[1]] = ([h, w, 3], rgb)
    write_safetensors(case / "control_images.safetensors", tensors)
    print(case.name, sorted(tensors))
