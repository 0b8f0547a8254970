#!/usr/bin/env python3
# Writes the committed seed corpora in Fuzz/corpus/<target>/: a handful of small valid and
# invalid inputs per fuzz target, so libFuzzer starts from the shapes real files have.
# Standard library only. Usage: python3 Fuzz/make_seeds.py   (rewrites the seeds in place)
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


# MARK: safetensors

def safetensors(tensors, metadata=None, pad=True, header_override=None):
    """tensors: (name, dtype, shape, raw bytes); offsets follow the order given."""
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def f32(*xs):
    return struct.pack("<%df" % len(xs), *xs)


def f16(*xs):
    return struct.pack("<%de" % len(xs), *xs)


def bf16(*xs):
    return b"".join(struct.pack("<f", x)[2:] for x in xs)


def seeds_safetensors():
    w = ("dense.weight", "F32", [2, 3], f32(0.5, -1, 2, 0, 1e-3, 3.25))
    b = ("dense.bias", "F16", [3], f16(0.1, -2.5, 65504.0))
    n = ("norm.weight", "BF16", [2], bf16(1.5, -0.25))
    ids = ("position_ids", "I64", [1, 3], struct.pack("<3q", 0, 1, 2))
    write("safetensors", "valid-f32-f16-bf16", safetensors([w, b, n], {"format": "pt"}))
    write("safetensors", "valid-i64-and-unknown-dtype",
          safetensors([ids, ("odd", "Q4_K", [4], b"\x01\x02"), ("empty", "F32", [0, 5], b""), ("scalar", "F32", [], f32(7))]))
    write("safetensors", "valid-empty-header", safetensors([]))
    good = safetensors([w])
    write("safetensors", "bad-truncated", good[:-5])
    write("safetensors", "bad-header-length", struct.pack("<Q", 1 << 40) + b"{}")
    write("safetensors", "bad-overlap", safetensors([], header_override=json.dumps({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode()) + bytes(12))
    write("safetensors", "bad-duplicate-key", safetensors([], header_override=
          b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
          + bytes(4))
    write("safetensors", "bad-shape-size", safetensors([("x", "BF16", [3], bf16(1, 2))]))
    write("safetensors", "bad-json", safetensors([], header_override=b'{"x": {"dtype": "F32", "shape": [1e3, -0], "data_offsets": [0, "4"]'))
    write("safetensors", "bad-escapes", safetensors([], header_override='{"\\ud83d\\ude00\\n\\u00e9":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"k":"\\/"}}'.encode()) + bytes(4))
    write("safetensors", "other-format-pickle", b"\x80\x02}q\x00.")
    write("safetensors", "other-format-gguf", b"GGUF\x03\x00\x00\x00" + bytes(16))


# MARK: config.json

def seeds_config():
    for model in ("encoder-small", "decoder-small", "cnn-small"):
        with open(os.path.join(HERE, "..", "Models", model, "config.json"), "rb") as f:
            write("config", "valid-" + model, f.read())
    bert = {"model_type": "bert", "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
            "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512,
            "infbench_attention_head_size": 16, "id2label": {"0": "neg", "1": "pos"},
            "infbench_dataset": {"name": "sentiment", "seed": 7, "train": 10, "validation": 2, "test": 4, "size": 16}}
    write("config", "valid-bert-classifier", json.dumps(bert))
    # Every CNN size at its upper limit: mutating one number pushes it past the checks.
    write("config", "valid-cnn-limits", json.dumps({"model_type": "cnn", "infbench_seed": 1, "input_shape": [1, 8192, 8192],
          "stages": [{"out_channels": 65536, "kernel_size": 8192, "stride": 1, "padding": 8192, "pool": "avg", "pool_size": 8192}],
          "hidden": [1 << 20], "num_classes": 1 << 20}))
    write("config", "bad-missing-key", json.dumps({"model_type": "gpt", "vocab_size": 10}))
    write("config", "bad-wrong-type", json.dumps({**bert, "hidden_size": "384"}))
    write("config", "bad-heads", json.dumps({**bert, "num_attention_heads": 5, "infbench_attention_head_size": None}))
    write("config", "bad-cnn-shrinks", json.dumps({"model_type": "cnn", "input_shape": [1, 4, 4],
          "stages": [{"out_channels": 2, "kernel_size": 9, "stride": 2, "padding": 1, "pool": "avg"}],
          "hidden": [], "num_classes": 2}))
    write("config", "bad-model-type", '{"model_type": "t5"}')
    write("config", "bad-not-json", '{"model_type": "bert",')


# MARK: tokenizer (flags byte, vocab.txt, 0x00, text)

def seeds_tokenizer():
    vocab = "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able",
                       "cafe", "é", "##s", "!", ",", "中", "文", "hello", "##lo", "he"]) + "\n"
    texts = {
        "ascii": "Hello, the unaffable cafes!",
        "accents": "Café CAFÉ cafe\u0301 İstanbul ß",
        "cjk-emoji": "中文 👩\u200d💻 테스트 \u3000 日本語",
        "specials": "[CLS] the [MASK]un[SEP]affable [UNK] [PAD]",
        "controls": "a\x00b\x7f\u200bc\r\n\t\ufffd d\u00a0e\ufeff",
        "long-word": "x" * 150 + " " + "unaff" * 30,
    }
    for i, (name, text) in enumerate(texts.items()):
        flags = [0x01, 0x03, 0x05, 0x28, 0x41, 0x80][i]
        write("tokenizer", name, bytes([flags]) + vocab.encode() + b"\x00" + text.encode())
    write("tokenizer", "crlf-vocab", bytes([1]) + b"[PAD]\r\n[UNK]\r\n[CLS] \r\n[SEP]\r\nab\r\n##c\x00abc abcc")
    write("tokenizer", "duplicate-vocab", bytes([1]) + b"a\na\n[PAD]\n\x00a a")
    write("tokenizer", "invalid-utf8-vocab", bytes([1]) + b"\xff\xfe[UNK]\n\x00\xc3\x28 text")


# MARK: results (a suite result file, as show / compare / reproduce / chart read it)

def suite_result():
    env = {"buildConfiguration": "release", "cpuFeatures": ["avx2", "fma"], "cpuModel": "CPU", "gitCommit": "0123abcd",
           "hostname": "h", "kernelISA": "avx2", "loadAverage": [0.1, 0.2, 0.3], "logicalCores": 2,
           "openblasConfig": "OpenBLAS 0.3.21", "openblasCore": "Haswell", "os": "Linux", "swiftVersion": "6.3",
           "timestamp": "2026-01-01T00:00:00Z", "variables": {"OPENBLAS_CORETYPE": "Haswell"}}
    config = {"batchSizes": [1, 8], "bootstrapResamples": 200, "bootstrapSeed": 43, "inputSeed": 42, "maxWarmupRuns": 30,
              "maxWarmupSeconds": 2, "minRuns": 10, "minSeconds": 1, "models": ["encoder-small"],
              "sequenceLengths": [128], "threadPolicy": "p", "threads": [1], "variants": ["fp32", "fp32 A/A", "fp16"]}

    def row(variant, batch, median, speedup=None, quality=None):
        samples = [median - 1000, median, median + 3000]
        m = median / 1e9
        r = {"batch": batch, "executes": "x", "flopsPerRun": 1e9, "gflops": 1 / m, "itemUnit": "seq", "itemsPerRun": batch,
             "model": "encoder-small", "peakRSSBytes": 100000000, "rooflinePercent": 40.0, "samplesNs": samples,
             "sequenceLength": 128, "stats": {"count": 3, "cv": 0.01, "max": m + 3e-6, "mean": m + 6e-7, "median": m,
             "min": m - 1e-6, "p90": m + 3e-6, "p99": m + 3e-6, "stddev": 2e-6}, "threads": 1, "throughput": batch / m,
             "variant": variant, "warmupRuns": 4, "weightBytes": 20000000}
        if speedup: r["speedup"] = {"baseline": "fp32", "confidence": 0.95, "high": speedup * 1.02, "low": speedup * 0.98,
                                    "ratio": speedup, "withinNoise": False}
        if quality: r["quality"] = quality
        return r
    q = {"maxAbsDiff": 3e-4, "meanCosine": 0.99999, "embeddingCosine": 0.99999}
    rows = [row("fp32", 1, 2000000), row("fp32 A/A", 1, 2001000, 1.0, {"maxAbsDiff": 0, "meanCosine": 1}),
            row("fp16", 1, 1500000, 1.33, q), row("fp32", 8, 9000000), row("fp16", 8, 7000000, 1.28, q)]
    roof = [{"gflops": 100.0, "gflopsAfter": 100.0, "gflopsBefore": 99.0, "k": 64, "m": 64, "n": 64, "samplesNs": [5000, 5100], "threads": 1}]
    return {"schemaVersion": 1, "suite": "default", "environment": env, "configuration": config, "roofline": roof,
            "rows": rows, "warnings": ["w"]}


def seeds_results():
    good = suite_result()
    write("results", "valid", json.dumps(good, indent=2))
    write("results", "valid-compact", json.dumps(good, separators=(",", ":")))

    def variant(name, edit):
        r = json.loads(json.dumps(good))
        edit(r)
        write("results", name, json.dumps(r, indent=1))
    variant("bad-batch-negative", lambda r: r["configuration"].__setitem__("batchSizes", [-3]))
    variant("bad-threads-zero", lambda r: r["configuration"].__setitem__("threads", [0]))
    variant("bad-minruns-float", lambda r: r["configuration"].__setitem__("minRuns", 1.5))
    variant("bad-resamples-zero", lambda r: r["configuration"].__setitem__("bootstrapResamples", 0))
    variant("nan-strings", lambda r: (r["rows"][2]["quality"].__setitem__("meanCosine", "nan"),
                                      r["rows"][1]["speedup"].__setitem__("high", "inf")))
    variant("denormal-throughputs", lambda r: [x.__setitem__("throughput", 5e-324) for x in r["rows"]])
    variant("bad-duplicate-row", lambda r: r["rows"].append(r["rows"][0]))
    variant("bad-row-batch", lambda r: r["rows"][0].__setitem__("batch", 64))
    variant("no-optional-fields", lambda r: [x.pop(k, None) for x in r["rows"] for k in ("rooflinePercent", "quality", "speedup")])
    write("results", "bad-truncated", json.dumps(good)[:700])
    write("results", "bad-syntax-number", json.dumps(good).replace('"minRuns": 10', '"minRuns": 1.2.3'))
    write("results", "scenario-result", json.dumps({"environment": good["environment"], "model": "m", "threads": 1, "rows": []}))


if __name__ == "__main__":
    seeds_safetensors()
    seeds_config()
    seeds_tokenizer()
    seeds_results()
