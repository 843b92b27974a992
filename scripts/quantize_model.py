#!/usr/bin/env python3
"""Make integer-compute variants of the shipped EfficientNet-Lite0 model for tract.

One-off developer tool (not run in CI). It starts from the shipped model file, not from torch:

  1. fp32: every `DequantizeLinear` of an int8 weight initializer is folded into a float
     initializer (the shipped model computes in float anyway, so its embeddings are unchanged).
  2. onnxruntime static quantisation in the QOperator format, restricted to the ops tract 0.23.9
     runs with integer kernels: `Conv` becomes `QLinearConv` (int8 weights per output channel,
     u8 or i8 activations per tensor); `Clip` (ReLU6) after a quantised conv is absorbed into the
     output range. Residual `Add`, `GlobalAveragePool`, `Flatten` and `Gemm` stay float, with
     `DequantizeLinear`/`QuantizeLinear` around them (tract has no QLinearAdd or QGemm).

Calibration photos: `train/{cat,dog}/{cat,dog}.N.jpg` with N in [--calib-from, --calib-from +
--calib-count) — by default 200..239, disjoint from the photos 0..199 the 20-shot subsets train on
and from the test photos everything is scored on.

Variants (--variant, repeatable; default qpw-u8-pc and qall-u8-pc): SCOPE-ACT-WEIGHTS with
  SCOPE    qpw: 1x1 (pointwise) convolutions quantised, depthwise and stem float;
           qall: every convolution quantised
  ACT      u8: uint8 activations (asymmetric); s8: int8 (asymmetric); s8sym: int8 symmetric
           (zero point 0)
  WEIGHTS  pc: int8 per output channel; pt: int8 per tensor

Also written: <out-dir>/efficientnet-lite0-int8-anysize.onnx, the shipped model with its stored
intermediate shapes (`value_info`, all computed for 224x224) removed. Same weights, same graph,
same results at 224; unlike the shipped file, tract accepts it at any `model.input_size` (the
shipped file fails at 160/192/256: "Impossible to unify Val(112) with Val(96)").

Run from the repository root:
    python3 -m venv /tmp/qvenv && /tmp/qvenv/bin/pip install onnx onnxruntime numpy pillow
    /tmp/qvenv/bin/python scripts/quantize_model.py --out-dir /tmp/variants \
        [--model models/efficientnet-lite0-int8.onnx] [--data-dir ../shared/data/catsdogs]

Writes <out-dir>/efficientnet-lite0-fp32.onnx and <out-dir>/efficientnet-lite0-<variant>.onnx and
prints, per variant, the op histogram and the cosine of its embeddings to fp32 on the
calibration photos (onnxruntime). The photos are only read.
"""

import argparse
import collections
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from fold_dequantize import fold_weight_dequantize  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VARIANTS = ("qpw-u8-pc", "qall-u8-pc")
VARIANT_RE = r"(qpw|qall)-(u8|s8|s8sym)-(pc|pt)"


def preprocess(path: Path, size: int) -> np.ndarray:
    """RGB, largest centred square crop, PIL bilinear resize, (x-127)/128, NCHW (as teachcam)."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
        x = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def conv_kind(model: onnx.ModelProto, node: onnx.NodeProto) -> str:
    """'pointwise' (1x1, group 1), 'depthwise' (group > 1) or 'other' (the 3x3 stem)."""
    inits = {i.name: i for i in model.graph.initializer}
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    k = list(inits[node.input[1]].dims)
    if group > 1:
        return "depthwise"
    return "pointwise" if k[2:] == [1, 1] else "other"


def calibration_tensors(data_dir: Path, start: int, count: int, size: int) -> list:
    out = []
    for label in ("cat", "dog"):
        for i in range(start, start + count):
            p = data_dir / "train" / label / f"{label}.{i}.jpg"
            if not p.is_file():
                sys.exit(f"quantize_model: missing calibration photo {p}")
            out.append(preprocess(p, size))
    return out


def quantize(fp32_path: Path, out_path: Path, variant: str, calib: list):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self, arrays):
            self._it = iter([{"input": a} for a in arrays])

        def get_next(self):
            return next(self._it, None)

    scope, act_kind, weights = re.fullmatch(VARIANT_RE, variant).groups()
    model = onnx.load(str(fp32_path))
    exclude = []
    if scope == "qpw":
        exclude = [n.name for n in model.graph.node
                   if n.op_type == "Conv" and conv_kind(model, n) != "pointwise"]
    act = QuantType.QUInt8 if act_kind == "u8" else QuantType.QInt8
    quantize_static(str(fp32_path), str(out_path), Reader(calib), quant_format=QuantFormat.QOperator,
                    op_types_to_quantize=["Conv", "Clip"], nodes_to_exclude=exclude,
                    per_channel=weights == "pc", reduce_range=False, activation_type=act,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": act_kind == "s8sym",
                                   "WeightSymmetric": True})
    m = onnx.load(str(out_path))
    # tract reads only the default domain; keep the file clean of unused imports.
    used = {n.domain for n in m.graph.node}
    keep = [o for o in m.opset_import if o.domain in used or o.domain in ("", "ai.onnx")]
    del m.opset_import[:]
    m.opset_import.extend(keep)
    onnx.save(m, str(out_path))


def embeddings(path: Path, tensors: list) -> np.ndarray:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return np.asarray([s.run(["embedding"], {"input": x})[0][0] for x in tensors], np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "efficientnet-lite0-int8.onnx")
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("TEACHCAM_DATA_DIR", REPO.parent / "shared/data/catsdogs")))
    ap.add_argument("--variant", action="append",
                    type=lambda v: v if re.fullmatch(VARIANT_RE, v) else ap.error(f"bad variant {v}"))
    ap.add_argument("--calib-from", type=int, default=200)
    ap.add_argument("--calib-count", type=int, default=40, help="photos per label")
    args = ap.parse_args()
    variants = args.variant or list(DEFAULT_VARIANTS)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    anysize = onnx.load(str(args.model))
    del anysize.graph.value_info[:]
    onnx.save(anysize, str(args.out_dir / "efficientnet-lite0-int8-anysize.onnx"))

    fp32 = args.out_dir / "efficientnet-lite0-fp32.onnx"
    model = onnx.load(str(args.model))
    fold_weight_dequantize(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(fp32))
    kinds = collections.Counter(conv_kind(model, n) for n in model.graph.node if n.op_type == "Conv")
    print(f"{fp32}: convolutions {dict(kinds)}", flush=True)

    print(f"calibration: train cat/dog {args.calib_from}..{args.calib_from + args.calib_count - 1}",
          flush=True)
    calib = calibration_tensors(args.data_dir, args.calib_from, args.calib_count, 224)
    ref = embeddings(fp32, calib)
    for v in variants:
        out = args.out_dir / f"efficientnet-lite0-{v}.onnx"
        print(f"{v}: quantising ...", flush=True)
        quantize(fp32, out, v, calib)
        ops = collections.Counter(n.op_type for n in onnx.load(str(out)).graph.node)
        emb = embeddings(out, calib)
        cos = np.sum(ref * emb, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(emb, axis=1))
        print(f"{v}: {out} ({out.stat().st_size} bytes) ops {dict(sorted(ops.items()))}")
        print(f"{v}: cosine to fp32 on the calibration photos: mean {cos.mean():.4f} min {cos.min():.4f}",
              flush=True)


if __name__ == "__main__":
    main()
