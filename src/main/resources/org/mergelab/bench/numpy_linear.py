"""The comparison the merge benchmark states: a float32 numpy merge, the way a notebook or mergekit's CPU path does it.

Usage: python3 numpy_linear.py OUT_DIR MODEL_DIR... (a linear merge with equal weights of models that share one shard
layout, as the benchmark's synthetic models do). Each tensor is loaded whole, widened to float32, combined with numpy
array expressions (one temporary per operation, numpy's single thread), rounded back to bf16 (nearest, ties to even,
NaN kept) and written; every output shard is fsync'd. Prints the seconds it took.
"""
import json
import os
import shutil
import struct
import sys
import time

import numpy as np


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        raw = f.read(n)
        return n, raw, json.loads(raw)


def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    b = x.view(np.uint32)
    out = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    out[nan] = ((b[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def shards(model):
    return sorted(p for p in os.listdir(model) if p.endswith(".safetensors"))


def main():
    start = time.perf_counter()
    out_dir, models = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(models[0]):  # config.json, the shard index, tokenizer files: as the first model has them
        if not name.endswith(".safetensors"):
            shutil.copy(os.path.join(models[0], name), out_dir)
    weight = np.float32(1.0 / len(models))
    for shard in shards(models[0]):
        paths = [os.path.join(m, shard) for m in models]
        n, raw, header = read_header(paths[0])
        data = [np.memmap(p, dtype=np.uint8, mode="r", offset=8 + n) for p in paths]
        with open(os.path.join(out_dir, shard), "wb") as out:
            out.write(struct.pack("<Q", n))
            out.write(raw)
            for name, t in sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                                  key=lambda kv: kv[1]["data_offsets"][0]):
                a, b = t["data_offsets"]
                if t["dtype"] != "BF16":
                    out.write(data[0][a:b].tobytes())
                    continue
                acc = None
                for d in data:
                    x = bf16_to_f32(np.array(d[a:b]).view(np.uint16))
                    acc = weight * x if acc is None else acc + weight * x
                out.write(f32_to_bf16(acc).tobytes())
            out.flush()
            os.fsync(out.fileno())
    print("%.3f" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
