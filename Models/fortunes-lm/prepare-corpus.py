#!/usr/bin/env python3
# Turns Debian's `fortunes` package (/usr/share/games/fortunes) into fixed train / validation /
# test splits for the fortunes-lm language model, and trains its WordPiece vocabulary on the
# training split only (Hugging Face `tokenizers`, BERT normalisation: lowercase, accents stripped).
# Split by fortune, after removing exact duplicates (so no test fortune is also a training one),
# with a seeded shuffle: the same package version gives byte-identical files on every machine.
# The trainer is not bit-reproducible (it breaks ties between equally frequent merges in hash order),
# so the committed vocab.txt is authoritative; `make lm-data` says whether a retrained one matches.
# Vocabulary ids are ordered by token frequency on the training split (specials first), which is
# what adaptive softmax's head/tail clusters need.
#   usage: prepare-corpus.py OUTDIR [--vocab Models/fortunes-lm/vocab.txt]
import collections, hashlib, json, os, random, re, sys

SOURCE = "/usr/share/games/fortunes"
SEED = 19
VOCAB_SIZE = 8192
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
EXCLUDE = {"ascii-art"}   # pictures, not text

def fortunes():
    names = sorted(n for n in os.listdir(SOURCE)
                   if "." not in n and n not in EXCLUDE and os.path.isfile(os.path.join(SOURCE, n))
                   and not os.path.islink(os.path.join(SOURCE, n)))
    out = []
    for name in names:
        text = open(os.path.join(SOURCE, name), encoding="utf-8", errors="replace").read()
        text = re.sub(r".\x08", "", text)             # overstriking (x BS x) → x
        for f in re.split(r"^%\n", text, flags=re.M):
            lines = [l.rstrip() for l in f.strip("\n").split("\n")]
            body = "\n".join(lines).strip()
            if body:
                out.append(body)
    return names, out

def main():
    outdir = sys.argv[1]
    vocab_path = sys.argv[sys.argv.index("--vocab") + 1] if "--vocab" in sys.argv else None
    os.makedirs(outdir, exist_ok=True)
    names, items = fortunes()
    unique = sorted(set(items))                      # sorted first: the shuffle must not depend on file order quirks
    random.Random(SEED).shuffle(unique)
    n = len(unique)
    n_test, n_valid = n // 20, n // 20               # 90 / 5 / 5 by fortune
    splits = {"test": unique[:n_test], "validation": unique[n_test:n_test + n_valid], "train": unique[n_test + n_valid:]}
    # One fortune per record, records separated by a line holding only "%" (the package's own format).
    for split, rows in splits.items():
        with open(os.path.join(outdir, f"{split}.txt"), "w", encoding="utf-8") as f:
            f.write("\n%\n".join(rows) + "\n")
    sizes = {s: {"fortunes": len(r), "bytes": os.path.getsize(os.path.join(outdir, f"{s}.txt"))} for s, r in splits.items()}

    if vocab_path:
        from tokenizers import BertWordPieceTokenizer
        tok = BertWordPieceTokenizer(lowercase=True, strip_accents=True, clean_text=True, handle_chinese_chars=True)
        tok.train([os.path.join(outdir, "train.txt")], vocab_size=VOCAB_SIZE, min_frequency=2,
                  special_tokens=SPECIALS, limit_alphabet=200, show_progress=False)
        vocab = tok.get_vocab()
        counts = collections.Counter()
        for enc in tok.encode_batch(splits["train"], add_special_tokens=False):
            counts.update(enc.tokens)
        # Specials first (fixed ids 0–4), then by training-split frequency, ties by token text.
        rest = sorted((t for t in vocab if t not in SPECIALS), key=lambda t: (-counts[t], t))
        ordered = SPECIALS + rest
        with open(vocab_path, "w", encoding="utf-8") as f:
            f.write("\n".join(ordered) + "\n")
        total = sum(counts.values())
        sizes["vocabulary"] = {"tokens": len(ordered), "train_tokens": total,
                               "top_1000_share": round(sum(counts[t] for t in rest[:1000]) / total, 4)}
    sizes["source"] = {"files": names, "seed": SEED,
                       "sha256": {s: hashlib.sha256(open(os.path.join(outdir, f"{s}.txt"), "rb").read()).hexdigest() for s in splits}}
    with open(os.path.join(outdir, "sizes.json"), "w") as f:
        json.dump(sizes, f, indent=1, sort_keys=True)
    for s in ("train", "validation", "test"):
        print(f"{s:>10}: {sizes[s]['fortunes']:6d} fortunes, {sizes[s]['bytes']:8d} bytes")
    if vocab_path:
        v = sizes["vocabulary"]
        print(f"vocabulary: {v['tokens']} WordPiece tokens → {vocab_path} ({v['train_tokens']} training tokens, top 1000 cover {100*v['top_1000_share']:.1f}%)")

main()
