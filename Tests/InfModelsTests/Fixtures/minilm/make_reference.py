#!/usr/bin/env python3
"""Reference token ids and sentence embeddings for all-MiniLM-L6-v2, made without any Swift.

Token ids come from Hugging Face `tokenizers` reading the model's own tokenizer.json, with
the truncation sentence-transformers applies (max_seq_length from sentence_bert_config.json,
[CLS] and [SEP] included) and no padding. Embeddings come from a float64 NumPy BERT forward
pass written here from the architecture (embeddings + LayerNorm, 6 post-LN encoder layers,
exact erf GELU, attention masked at padding keys), then sentence-transformers pooling: the
mean over non-padding tokens, L2-normalised. All sentences run as ONE padded batch of length
`batch_padded_to`, so the padding mask is exercised as well.

Regenerate (from the repository root, after `Models/fetch-minilm.sh`):

    python3 -m pip install tokenizers safetensors numpy scipy
    python3 Tests/InfModelsTests/Fixtures/minilm/make_reference.py Models/all-MiniLM-L6-v2 \
        > Tests/InfModelsTests/Fixtures/minilm/reference.json

The output records the package versions it was made with ("generated_by") and the SHA-256
of the model files it read ("model_files"); the file is deterministic for fixed versions.
"""
import hashlib
import json
import os
import platform
import sys

import numpy as np
import safetensors
import scipy
import tokenizers
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

# Sentences run through tokenizer AND model. Each line says what it exercises.
LONG_PARAGRAPH = " ".join(
    f"Sentence number {i} describes how the benchmark measures latency, throughput and memory "
    f"for model variant {chr(65 + i % 26)}, reporting the median of many interleaved runs."
    for i in range(16)
)  # well over 256 word pieces: exercises truncation
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",                           # plain English
    "THE WEATHER IN PARIS IS LOVELY TODAY, ISN'T IT?",                        # upper case
    "Un café naïve près de l'Ångström façade à São Paulo.",                   # accents
    "我喜欢自然语言处理和机器学习。",                                              # Chinese characters
    "ひらがなとカタカナ、そして漢字もあります。",                                     # Japanese kana + kanji
    "Wait... what?!?! (really) -- yes!!! [sic] {ok} #tag @user $5 <b>",       # punctuation runs
    "Pi is 3.14159, e is 2.71828, and 1,000,000.50 is about 1e6.",           # numbers with decimals
    "Visit https://example.com/path?q=1&r=2 or mail john.doe@example.org.",   # URL and e-mail
    "Tabs\tand\nnewlines\r\nand\u0000nulls\u0007bells\u200bzero\u00a0width",  # control chars, whitespace kinds
    "I love pizza \U0001F355 and family \U0001F469\u200D\U0001F469\u200D\U0001F467 emoji! \U0001F600",  # emoji
    "The word " + "pneumonoultramicroscopicsilicovolcanoconiosis" * 3 + " is too long.",  # word > 100 chars
    LONG_PARAGRAPH,                                                           # > 256 tokens: truncation
    "",                                                                       # empty string
]

