"""The optimised inference path: the encoder exported to ONNX, quantised to int8, run by onnxruntime.

Why it is built this way (figures: bench/README.md, `bench/onnx_agreement.py`):
- Plain dynamic int8 quantisation (`quantize_dynamic`) changed 3–6 % of the shipped model's labels on dev.
  E5's hidden states have outlier channels (a channel's max up to ~57× the median channel's), and dynamic
  quantisation gives each activation tensor one scale, so the ordinary channels lose their resolution.
- SmoothQuant (Xiao et al., 2023) moves that range into the weights: each Linear computes (x · 1/s) (s · W)
  with s_j = max|x_j|^α / max|W_j|^(1−α), an exact rewrite in fp32. BERT is post-LayerNorm (the LayerNorm's
  output is also the residual stream), so 1/s cannot be folded into the LayerNorm and stays an explicit Mul.
  s comes from the activations of a fixed calibration set (calibration.json: 1024 units of the annotated
  training split, frozen there so that the inference path reads no training data).
- The weights are then quantised per output channel. With α = 0.75 the labels agree with the torch model on
  98.7 % of dev (the ≥ 98 % gate is checked by tests/test_onnx.py and bench/onnx_agreement.py). Partial
  quantisation (attention only) kept the labels but gave no speed: the gain comes from the feed-forward layers.

The build runs once per encoder version (about 70 s on 2 cores; `onnx_build.py`, the only part that needs torch)
into $DISCOURSE_HOME/onnx/<version>-…/ and is reused after; only the int8 file (≈ 115 MB) is kept. A model whose
build exists is served from it alone: the version is known from the weights' checksums, the tokenizer is
tokenizer.json run by the `tokenizers` library, and neither torch nor the torch model is loaded (about 1.3 GB less
resident memory; bench/memory.py).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..settings import discourse_home, onnx_threads
from .base import CachingEncoder
from .cache import EmbeddingCache

SMOOTHING_ALPHA = 0.75
BUILD_FORMAT = 1  # bump when the build recipe (calibration texts included) changes, so old builds are not reused
MODEL_FILE = "model.int8.onnx"
BUILD_FILE = "build.json"
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


class OnnxEncoder(CachingEncoder):
    """Same interface and outputs as `Encoder` (up to quantisation error); the torch weights are not kept."""

    def __init__(self, name: str, version: str, folder: Path, tokenizer, max_length: int, prefix: str, dim: int,
                 cache: EmbeddingCache | None = None, threads: int | None = None):
        self.name, self.version, self.prefix, self.dim, self.cache = name, version, prefix, dim, cache
        self.folder = folder
        self.build_info = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
        # `threads` parallel runs (default: DISCOURSE_THREADS, else one per core) on one session, so the weights
        # are in memory once; an InferenceSession may be run from several threads at once. The session's own
        # pool has as many threads, so a lone text (a single API request at low load) runs on all cores.
        self.workers = threads or onnx_threads() or os.cpu_count() or 1
        self.session = open_session(folder / MODEL_FILE, threads=self.workers)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx")
        self._tokenizer = tokenizer
        # Safe to call from two threads at once (the service's two lanes) when the tokenizer is our FastTokenizer,
        # configured once; a transformers tokenizer changes its truncation settings per call.
        self.concurrent_calls = isinstance(tokenizer, FastTokenizer)
        self.max_length = max_length
        self.computed = 0

    @property
    def tokenizer(self):
        return self._tokenizer

    @classmethod
    def from_encoder(cls, encoder, calibration: list[str], home: Path | None = None,
                     threads: int | None = None) -> "OnnxEncoder":
        """The ONNX build of a loaded torch `Encoder` (adapter merged), built first if it is not there yet, with
        SmoothQuant's scales from the `calibration` texts (usually `calibration_texts()`)."""
        from .onnx_build import build_onnx

        folder = build_onnx(encoder, calibration, home=home)
        st_model = encoder.st_model
        max_length = int(st_model.max_seq_length)
        record_shape(folder, max_length, encoder.dim)
        return cls(encoder.name, f"{encoder.version}+int8", folder, st_model.tokenizer, max_length, encoder.prefix,
                   encoder.dim, encoder.cache, threads)

    @classmethod
    def from_build(cls, name: str, version: str, source_folder: Path, prefix: str, cache: EmbeddingCache | None = None,
                   home: Path | None = None, threads: int | None = None) -> "OnnxEncoder | None":
        """The existing build of the weights `version` (their tokenizer in `source_folder`), loaded without torch;
        None when there is none yet, or when it lacks what this needs (an older build): build it with
        `from_encoder` then."""
        folder = build_dir(version, home)
        tokenizer_file = Path(source_folder) / "tokenizer.json"
        if not ((folder / BUILD_FILE).is_file() and (folder / MODEL_FILE).is_file() and tokenizer_file.is_file()):
            return None
        info = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
        if "max_length" not in info or "dim" not in info:
            return None
        return cls(name, f"{version}+int8", folder, FastTokenizer(tokenizer_file, info["max_length"]),
                   info["max_length"], prefix, info["dim"], cache, threads)

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One text per run, `workers` runs at a time (`batch_size` is not used). Dynamic quantisation picks the
        activation scale per run from the whole input tensor, so in a batch a text's scores would depend on its
        batch mates (a label could flip with the company it keeps); alone, they are a function of the text.
        One single-threaded run per core is also faster here than batched two-thread runs (bench/README.md)."""
        ids = self._tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]

        def run(row: list[int], session) -> np.ndarray:
            input_ids = np.asarray([row], np.int64)
            (vector,) = session.run(None, {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})
            return vector[0]

        if len(ids) < self.workers:
            vectors = [run(row, self.session) for row in ids]
        else:
            vectors = list(self._pool.map(lambda row: run(row, self.session), ids))
        out = np.stack(vectors).astype(np.float32, copy=False)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def calibration_texts() -> list[str]:
    """The fixed calibration set every build's SmoothQuant scales come from (calibration.json says where its texts
    were taken)."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["texts"]


