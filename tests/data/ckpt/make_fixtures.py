#!/usr/bin/python3
"""Makes the torch checkpoint fixtures of tests/core/io/test_torch_checkpoint.cpp.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tests/data/ckpt/make_fixtures.py

Each <name>.<ext> fixture has a <name>.json beside it giving, per tensor of its state dict,
the dtype (safetensors spelling), shape, strides (null when contiguous), absolute byte
offset of the first element in the file, bytes spanned and the values (row-major, via
tolist()), plus the warnings' key facts. Offsets are found by reading the zip's local
headers and the storage keys of data.pkl with a pickle.Unpickler that builds nothing.

The malicious fixtures are assembled opcode by opcode (nothing is ever unpickled or run);
their payloads would create /tmp/kiln_pwned_* if a reader executed them.
"""

import collections
import json
import os
import pickle
import pickletools
import struct
import sys
import types
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

DTYPE_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def data_offsets(path):
    """Entry name -> absolute offset of its data (local header + name + extra)."""
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            f.seek(info.header_offset)
            header = f.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            out[info.filename] = info.header_offset + 30 + name_len + extra_len
    return out


def write_json(path, doc):
    """One line per tensor: diffable, yet small."""
    lines = ['{"tensors": {']
    items = list(doc["tensors"].items())
    for i, (name, t) in enumerate(items):
        lines.append(" " + json.dumps(name) + ": " + json.dumps(t) + ("," if i + 1 < len(items) else ""))
    lines.append("}")
    for key, value in doc.items():
        if key != "tensors":
            lines[-1] += ","
            lines.append(json.dumps(key) + ": " + json.dumps(value))
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Opaque:
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class KeyFinder(pickle.Unpickler):
    """Maps each tensor of the state dict to its storage key; builds no real objects."""

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *rest: ("tensor", storage[2], offset)
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, *rest: data
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        return Opaque

    def persistent_load(self, pid):
        return pid


def storage_keys(path):
    with zipfile.ZipFile(path) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        root = KeyFinder(z.open(pkl)).load()
        prefix = pkl[: -len("data.pkl")]
    state = root.get("state_dict", root)
    return prefix, {k: v for k, v in state.items() if isinstance(v, tuple) and v and v[0] == "tensor"}


def describe(path, state, extra):
    offsets = data_offsets(path)
    prefix, keys = storage_keys(path)
    tensors = {}
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            continue
        _, key, storage_offset = keys[name]
        size = t.element_size()
        span = 0 if t.numel() == 0 else (1 + sum((n - 1) * s for n, s in zip(t.shape, t.stride()))) * size
        values = t.detach().flatten().tolist() if t.numel() else []
        tensors[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "strides": None if t.is_contiguous() else list(t.stride()),
            "offset": offsets[prefix + "data/" + key] + storage_offset * size,
            "nbytes": span,
            "values": [int(v) if isinstance(v, bool) else v for v in values],
        }
    doc = {"tensors": tensors}
    doc.update(extra)
    base = os.path.splitext(path)[0]
    write_json(base + ".json", doc)


def dtypes_fixture():
    # Values exact in every float type (multiples of 1/2 below 2^8).
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 2
    shared = torch.arange(10, dtype=torch.float32) + 100
    state = {
        "f32": base.clone(),
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "f64": base.double() / 3,
        "i64": (torch.arange(-3, 3, dtype=torch.int64) * 1000000007),
        "i32": torch.arange(-3, 3, dtype=torch.int32) * 100000,
        "i16": torch.arange(-3, 3, dtype=torch.int16) * 1000,
        "i8": torch.arange(-3, 3, dtype=torch.int8) * 40,
        "u8": torch.arange(250, 256, dtype=torch.int32).to(torch.uint8),
        "bool": torch.tensor([True, False, False, True]),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "transposed": (torch.arange(6, dtype=torch.float32).reshape(2, 3) - 1).t(),
        "expanded": torch.arange(3, dtype=torch.float32).expand(2, 3),
        "shared_base": shared,
        "shared_view": shared[4:].view(2, 3),
        "param": torch.nn.Parameter(torch.tensor([1.5, -2.5])),
    }
    path = os.path.join(HERE, "dtypes.pt")
    torch.save(state, path)
    describe(path, state, {"warnings": []})


class ModelCheckpoint:
    """Stands in for a Lightning callback: unpickling it needs a module the reader lacks."""

    def __init__(self):
        self.monitor = "val/loss"
        self.best_model_score = torch.tensor(0.25)
        self.save_top_k = 3