# Tokenizer-only cases: ids for tricky strings (no model run).
TRICKY = [
    "", " ", "\t\n\r ", "\u0000\u0001\u007f\u0085", "\ufffd", "\uffff", "\ue000private",
    "e\u0301", "\u0301", "\u0301\u0302\u0303",
    "İstanbul", "straße", "ΣΊΣΥΦΟΣ", "ǅemal", "ﬁnance", "ÅNGSTRÖM naïve",
    "unaffable", "x" * 100, "x" * 101, "ab" * 60,
    "[CLS]", "hello [SEP] world", "[cls] lower", "x[MASK]y", "[UNK][UNK]", "[PAD", "##", "word##piece",
    "don't", "U.S.A.", "$100+50=150|x~y^z`", "€£¥ ©®™ °±", "12:30pm", "co-operate—dash–en", "¿Qué? «quote» „de“",
    "東京タワー", "한국어 텍스트", "مرحبا بالعالم", "שָׁלוֹם עולם", "नमस्ते दुनिया", "ภาษาไทย",
    "👍🏽 🇫🇷 ❤️", "\u2028line\u2029sep\u3000ideo\u00a0nb", "a\u00adb\u200cc\ufeffd", "tab\u000bvt\u000cff",
    # Scalars where Unicode versions or BERT variants disagree: CJK Ext E start (0x2B820 is CJK
    # for Google BERT, not for `tokenizers`), Cf added after Unicode 8 (kept by HF), marks and
    # punctuation whose category changed, a decomposition newer than HF's NFD tables.
    "a\U0002B820b a\U0002B920b", "a\u0890b a\u08e2b a\U00013430b", "a\u1734b a\u1885b a\ua9bdb",
    "a\u166db a\U000111c9b a\u2e43b a\U00011938b",
    "Ⅻ ①② ｆｕｌｌｗｉｄｔｈ", "\u05d0\u200f\u200e\u202e rtl marks",
]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def layer_norm(x, w, b, eps):
    # x (B, T, C); normalise over C
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def bert_forward(w, cfg, ids, mask):
    """ids (B, T) int, mask (B, T) 0/1 → last hidden state (B, T, C), all float64."""
    B, T = ids.shape
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps = C // H, cfg["layer_norm_eps"]
    g = lambda name: w[name].astype(np.float64)
    linear = lambda x, p: x @ g(p + ".weight").T + g(p + ".bias")  # torch Linear: weight (out, in)

    x = g("embeddings.word_embeddings.weight")[ids]                       # (B, T, C)
    x = x + g("embeddings.position_embeddings.weight")[np.arange(T)][None]
    x = x + g("embeddings.token_type_embeddings.weight")[0][None, None]   # token type 0 everywhere
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), eps)

    key_ok = mask.astype(bool)[:, None, None, :]                          # (B, 1, 1, T)
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        heads = lambda t: t.reshape(B, T, H, D).transpose(0, 2, 1, 3)     # (B, H, T, D)
        q = heads(linear(x, p + "attention.self.query"))
        k = heads(linear(x, p + "attention.self.key"))
        v = heads(linear(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)                 # (B, H, T, T)
        scores = np.where(key_ok, scores, -np.inf)                        # padding keys get 0 weight
        scores = scores - scores.max(-1, keepdims=True)
        prob = np.exp(scores)
        prob = prob / prob.sum(-1, keepdims=True)
        ctx = (prob @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        attn = linear(ctx, p + "attention.output.dense")
        x = layer_norm(attn + x, g(p + "attention.output.LayerNorm.weight"),
                       g(p + "attention.output.LayerNorm.bias"), eps)
        ff = linear(gelu(linear(x, p + "intermediate.dense")), p + "output.dense")
        x = layer_norm(ff + x, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"), eps)
    return x


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    model_dir = sys.argv[1]
    path = lambda name: os.path.join(model_dir, name)
    with open(path("config.json")) as f:
        cfg = json.load(f)
    with open(path("sentence_bert_config.json")) as f:
        max_length = json.load(f)["max_seq_length"]

    tok = Tokenizer.from_file(path("tokenizer.json"))
    tok.no_padding()  # tokenizer.json ships with fixed padding / truncation at 128; use ST's settings
    tok.enable_truncation(max_length=max_length)
    encode = lambda texts: tok.encode_batch(texts, add_special_tokens=True)

    enc = encode(SENTENCES)
    ids = [e.ids for e in enc]
    T = max(len(i) for i in ids)
    pad_id = tok.token_to_id("[PAD]")
    batch = np.full((len(ids), T), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), T), dtype=np.float64)
    for b, row in enumerate(ids):
        batch[b, :len(row)] = row
        mask[b, :len(row)] = 1

    weights = load_file(path("model.safetensors"))
    hidden = bert_forward(weights, cfg, batch, mask)                     # (B, T, C)
    pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    pooled = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    tricky = encode(TRICKY)
    out = {
        "model": "all-MiniLM-L6-v2",
        "generated_by": (f"make_reference.py with Python {platform.python_version()}, "
                         f"tokenizers {tokenizers.__version__}, safetensors {safetensors.__version__}, "
                         f"numpy {np.__version__}, scipy {scipy.__version__}; float64 forward pass"),
        "model_files": {n: sha256(path(n)) for n in ["model.safetensors", "tokenizer.json", "vocab.txt"]},
        "max_length": max_length,
        "batch_padded_to": T,
        "sentences": SENTENCES,
        "ids": ids,
        "tokens": [e.tokens for e in enc],
        "embeddings": [[float(f"{v:.8g}") for v in row] for row in pooled],
        "tricky": [{"text": t, "ids": e.ids, "tokens": e.tokens} for t, e in zip(TRICKY, tricky)],
    }
    json.dump(out, sys.stdout, ensure_ascii=True, separators=(",", ":"))  # ASCII: no invisible scalars in the file
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
