"""Building the int8 onnx file of an encoder: export, SmoothQuant, per-channel int8 (the why: onnx_backend.py).

This is the only part of the onnx path that needs torch; serving an existing build (`OnnxEncoder`) does not import
it.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from .onnx_backend import BUILD_FILE, BUILD_FORMAT, MODEL_FILE, SMOOTHING_ALPHA, onnx_dir


def build_onnx(encoder, calibration: list[str], home: Path | None = None) -> Path:
    """Export, smooth (scales from the `calibration` texts' activations) and quantise `encoder` (a torch `Encoder`);
    returns the folder. Idempotent: an existing complete build is reused; a build is written to a temporary folder
    and renamed, so a crash leaves nothing."""
    folder = onnx_dir(encoder, home)
    if (folder / BUILD_FILE).is_file() and (folder / MODEL_FILE).is_file():
        return folder
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    pooling = _pooling_mode(encoder.st_model)
    transformer = copy.deepcopy(encoder.st_model[0].auto_model).float().eval()  # the torch encoder stays as it is
    tokenizer = encoder.st_model.tokenizer
    max_length = int(encoder.st_model.max_seq_length)
    prefixed = [encoder.prefix + t for t in calibration]
    smoothed = smooth_linears(transformer, _activation_maxima(transformer, tokenizer, prefixed, max_length))

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        fp32 = work / "model.fp32.onnx"
        sample = tokenizer(["query: een zin", "query: een iets langere zin over ouders"], padding=True,
                           return_tensors="pt")
        axes = {0: "batch", 1: "sequence"}
        with torch.no_grad():
            torch.onnx.export(
                PooledEncoder(transformer, pooling).eval(), (sample["input_ids"], sample["attention_mask"]), str(fp32),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"], opset_version=17,
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
                dynamo=False)  # the TorchScript exporter needs no onnxscript and handles BertModel's masks
        quantize_dynamic(str(fp32), str(work / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
        info = {"source_encoder": encoder.name, "source_version": encoder.version, "pooling": pooling,
                "max_length": max_length, "dim": int(encoder.dim),
                "smoothing_alpha": SMOOTHING_ALPHA, "smoothed_linears": smoothed,
                "calibration_texts": len(calibration), "weights": "int8 per channel, activations int8 dynamic",
                "build_seconds": round(time.perf_counter() - started, 1), "build_format": BUILD_FORMAT,
                "libraries": _library_versions()}
        (work / BUILD_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            work.rename(folder)
        except OSError:  # another process finished the same build first: keep theirs
            if not (folder / BUILD_FILE).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


class PooledEncoder(torch.nn.Module):
    """transformer → mean (or CLS) pooling: what gets exported; L2 normalisation happens after, in numpy."""

    def __init__(self, transformer, pooling: str):
        super().__init__()
        self.transformer, self.pooling = transformer, pooling

    def forward(self, input_ids, attention_mask):
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SmoothedLinear(torch.nn.Module):
    """x ↦ Linear_{W·diag(s)}(x · 1/s): the same function as `linear`, with the activation range in the weights."""

    def __init__(self, linear: torch.nn.Linear, scale: torch.Tensor):
        super().__init__()
        self.register_buffer("inverse_scale", (1.0 / scale).float())
        self.linear = torch.nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(linear.weight * scale[None, :])
            if linear.bias is not None:
                self.linear.bias.copy_(linear.bias)

    def forward(self, x):
        return self.linear(x * self.inverse_scale)


def _pooling_mode(st_model) -> str:
    from sentence_transformers.sentence_transformer.modules import Pooling

    modes = [m.pooling_mode for m in st_model if isinstance(m, Pooling)]
    if modes not in (["mean"], ["cls"]) or len(st_model) > 3:
        raise ValueError("the ONNX backend supports Transformer → mean or CLS pooling (→ Normalize); this model "
                         f"is {[type(m).__name__ for m in st_model]} with pooling {modes}: use backend 'torch'")
    return modes[0]


def _activation_maxima(transformer, tokenizer, texts: list[str], max_length: int, batch_size: int = 32) -> dict:
    """max |x_j| over the calibration texts, for the input of every Linear (padding positions included: they
    pass through the same matmuls at inference)."""

    maxima: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in transformer.named_modules():
        if isinstance(module, torch.nn.Linear):
            def record(module, inputs, output, name=name):
                x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
                maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x
            hooks.append(module.register_forward_hook(record))
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                features = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                     max_length=max_length, return_tensors="pt")
                transformer(input_ids=features["input_ids"], attention_mask=features["attention_mask"])
    finally:
        for hook in hooks:
            hook.remove()
    return maxima


def smooth_linears(transformer, maxima: dict, alpha: float = SMOOTHING_ALPHA) -> int:
    """Replace each calibrated Linear by a `SmoothedLinear`; returns how many were replaced."""
    with torch.no_grad():
        for name, activation_max in maxima.items():
            parent_name, _, child = name.rpartition(".")
            parent = transformer.get_submodule(parent_name) if parent_name else transformer
            linear = getattr(parent, child)
            weight_max = linear.weight.abs().amax(0).clamp(min=1e-5)
            scale = (activation_max.clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)).clamp(min=1e-5)
            setattr(parent, child, SmoothedLinear(linear, scale))
    return len(maxima)


def _library_versions() -> dict[str, str]:
    from importlib import metadata

    return {lib: metadata.version(lib) for lib in ("torch", "onnx", "onnxruntime", "transformers")}
