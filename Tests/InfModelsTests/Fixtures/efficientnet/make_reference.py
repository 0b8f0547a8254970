#!/usr/bin/env python3
"""Reference logits of EfficientNet-Lite0 on the photographs of images.safetensors, made without Swift.

A float64 NumPy forward pass written here from the architecture (EfficientNet-PyTorch's
MBConvBlock with the Lite settings): TensorFlow "same" padding (the extra row/column of an
even total goes to the bottom/right), batch norm applied as batch norm (not folded) with
eps from config.json, ReLU6, inverted residual blocks with the skip when stride is 1 and the
channel counts match, global average pooling, the fully connected classifier. Convolutions are
written directly (sums over kernel taps), depthwise ones per channel; nothing is shared with
infbench's Swift code or with the converter beyond the files it reads.

Regenerate (from the repository root, after `Models/fetch-efficientnet.sh`):

    PYTHONPATH=<a folder with numpy> python3 Tests/InfModelsTests/Fixtures/efficientnet/make_reference.py \
        Models/efficientnet-lite0 > Tests/InfModelsTests/Fixtures/efficientnet/reference.json
"""
import hashlib
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        assert h["dtype"] == "F32", name
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").reshape(h["shape"]).astype(np.float64)
    return out


def same_pad(x, k, s):
    """Zero-pads (C, H, W) as TensorFlow's SAME: output ceil(H/s); extra padding at the bottom/right."""
    _, h, w = x.shape
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))


def conv(x, w, s):
    """x (C, H, W), w (O, C, K, K) → (O, OH, OW), same padding, stride s."""
    k = w.shape[2]
    xp = same_pad(x, k, s)
    oh, ow = -(-x.shape[1] // s), -(-x.shape[2] // s)
    out = np.zeros((w.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + s * oh:s, j:j + s * ow:s]            # (C, OH, OW)
            out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return out


def depthwise(x, w, s):
    """x (C, H, W), w (C, 1, K, K) → (C, OH, OW): each channel convolved with its own kernel."""
    k = w.shape[2]
    xp = same_pad(x, k, s)
    oh, ow = -(-x.shape[1] // s), -(-x.shape[2] // s)
    out = np.zeros((x.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            out += w[:, 0, i, j][:, None, None] * xp[:, i:i + s * oh:s, j:j + s * ow:s]
    return out


def bn(x, p, name, eps):
    g, b, m, v = (p[f"{name}.{t}"] for t in ("weight", "bias", "running_mean", "running_var"))
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + eps) * g[:, None, None] + b[:, None, None]


def relu6(x):
    return np.clip(x, 0, 6)


def forward(img, p, cfg):
    eps = cfg["batch_norm_eps"]
    x = relu6(bn(conv(img, p["_conv_stem.weight"], cfg["stem_stride"]), p, "_bn0", eps))
    for i, blk in enumerate(cfg["blocks"]):
        pre = f"_blocks.{i}"
        inp = x
        if blk["expand_ratio"] != 1:
            x = relu6(bn(conv(x, p[f"{pre}._expand_conv.weight"], 1), p, f"{pre}._bn0", eps))
        x = relu6(bn(depthwise(x, p[f"{pre}._depthwise_conv.weight"], blk["stride"]), p, f"{pre}._bn1", eps))
        x = bn(conv(x, p[f"{pre}._project_conv.weight"], 1), p, f"{pre}._bn2", eps)
        if blk["stride"] == 1 and blk["in_channels"] == blk["out_channels"]:
            x = x + inp
    x = relu6(bn(conv(x, p["_conv_head.weight"], 1), p, "_bn1", eps))
    pooled = x.mean(axis=(1, 2))
    return p["_fc.weight"] @ pooled + p["_fc.bias"]


def main():
    d = sys.argv[1]
    cfg = json.load(open(f"{d}/config.json"))
    p = read_safetensors(f"{d}/model.safetensors")
    images = read_safetensors(f"{d}/images.safetensors")["images"]
    names, classes = cfg["infbench_image_names"], cfg["class_names"]
    logits = [forward(img, p, cfg) for img in images]
    top5 = [[int(c) for c in np.argsort(-l, kind="stable")[:5]] for l in logits]
    digest = {f: hashlib.sha256(open(f"{d}/{f}", "rb").read()).hexdigest() for f in ("model.safetensors", "images.safetensors")}
    json.dump({
        "generated_by": f"make_reference.py, NumPy {np.__version__}, float64",
        "model_files": digest,
        "images": names,
        "top5": top5,
        "top5_names": [[classes[c] for c in t] for t in top5],
        "logits": [[round(float(v), 5) for v in l] for l in logits],
    }, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")
    for n, t in zip(names, top5):
        print(f"{n:32s} " + ", ".join(classes[c] for c in t), file=sys.stderr)


if __name__ == "__main__":
    main()