def lightning_fixture():
    module = "pytorch_lightning.callbacks.model_checkpoint"
    for name in ("pytorch_lightning", "pytorch_lightning.callbacks", module):
        sys.modules.setdefault(name, types.ModuleType(name))
    ModelCheckpoint.__module__ = module
    setattr(sys.modules[module], "ModelCheckpoint", ModelCheckpoint)

    torch.manual_seed(0)
    state = collections.OrderedDict()
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.randn(4, 4, 3, 3)
    state["model.diffusion_model.input_blocks.0.0.bias"] = torch.randn(4)
    state["first_stage_model.decoder.conv_out.weight"] = torch.randn(3, 4, 1, 1).half()
    state["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(8).unsqueeze(0)
    state["model_ema.decay"] = torch.tensor(0.9999)
    state["model_ema.num_updates"] = torch.tensor(5, dtype=torch.int32)
    state["some_int"] = 3
    ckpt = {
        "epoch": 1,
        "global_step": 5,
        "pytorch-lightning_version": "1.4.2",
        "state_dict": state,
        "callbacks": {ModelCheckpoint: ModelCheckpoint()},
        "optimizer_states": [],
        "lr_schedulers": [],
        "hparams": {"lr": 1e-4, "name": "sd"},
    }
    path = os.path.join(HERE, "lightning.ckpt")
    torch.save(ckpt, path)
    describe(path, state, {"skipped": ["some_int"], "unknown": [module + ".ModelCheckpoint"]})


def module_fixture():
    torch.manual_seed(1)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    state = model.state_dict()
    assert hasattr(state, "_metadata")
    path = os.path.join(HERE, "module.bin")
    torch.save(state, path)
    describe(path, state, {"warnings": []})


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_int(i):
    return b"J" + struct.pack("<i", i)


def op_rebuild_tensor(key, numel, size, stride):
    """torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())"""
    pid = (b"(" + op_str("storage") + op_global("torch", "FloatStorage") + op_str(key) + op_str("cpu") +
           op_int(numel) + b"tQ")
    tup = lambda xs: b"(" + b"".join(op_int(x) for x in xs) + b"t"
    return (op_global("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + op_int(0) + tup(size) + tup(stride) +
            b"\x89" + op_global("collections", "OrderedDict") + b")R" + b"tR")


def op_call(module, name, arg):
    return op_global(module, name) + op_str(arg) + b"\x85R"


def write_zip(path, folder, pkl, storages):
    pickletools.dis(pkl, out=open(os.devnull, "w"))  # checks the opcodes, runs nothing
    entries = [("data.pkl", pkl), ("byteorder", b"little")]  # byteorder: as PyTorch >= 1.12.1 writes
    entries += [("data/" + key, data) for key, data in storages.items()]
    entries.append(("version", b"3\n"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(folder + "/" + name, date_time=(2020, 1, 1, 0, 0, 0)), data)


def malicious_fixtures():
    shell = "touch /tmp/kiln_pwned_system"
    python = "__import__('os').system('touch /tmp/kiln_pwned_eval')"
    weight = torch.tensor([[0.5, -1.0, 2.0], [4.0, 8.0, -16.0]])
    pkl = (b"\x80\x02}(" + op_str("weight") + op_rebuild_tensor("0", 6, [2, 3], [3, 1]) +
           op_str("payload") + op_call("os", "system", shell) +
           op_str("payload2") + op_call("builtins", "eval", python) + b"u.")
    # zipfile does not align data: here the storage lands on an offset that is not a multiple
    # of 4, which makes the reader copy instead of mapping.
    path = os.path.join(HERE, "malicious.pt")
    write_zip(path, "malicious", pkl, {"0": struct.pack("<6f", *weight.flatten().tolist())})
    offset = data_offsets(path)["malicious/data/0"]
    assert offset % 4 != 0, offset
    write_json(os.path.splitext(path)[0] + ".json",
               {"tensors": {"weight": {"dtype": "F32", "shape": [2, 3], "strides": None, "offset": offset, "nbytes": 24,
                                       "values": weight.flatten().tolist()}},
                "skipped": ["payload", "payload2"], "unknown": ["os.system", "builtins.eval"]})

    root = b"\x80\x02" + op_call("os", "system", shell) + b"."
    write_zip(os.path.join(HERE, "malicious_root.pt"), "malicious_root", root, {})


def legacy_fixture():
    torch.save({"a": torch.arange(4, dtype=torch.float32)}, os.path.join(HERE, "legacy.pt"),
               _use_new_zipfile_serialization=False)


def main():
    dtypes_fixture()
    lightning_fixture()
    module_fixture()
    malicious_fixtures()
    legacy_fixture()
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in os.listdir(HERE))
    print(f"fixtures written to {HERE} ({total} bytes in all)")


if __name__ == "__main__":
    main()
