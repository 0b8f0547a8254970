#!/usr/bin/env python3
# Writes a small .safetensors file with numpy and the standard library only, so the
# Swift reader is checked against a writer it shares no code with.
# Usage: make_safetensors_fixture.py OUT.safetensors   (SafetensorsTests runs it)
import json
import struct
import sys

import numpy as np


def bf16_bytes(a):
    # numpy has no bfloat16: keep the top half of each float32. The values below
    # are exact in bf16, so truncation and round-to-nearest agree.
    return (a.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()


def main(path):
    tensors = [
        # name, dtype, shape, little-endian bytes
        ("dense.weight", "F32", [3, 4], (np.arange(12, dtype="<f4").reshape(3, 4) / 8 - 0.5).tobytes()),
        ("dense.bias", "F16", [4], np.array([0.1, -2.5, 65504.0, 6e-8], dtype="<f2").tobytes()),
        ("norm.weight", "BF16", [3], bf16_bytes(np.array([1.5, -0.25, 2.0**100], dtype="<f4"))),
        ("embeddings.position_ids", "I64", [1, 5], np.arange(5, dtype="<i8").reshape(1, 5).tobytes()),
    ]
    header, blob = {"__metadata__": {"format": "pt", "source": "numpy"}}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    # Unsorted, spaced JSON on purpose: the reader must not depend on our writer's layout.
    text = json.dumps(header, indent=1).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


if __name__ == "__main__":
    main(sys.argv[1])
