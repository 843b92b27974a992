#!/usr/bin/env python3
"""The fp32 form of an ONNX model whose weights are int8 initializers + DequantizeLinear.

Replaces every DequantizeLinear whose input is an initializer by a float initializer holding
(q - zero_point) * scale, per channel along `axis`, and drops the initializers nothing uses any
more. The graph is otherwise unchanged, so outputs match to float rounding.

Usage: fold_dequantize.py IN.onnx OUT.onnx   (or import fold_weight_dequantize)
Used by scripts/bench-peers.sh (ONNX Runtime's fair peer) and scripts/quantize_model.py.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def fold_weight_dequantize(m: onnx.ModelProto) -> int:
    """Folds in place; returns how many DequantizeLinear nodes were folded."""
    inits = {i.name: i for i in m.graph.initializer}
    kept, folded = [], 0
    for node in m.graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            kept.append(node)
            continue
        q = numpy_helper.to_array(inits[node.input[0]])
        scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float64)
        zp = np.zeros((), np.float64)
        if len(node.input) > 2 and node.input[2]:
            zp = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        axis = axis % max(q.ndim, 1)
        shape = [1] * q.ndim
        if scale.ndim == 1 and q.ndim:
            shape[axis] = -1
            scale = scale.reshape(shape)
            zp = zp.reshape(shape) if zp.ndim == 1 else zp
        w = ((q.astype(np.float64) - zp) * scale).astype(np.float32)
        m.graph.initializer.append(numpy_helper.from_array(w, node.output[0]))
        folded += 1
    del m.graph.node[:]
    m.graph.node.extend(kept)
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    keep = [i for i in m.graph.initializer if i.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    return folded


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: fold_dequantize.py IN.onnx OUT.onnx")
    model = onnx.load(sys.argv[1])
    n = fold_weight_dequantize(model)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"folded {n} DequantizeLinear nodes", file=sys.stderr)