def open_session(path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: in the service the event loop shares these cores, and a spinning
    # pool would take the CPU that /v1/health needs between batches.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_dir(encoder, home: Path | None = None) -> Path:
    return build_dir(encoder.version, home)


def build_dir(version: str, home: Path | None = None) -> Path:
    """Where the build of the weights `version` (an `Encoder.version`, adapter included) lives."""
    return (home or discourse_home()) / "onnx" / f"{version}-sq{SMOOTHING_ALPHA}-int8-v{BUILD_FORMAT}"


def record_shape(folder: Path, max_length: int, dim: int) -> None:
    """Add the input length and output width to an older build's build.json, so that it loads without torch
    next time (written to a temporary file and renamed: a reader never sees half a file)."""
    path = folder / BUILD_FILE
    info = json.loads(path.read_text(encoding="utf-8"))
    if info.get("max_length") == max_length and info.get("dim") == dim:
        return
    info.update(max_length=max_length, dim=dim)
    scratch = path.with_name(f".{BUILD_FILE}.{os.getpid()}")
    scratch.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, path)


class FastTokenizer:
    """tokenizer.json run by the `tokenizers` library itself: the ids transformers' fast tokenizer gives (it runs
    the same file underneath; tests/test_onnx.py compares them), without importing transformers or torch. Called
    the way `OnnxEncoder` and `CachingEncoder.count_tokens` call a transformers tokenizer. One instance (a large
    vocabulary costs ~300 MB each), configured once and never changed, so threads may call it at once:
    truncation is applied per call, as transformers does it (the text's tokens cut to leave room for the special
    tokens, then the special tokens added)."""

    def __init__(self, path: Path, max_length: int):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.max_length = max_length

    def __call__(self, texts: list[str], truncation: bool = False, max_length: int | None = None,
                 add_special_tokens: bool = True, verbose: bool = True) -> dict:
        if not truncation:
            encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=add_special_tokens)
            return {"input_ids": [e.ids for e in encodings]}
        limit = (max_length or self.max_length) - (self._tokenizer.num_special_tokens_to_add(False)
                                                   if add_special_tokens else 0)
        ids = []
        for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=False):
            if len(encoding.ids) > limit:
                encoding.truncate(limit)
            if add_special_tokens:
                encoding = self._tokenizer.post_process(encoding)
            ids.append(encoding.ids)
        return {"input_ids": ids}
