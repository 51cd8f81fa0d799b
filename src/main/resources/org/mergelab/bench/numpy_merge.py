"""The comparisons the merge benchmark states: float32 numpy merges, the way a notebook or mergekit's CPU path does them.

Usage:
  python3 numpy_merge.py linear OUT_DIR MODEL_DIR...
      the linear merge with equal weights
  python3 numpy_merge.py ties WEIGHT DENSITY OUT_DIR BASE_DIR MODEL_DIR...
      mergekit's TIES (normalize on, lambda 1): task vectors t_i = x_i - b, each trimmed to its floor(density*n)
      largest magnitudes (np.partition, where mergekit sorts; ties in index order), D_i = w*t_i, sign elected by the sum of the D_i (a
      zero sum elects +), M = sum of the D_i of that sign, S = sum of their weights (1 where 0), out = b + M/S
Models share one shard layout, as the benchmark's synthetic models do. Each tensor is loaded whole, widened to float32,
combined with numpy array expressions (one temporary per operation, numpy's single thread), rounded back to bf16
(nearest, ties to even, NaN kept) and written; every output shard is fsync'd. Prints the seconds it took.
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


def linear(xs):
    weight = np.float32(1.0 / len(xs))
    acc = None
    for x in xs:
        acc = weight * x if acc is None else acc + weight * x
    return acc


def ties(weight, density):
    w = np.float32(weight)

    def merge(xs):
        b, models = xs[0], xs[1:]
        deltas = []
        for x in models:
            t = x - b
            k = int(density * t.size)
            if k < t.size:
                # the k largest magnitudes; of those equal to the k-th, the first in index order (as MergeLab
                # breaks ties; mergekit's argsort breaks them in whatever order the sort leaves)
                magnitude = np.abs(t)
                kth = np.partition(magnitude, t.size - k)[t.size - k]
                keep = magnitude > kth
                keep[np.flatnonzero(magnitude == kth)[: k - np.count_nonzero(keep)]] = True
                t[~keep] = 0
            deltas.append(w * t)
        elected = np.where(sum(deltas) >= 0, np.float32(1), np.float32(-1))
        mixed = np.zeros_like(b)
        divisor = np.zeros_like(b)
        for d in deltas:
            agree = np.sign(d) == elected
            mixed += np.where(agree, d, np.float32(0))
            divisor += np.where(agree, w, np.float32(0))
        divisor[divisor == 0] = 1
        return b + mixed / divisor

    return merge


def main():
    start = time.perf_counter()
    method = sys.argv[1]
    if method == "linear":
        combine, out_dir, models = linear, sys.argv[2], sys.argv[3:]
    elif method == "ties":
        combine = ties(float(sys.argv[2]), float(sys.argv[3]))
        out_dir, models = sys.argv[4], sys.argv[5:]
    else:
        sys.exit("unknown method " + method)
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(models[0]):  # config.json, the shard index, tokenizer files: as the first model has them
        if not name.endswith(".safetensors"):
            shutil.copy(os.path.join(models[0], name), out_dir)
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
                xs = [bf16_to_f32(np.array(d[a:b]).view(np.uint16)) for d in data]
                out.write(f32_to_bf16(combine(xs)).tobytes())
            out.flush()
            os.fsync(out.fileno())
    print("%.3f" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
