"""One-op ONNX models, one (or more) per entry of the WebGPU op table (src/core/onnx/webgpuOps.ts),
for e2e/webgpuOps.spec.ts: it runs each on WebGPU (SwiftShader) and on WASM in Chromium and checks
that the table's claim (runs on WebGPU / runs on the CPU / fails / wrong numbers) is what happens.

Run with Debian's python (onnx 1.12):  /usr/bin/python3 tools/make_op_models.py
Writes tests/fixtures/onnx/ops/<case>.onnx and tests/fixtures/onnx/ops/manifest.json:
  [{ "case", "key" (table key: 'Conv', 'com.microsoft:FusedConv'), "file", "feeds": [{name, type,
     dims, data}], "random"? (compare shapes only), "tol"? }]
Conditional entries get the case the table says fails too (3D pools under NHWC, Conv3d with
unequal pads / without strides / grouped, ConvTranspose3d, ceil_mode, ...).
Every op consumes a graph input, so onnxruntime cannot constant-fold it away when the session is
created; inputs are tiny (at most 1x2x4x4x4).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'onnx', 'ops')
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    if f.endswith('.onnx'):
        os.remove(os.path.join(OUT, f))
rng = np.random.default_rng(0)

NP2T = {np.float32: T.FLOAT, np.int64: T.INT64, np.int32: T.INT32, np.bool_: T.BOOL, np.uint8: T.UINT8, np.int8: T.INT8}
NP2NAME = {np.float32: 'float32', np.int64: 'int64', np.int32: 'int32', np.bool_: 'bool', np.uint8: 'uint8', np.int8: 'int8'}


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32).round(4)


def i64(*v):
    return np.array(v, dtype=np.int64)


X5 = (1, 2, 4, 4, 4)
X4 = (1, 2, 4, 4)
manifest = []


def case(name, key, op, ins, inits=None, attrs=None, outs=None, domain='', opset=17, extra_nodes=(), random=False, tol=None, opsets=None, raw_inits=(), dyn=None):
    """ins: graph inputs {name: array}; inits: initializers {name: array}; outs: {name: onnx type}.
    The node's inputs are the graph inputs then the initializers, in the given order, unless
    attrs has '_inputs' (a list of names, '' for an optional input left out)."""
    inits = inits or {}
    attrs = dict(attrs or {})
    outs = outs or {'Y': T.FLOAT}
    node_inputs = attrs.pop('_inputs', list(ins) + list(inits) + [t.name for t in raw_inits])
    node_outputs = attrs.pop('_outputs', list(outs))
    node = h.make_node(op, node_inputs, node_outputs, name='n0', domain=domain or None, **attrs)
    graph = h.make_graph(
        [node, *extra_nodes], name,
        [h.make_tensor_value_info(k, NP2T[v.dtype.type], (dyn or {}).get(k, v.shape)) for k, v in ins.items()],
        [h.make_tensor_value_info(k, t, None) for k, t in outs.items()],
        [nh.from_array(v, k) for k, v in inits.items()] + list(raw_inits),
    )
    imports = [h.make_opsetid('', opset)]
    if domain:
        imports.append(h.make_opsetid(domain, 1))
    for d, v in (opsets or {}).items():
        imports.append(h.make_opsetid(d, v))
    model = h.make_model(graph, opset_imports=imports, producer_name='voxelbench tools/make_op_models.py')
    model.ir_version = 8
    file = f'{name}.onnx'
    onnx.save(model, os.path.join(OUT, file))
    feeds = [{'name': k, 'type': NP2NAME[v.dtype.type], 'dims': list(v.shape), 'data': [round(float(x), 5) if v.dtype == np.float32 else int(x) for x in v.ravel()]} for k, v in ins.items()]
    entry = {'case': name, 'key': key, 'file': file, 'feeds': feeds}
    if random:
        entry['random'] = True
    if tol:
        entry['tol'] = tol
    manifest.append(entry)


def unary(op, x=None, name=None, key=None, **attrs):
    case(name or op, key or op, op, {'X': f32(*X5) if x is None else x}, attrs=attrs)


def binary(op, b=None, x=None, outs=None, opset=17, name=None):
    case(name or op, op, op, {'X': f32(*X5) if x is None else x}, {'B': f32(1, 2, 1, 1, 4) if b is None else b}, outs=outs, opset=opset)


B = {'Y': T.BOOL}

# ---- ai.onnx ops with WebGPU kernels ---------------------------------------------------------
for op in ['Abs', 'Ceil', 'Cos', 'Cosh', 'Erf', 'Exp', 'Floor', 'Neg', 'Relu', 'Sigmoid', 'Sin', 'Sinh', 'Tan', 'Tanh', 'Asinh', 'Atan']:
    unary(op)
for op in ['Acos', 'Asin', 'Atanh']:
    unary(op, x=f32(*X5, lo=-0.9, hi=0.9))
unary('Acosh', x=f32(*X5, lo=1.1, hi=3))
unary('Log', x=f32(*X5, lo=0.1, hi=3))
unary('Sqrt', x=f32(*X5, lo=0.1, hi=3))
unary('Reciprocal', x=f32(*X5, lo=0.5, hi=2))
unary('Elu', alpha=0.7)
unary('HardSigmoid', alpha=0.3, beta=0.4)
unary('LeakyRelu', alpha=0.1)
unary('ThresholdedRelu', alpha=0.2)
unary('Softmax', axis=-1)
case('HardSwish', 'HardSwish', 'HardSwish', {'X': f32(*X5, lo=-4, hi=4)}, opset=14)
case('Gelu', 'Gelu', 'Gelu', {'X': f32(*X5)}, opset=20)
for op in ['Add', 'Sub', 'Mul']:
    binary(op)
binary('Div', b=f32(1, 2, 1, 1, 4, lo=0.5, hi=2))
binary('Pow', x=f32(*X5, lo=0.1, hi=2))
for op in ['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual']:
    binary(op, x=np.round(f32(*X5) * 2) / 2, b=np.round(f32(1, 2, 1, 1, 4) * 2) / 2, outs=B)
case('ArgMax', 'ArgMax', 'ArgMax', {'X': f32(*X5)}, attrs={'axis': 1}, outs={'Y': T.INT64})
case('ArgMin', 'ArgMin', 'ArgMin', {'X': f32(*X5)}, attrs={'axis': 1}, outs={'Y': T.INT64})

# pools: 2D runs; 3D fails under NHWC; ceil_mode fails; MaxPool storage_order / dilations
case('AveragePool_2d', 'AveragePool', 'AveragePool', {'X': f32(*X4)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2]})
case('AveragePool_3d', 'AveragePool', 'AveragePool', {'X': f32(*X5)}, attrs={'kernel_shape': [2, 2, 2], 'strides': [2, 2, 2]})
case('AveragePool_ceil', 'AveragePool', 'AveragePool', {'X': f32(1, 2, 5, 5)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2], 'ceil_mode': 1})
case('MaxPool_2d', 'MaxPool', 'MaxPool', {'X': f32(*X4)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2]})
case('MaxPool_3d', 'MaxPool', 'MaxPool', {'X': f32(*X5)}, attrs={'kernel_shape': [2, 2, 2], 'strides': [2, 2, 2]})
case('MaxPool_ceil', 'MaxPool', 'MaxPool', {'X': f32(1, 2, 5, 5)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2], 'ceil_mode': 1})
case('MaxPool_storage_order', 'MaxPool', 'MaxPool', {'X': f32(*X4)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2], 'storage_order': 1})
case('MaxPool_dilations', 'MaxPool', 'MaxPool', {'X': f32(1, 2, 6, 6)}, attrs={'kernel_shape': [2, 2], 'dilations': [2, 2]})
case('GlobalAveragePool_2d', 'GlobalAveragePool', 'GlobalAveragePool', {'X': f32(*X4)})
case('GlobalAveragePool_3d', 'GlobalAveragePool', 'GlobalAveragePool', {'X': f32(*X5)})
case('GlobalMaxPool_2d', 'GlobalMaxPool', 'GlobalMaxPool', {'X': f32(*X4)})
case('GlobalMaxPool_3d', 'GlobalMaxPool', 'GlobalMaxPool', {'X': f32(*X5)})

bn = {'scale': f32(2, lo=0.5, hi=1.5), 'bias': f32(2), 'mean': f32(2), 'var': f32(2, lo=0.5, hi=1.5)}
case('BatchNormalization', 'BatchNormalization', 'BatchNormalization', {'X': f32(*X5)}, bn, opset=15)
case('BatchNormalization_training', 'BatchNormalization', 'BatchNormalization', {'X': f32(*X5)}, bn, attrs={'training_mode': 1},
     outs={'Y': T.FLOAT, 'running_mean': T.FLOAT, 'running_var': T.FLOAT}, opset=15)
case('Cast', 'Cast', 'Cast', {'X': f32(*X5, lo=-5, hi=5)}, attrs={'to': T.INT32}, outs={'Y': T.INT32})
case('Clip', 'Clip', 'Clip', {'X': f32(*X5)}, {'lo': np.array(-0.5, np.float32), 'hi': np.array(0.5, np.float32)})
case('Concat', 'Concat', 'Concat', {'X': f32(*X5)}, {'B': f32(1, 1, 4, 4, 4)}, attrs={'axis': 1})

# Conv: 2D; 3D with equal pads and explicit strides/dilations runs; the three 3D cases that do not
w3 = f32(3, 2, 3, 3, 3)
c3 = {'kernel_shape': [3, 3, 3], 'strides': [1, 1, 1], 'dilations': [1, 1, 1]}
case('Conv_2d', 'Conv', 'Conv', {'X': f32(*X4)}, {'W': f32(3, 2, 3, 3), 'b': f32(3)}, attrs={'kernel_shape': [3, 3], 'pads': [1, 1, 1, 1]})
case('Conv_2d_no_kernel_shape', 'Conv', 'Conv', {'X': f32(*X4)}, {'W': f32(3, 2, 3, 3), 'b': f32(3)}, attrs={'pads': [1, 1, 1, 1]})
case('Conv_2d_no_kernel_shape_explicit', 'Conv', 'Conv', {'X': f32(*X4)}, {'W': f32(3, 2, 3, 3)}, attrs={'pads': [1, 1, 1, 1], 'strides': [1, 1], 'dilations': [1, 1]})
case('Conv_3d_no_kernel_shape', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': w3}, attrs={'pads': [1] * 6, 'strides': [1, 1, 1], 'dilations': [1, 1, 1]})
case('Conv_3d_no_attrs', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': w3}, attrs={'pads': [1] * 6})
case('Conv_3d', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': w3, 'b': f32(3)}, attrs={**c3, 'pads': [1] * 6})
case('Conv_3d_unequal_pads', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': w3}, attrs={**c3, 'pads': [1, 1, 1, 0, 0, 0]})
case('Conv_3d_no_strides', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': w3}, attrs={'kernel_shape': [3, 3, 3], 'pads': [1] * 6})
case('Conv_3d_group2', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': f32(2, 1, 3, 3, 3)}, attrs={**c3, 'pads': [1] * 6, 'group': 2})
case('Conv_3d_same_lower', 'Conv', 'Conv', {'X': f32(*X5)}, {'W': f32(3, 2, 2, 2, 2)},
     attrs={'kernel_shape': [2, 2, 2], 'strides': [1, 1, 1], 'dilations': [1, 1, 1], 'auto_pad': 'SAME_LOWER'})
case('ConvTranspose_2d', 'ConvTranspose', 'ConvTranspose', {'X': f32(*X4)}, {'W': f32(2, 3, 2, 2)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2]})
case('ConvTranspose_3d', 'ConvTranspose', 'ConvTranspose', {'X': f32(*X5)}, {'W': f32(2, 3, 2, 2, 2)}, attrs={'kernel_shape': [2, 2, 2], 'strides': [2, 2, 2]})

case('CumSum', 'CumSum', 'CumSum', {'X': f32(*X5)}, {'axis': np.array(2, np.int64)})
case('DFT', 'DFT', 'DFT', {'X': f32(2, 8, 1)}, attrs={'axis': 1}, tol=1e-3)
case('DepthToSpace', 'DepthToSpace', 'DepthToSpace', {'X': f32(1, 8, 2, 2)}, attrs={'blocksize': 2})
case('DequantizeLinear', 'DequantizeLinear', 'DequantizeLinear', {'X': rng.integers(0, 255, X4).astype(np.uint8)},
     {'scale': np.array(0.05, np.float32), 'zp': np.array(128, np.uint8)})
case('DequantizeLinear_int8', 'DequantizeLinear', 'DequantizeLinear', {'X': rng.integers(-128, 127, X4).astype(np.int8)},
     {'scale': np.array(0.05, np.float32), 'zp': np.array(3, np.int8)})
case('DequantizeLinear_uint8_no_zp', 'DequantizeLinear', 'DequantizeLinear', {'X': rng.integers(0, 255, X4).astype(np.uint8)},
     {'scale': np.array(0.05, np.float32)})
case('Einsum', 'Einsum', 'Einsum', {'X': f32(3, 4)}, {'B': f32(4, 5)}, attrs={'equation': 'ij,jk->ik'})
case('Expand', 'Expand', 'Expand', {'X': f32(1, 2, 1, 4)}, {'shape': i64(1, 2, 3, 4)})
case('Flatten', 'Flatten', 'Flatten', {'X': f32(*X5)}, attrs={'axis': 2})
case('Gather', 'Gather', 'Gather', {'X': f32(4, 4, 4)}, {'idx': i64(3, 0, 1)}, attrs={'axis': 1})
case('GatherElements', 'GatherElements', 'GatherElements', {'X': f32(2, 4, 4)}, {'idx': rng.integers(0, 4, (2, 3, 4)).astype(np.int64)}, attrs={'axis': 1})
case('GatherND', 'GatherND', 'GatherND', {'X': f32(2, 4, 4)}, {'idx': i64([1, 2], [0, 3])})
case('Gemm', 'Gemm', 'Gemm', {'X': f32(2, 4)}, {'W': f32(4, 3), 'C': f32(3)}, attrs={'alpha': 0.5, 'beta': 2.0})
case('GridSample_2d', 'GridSample', 'GridSample', {'X': f32(*X4)}, {'grid': f32(1, 3, 3, 2)}, opset=16)
case('GridSample_3d_opset16', 'GridSample', 'GridSample', {'X': f32(*X5)}, {'grid': f32(1, 2, 2, 2, 3)}, opset=16)
case('GridSample_3d_opset20', 'GridSample', 'GridSample', {'X': f32(*X5)}, {'grid': f32(1, 2, 2, 2, 3)}, opset=20)

then_g = h.make_graph([h.make_node('Relu', ['X'], ['t'])], 'then', [], [h.make_tensor_value_info('t', T.FLOAT, None)])
else_g = h.make_graph([h.make_node('Neg', ['X'], ['e'])], 'else', [], [h.make_tensor_value_info('e', T.FLOAT, None)])
case('If', 'If', 'If', {'cond': np.array(True), 'X': f32(*X4)}, attrs={'_inputs': ['cond'], 'then_branch': then_g, 'else_branch': else_g})
case('InstanceNormalization', 'InstanceNormalization', 'InstanceNormalization', {'X': f32(*X5)}, {'scale': f32(2), 'B': f32(2)})
case('LayerNormalization', 'LayerNormalization', 'LayerNormalization', {'X': f32(2, 4, 8)}, {'scale': f32(8), 'B': f32(8)}, attrs={'axis': -1})
case('MatMul', 'MatMul', 'MatMul', {'X': f32(2, 4, 4)}, {'B': f32(4, 3)})
case('Not', 'Not', 'Not', {'X': rng.integers(0, 2, (2, 8)).astype(bool)}, outs=B)
case('Pad', 'Pad', 'Pad', {'X': f32(*X4)}, {'pads': i64(0, 0, 1, 2, 0, 0, 2, 1), 'value': np.array(0.5, np.float32)}, opset=18)
case('Range', 'Range', 'Range', {'start': np.array(1.0, np.float32), 'limit': np.array(7.0, np.float32), 'delta': np.array(1.5, np.float32)})
for op in ['ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare']:
    case(op, op, op, {'X': f32(*X5)}, attrs={'axes': [1, 3], 'keepdims': 1})
case('ReduceLogSum', 'ReduceLogSum', 'ReduceLogSum', {'X': f32(*X5, lo=0.1, hi=2)}, attrs={'axes': [1, 3], 'keepdims': 1})
case('ReduceSum', 'ReduceSum', 'ReduceSum', {'X': f32(*X5)}, {'axes': i64(1, 3)})
case('Reshape', 'Reshape', 'Reshape', {'X': f32(*X5)}, {'shape': i64(2, -1, 4)})
case('Resize_linear_3d', 'Resize', 'Resize', {'X': f32(*X5)}, {'scales': np.array([1, 1, 2, 2, 2], np.float32)},
     attrs={'_inputs': ['X', '', 'scales'], 'mode': 'linear'})
case('Resize_cubic_2d', 'Resize', 'Resize', {'X': f32(*X4)}, {'scales': np.array([1, 1, 2, 2], np.float32)},
     attrs={'_inputs': ['X', '', 'scales'], 'mode': 'cubic'})
case('Resize_cubic_3d', 'Resize', 'Resize', {'X': f32(*X5)}, {'scales': np.array([1, 1, 2, 2, 2], np.float32)},
     attrs={'_inputs': ['X', '', 'scales'], 'mode': 'cubic'})
case('Resize_align_corners_down', 'Resize', 'Resize', {'X': f32(1, 2, 6, 6)}, {'sizes': i64(1, 2, 3, 3)},
     attrs={'_inputs': ['X', '', '', 'sizes'], 'mode': 'linear', 'coordinate_transformation_mode': 'align_corners'})
case('ScatterND', 'ScatterND', 'ScatterND', {'X': f32(4, 4)}, {'idx': i64([1], [3]), 'upd': f32(2, 4)})
case('Shape', 'Shape', 'Shape', {'X': f32(*X5)}, outs={'Y': T.INT64}, dyn={'X': ['n', 2, 'd', 4, 4]})
case('Slice', 'Slice', 'Slice', {'X': f32(*X5)}, {'starts': i64(1, 0), 'ends': i64(3, 4), 'axes': i64(2, 4), 'steps': i64(1, 2)})
case('Split', 'Split', 'Split', {'X': f32(*X5)}, {'split': i64(1, 1)}, attrs={'axis': 1}, outs={'Y': T.FLOAT, 'Z': T.FLOAT})
case('Squeeze', 'Squeeze', 'Squeeze', {'X': f32(1, 2, 4, 1)}, {'axes': i64(3)})
case('Unsqueeze', 'Unsqueeze', 'Unsqueeze', {'X': f32(2, 4)}, {'axes': i64(0, 2)})
case('Tile', 'Tile', 'Tile', {'X': f32(1, 2, 2, 2)}, {'reps': i64(1, 1, 2, 3)})
case('Transpose', 'Transpose', 'Transpose', {'X': f32(*X5)}, attrs={'perm': [0, 2, 3, 4, 1]})
case('Where', 'Where', 'Where', {'X': f32(*X4)}, {'c': rng.integers(0, 2, X4).astype(bool), 'B': f32(*X4)}, attrs={'_inputs': ['c', 'X', 'B']})
const_t = nh.from_array(f32(2, 3), 'value')
case('Constant', 'Constant', 'Constant', {}, attrs={'value': const_t})
case('Identity', 'Identity', 'Identity', {'X': f32(*X4)})
case('Dropout', 'Dropout', 'Dropout', {'X': f32(*X4)})

# ---- com.microsoft ---------------------------------------------------------------------------
MS = 'com.microsoft'
case('ms_Attention', 'com.microsoft:Attention', 'Attention', {'X': f32(1, 4, 8)}, {'W': f32(8, 24), 'b': f32(24)}, attrs={'num_heads': 2}, domain=MS, tol=1e-3)
case('ms_BiasAdd', 'com.microsoft:BiasAdd', 'BiasAdd', {'X': f32(1, 2, 320)}, {'b': f32(320), 'skip': f32(1, 2, 320)}, domain=MS)
case('ms_BiasSplitGelu', 'com.microsoft:BiasSplitGelu', 'BiasSplitGelu', {'X': f32(1, 1, 2560)}, {'b': f32(2560)}, domain=MS, tol=1e-3)
case('ms_FastGelu', 'com.microsoft:FastGelu', 'FastGelu', {'X': f32(1, 4, 8)}, {'b': f32(8)}, domain=MS, tol=1e-3)
case('ms_FusedConv', 'com.microsoft:FusedConv', 'FusedConv', {'X': f32(*X4)}, {'W': f32(3, 2, 3, 3), 'b': f32(3)},
     attrs={'pads': [1, 1, 1, 1], 'kernel_shape': [3, 3], 'activation': 'Relu'}, domain=MS)
case('ms_GatherBlockQuantized', 'com.microsoft:GatherBlockQuantized', 'GatherBlockQuantized', {'idx': i64(2, 0)},
     {'data': rng.integers(0, 255, (4, 8)).astype(np.uint8), 'scales': f32(4, 1, lo=0.1, hi=1)},
     attrs={'_inputs': ['data', 'idx', 'scales'], 'gather_axis': 0, 'quantize_axis': 1, 'block_size': 16, 'bits': 4}, domain=MS)
u4 = onnx.TensorProto(name='data', data_type=21, dims=[4, 16], raw_data=rng.integers(0, 255, 32).astype(np.uint8).tobytes())
case('ms_GatherBlockQuantized_uint4', 'com.microsoft:GatherBlockQuantized', 'GatherBlockQuantized', {'idx': i64(2, 0)},
     {'scales': f32(4, 1, lo=0.1, hi=1)}, raw_inits=[u4],
     attrs={'_inputs': ['data', 'idx', 'scales'], 'gather_axis': 0, 'quantize_axis': 1, 'block_size': 16}, domain=MS)
case('ms_Gelu', 'com.microsoft:Gelu', 'Gelu', {'X': f32(1, 4, 8)}, domain=MS, tol=1e-3)
case('ms_GroupQueryAttention', 'com.microsoft:GroupQueryAttention', 'GroupQueryAttention',
     {'q': f32(1, 4, 16), 'k': f32(1, 4, 8), 'v': f32(1, 4, 8), 'seqlens_k': np.array([3], np.int32), 'total': np.array(4, np.int32)},
     {},
     attrs={'_inputs': ['q', 'k', 'v', '', '', 'seqlens_k', 'total'], 'num_heads': 2, 'kv_num_heads': 1},
     outs={'Y': T.FLOAT, 'present_key': T.FLOAT, 'present_value': T.FLOAT}, domain=MS, tol=1e-3)
case('ms_MatMulNBits', 'com.microsoft:MatMulNBits', 'MatMulNBits', {'X': f32(2, 16)},
     {'Bq': rng.integers(0, 255, (4, 1, 8)).astype(np.uint8), 'scales': f32(4, lo=0.05, hi=0.2)},
     attrs={'K': 16, 'N': 4, 'bits': 4, 'block_size': 16}, domain=MS, tol=1e-3)
case('ms_MultiHeadAttention', 'com.microsoft:MultiHeadAttention', 'MultiHeadAttention', {'q': f32(1, 4, 8), 'k': f32(1, 4, 8), 'v': f32(1, 4, 8)},
     attrs={'num_heads': 2}, domain=MS, tol=1e-3)
case('ms_QuickGelu', 'com.microsoft:QuickGelu', 'QuickGelu', {'X': f32(1, 4, 8)}, attrs={'alpha': 1.702}, domain=MS)
case('ms_RotaryEmbedding', 'com.microsoft:RotaryEmbedding', 'RotaryEmbedding', {'X': f32(1, 4, 8)},
     {'pos': i64([0, 1, 2, 3]), 'cos': f32(4, 2), 'sin': f32(4, 2)}, attrs={'num_heads': 2}, domain=MS, tol=1e-3)
case('ms_SkipLayerNormalization', 'com.microsoft:SkipLayerNormalization', 'SkipLayerNormalization', {'X': f32(1, 4, 8)},
     {'skip': f32(1, 4, 8), 'gamma': f32(8), 'beta': f32(8)}, domain=MS, tol=1e-3)
case('ms_SkipSimplifiedLayerNormalization', 'com.microsoft:SkipSimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', {'X': f32(1, 4, 8)},
     {'skip': f32(1, 4, 8), 'gamma': f32(8)}, domain=MS, tol=1e-3)

# ---- ai.onnx ops without WebGPU kernels (run on the CPU inside the WebGPU session) --------------
case('ConstantOfShape', 'ConstantOfShape', 'ConstantOfShape', {'shape': i64(1, 2, 3)}, attrs={'value': nh.from_array(np.array([1.5], np.float32))})
case('Upsample', 'Upsample', 'Upsample', {'X': f32(*X4)}, {'scales': np.array([1, 1, 2, 2], np.float32)}, opset=9)
case('PRelu', 'PRelu', 'PRelu', {'X': f32(*X5)}, {'slope': f32(2, 1, 1, 1)})
for op in ['Max', 'Min', 'Sum', 'Mean']:
    binary(op)
for op in ['Softplus', 'Softsign', 'Round', 'Sign', 'Shrink']:
    unary(op, x=f32(*X5, lo=-3, hi=3))
unary('Selu')
case('Celu', 'Celu', 'Celu', {'X': f32(*X5)}, attrs={'alpha': 0.5}, opset=12)
case('Mish', 'Mish', 'Mish', {'X': f32(*X5)}, opset=18)
case('Mod', 'Mod', 'Mod', {'X': f32(*X5, lo=-3, hi=3)}, {'B': np.full((1, 2, 1, 1, 4), 0.7, np.float32)}, attrs={'fmod': 1})
case('LogSoftmax', 'LogSoftmax', 'LogSoftmax', {'X': f32(*X5)}, attrs={'axis': -1})
case('Hardmax', 'Hardmax', 'Hardmax', {'X': f32(*X5)}, attrs={'axis': -1})
case('NonZero', 'NonZero', 'NonZero', {'X': np.round(f32(2, 4))}, outs={'Y': T.INT64})
case('TopK', 'TopK', 'TopK', {'X': f32(3, 5)}, {'k': i64(2)}, outs={'Y': T.FLOAT, 'I': T.INT64})
case('OneHot', 'OneHot', 'OneHot', {'X': i64(0, 2, 1)}, {'depth': np.array(3, np.int64), 'values': np.array([0, 1], np.float32)})
case('Trilu', 'Trilu', 'Trilu', {'X': f32(4, 4)})
case('LRN', 'LRN', 'LRN', {'X': f32(1, 4, 3, 3)}, attrs={'size': 3})
case('LpNormalization', 'LpNormalization', 'LpNormalization', {'X': f32(2, 4)}, attrs={'axis': 1, 'p': 2})
case('MeanVarianceNormalization', 'MeanVarianceNormalization', 'MeanVarianceNormalization', {'X': f32(*X4)})
case('GroupNormalization', 'GroupNormalization', 'GroupNormalization', {'X': f32(1, 4, 3, 3)}, {'scale': f32(2), 'bias': f32(2)},
     attrs={'num_groups': 2}, opset=18, tol=1e-3)
case('SpaceToDepth', 'SpaceToDepth', 'SpaceToDepth', {'X': f32(*X4)}, attrs={'blocksize': 2})
case('QuantizeLinear', 'QuantizeLinear', 'QuantizeLinear', {'X': f32(*X4)}, {'scale': np.array(0.01, np.float32), 'zp': np.array(128, np.uint8)}, outs={'Y': T.UINT8})
q = {'xs': np.array(0.02, np.float32), 'xz': np.array(128, np.uint8)}
case('QLinearConv', 'QLinearConv', 'QLinearConv', {'X': rng.integers(0, 255, (1, 1, 4, 4)).astype(np.uint8)},
     {**q, 'w': rng.integers(0, 255, (2, 1, 3, 3)).astype(np.uint8), 'ws': np.array(0.01, np.float32), 'wz': np.array(100, np.uint8),
      'ys': np.array(0.5, np.float32), 'yz': np.array(10, np.uint8)}, outs={'Y': T.UINT8})
case('QLinearMatMul', 'QLinearMatMul', 'QLinearMatMul', {'X': rng.integers(0, 255, (2, 4)).astype(np.uint8)},
     {**q, 'w': rng.integers(0, 255, (4, 3)).astype(np.uint8), 'ws': np.array(0.01, np.float32), 'wz': np.array(100, np.uint8),
      'ys': np.array(0.5, np.float32), 'yz': np.array(10, np.uint8)}, outs={'Y': T.UINT8})
case('MatMulInteger', 'MatMulInteger', 'MatMulInteger', {'X': rng.integers(0, 255, (2, 4)).astype(np.uint8)}, {'w': rng.integers(0, 255, (4, 3)).astype(np.uint8)}, outs={'Y': T.INT32})
case('ConvInteger', 'ConvInteger', 'ConvInteger', {'X': rng.integers(0, 255, (1, 1, 4, 4)).astype(np.uint8)}, {'w': rng.integers(0, 255, (2, 1, 3, 3)).astype(np.uint8)}, outs={'Y': T.INT32})
case('DynamicQuantizeLinear', 'DynamicQuantizeLinear', 'DynamicQuantizeLinear', {'X': f32(*X4)}, outs={'Y': T.UINT8, 'S': T.FLOAT, 'Z': T.UINT8})
case('ScatterElements', 'ScatterElements', 'ScatterElements', {'X': f32(4, 4)}, {'idx': i64([1, 0], [3, 2]), 'upd': f32(2, 2)}, attrs={'axis': 0})
case('Scatter', 'Scatter', 'Scatter', {'X': f32(4, 4)}, {'idx': i64([1, 0], [3, 2]), 'upd': f32(2, 2)}, attrs={'axis': 0}, opset=10)
case('Compress', 'Compress', 'Compress', {'X': f32(4, 4)}, {'c': np.array([1, 0, 1, 1], bool)}, attrs={'axis': 0})
boxes = np.array([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3], [0, 4, 1, 5]]], np.float32)
case('NonMaxSuppression', 'NonMaxSuppression', 'NonMaxSuppression', {'boxes': boxes},
     {'scores': np.array([[[0.9, 0.8, 0.7, 0.6]]], np.float32), 'maxo': i64(3), 'iou': np.array([0.5], np.float32)}, outs={'Y': T.INT64})
case('RoiAlign', 'RoiAlign', 'RoiAlign', {'X': f32(*X4)}, {'rois': np.array([[0, 0, 3, 3]], np.float32), 'bi': i64(0)},
     attrs={'output_height': 2, 'output_width': 2, 'sampling_ratio': 2}, opset=16)
case('Size', 'Size', 'Size', {'X': f32(*X4)}, outs={'Y': T.INT64})
for op in ['And', 'Or', 'Xor']:
    case(op, op, op, {'X': rng.integers(0, 2, (2, 4)).astype(bool)}, {'B': rng.integers(0, 2, (2, 4)).astype(bool)}, outs=B)
case('IsNaN', 'IsNaN', 'IsNaN', {'X': f32(2, 4)}, outs=B)
case('IsInf', 'IsInf', 'IsInf', {'X': f32(2, 4)}, outs=B)
body = h.make_graph(
    [h.make_node('Identity', ['cond_in'], ['cond_out']), h.make_node('Add', ['v_in', 'v_in'], ['v_out'])], 'body',
    [h.make_tensor_value_info('iter', T.INT64, []), h.make_tensor_value_info('cond_in', T.BOOL, []), h.make_tensor_value_info('v_in', T.FLOAT, None)],
    [h.make_tensor_value_info('cond_out', T.BOOL, []), h.make_tensor_value_info('v_out', T.FLOAT, None)])
case('Loop', 'Loop', 'Loop', {'X': f32(2, 4)}, {'M': np.array(3, np.int64), 'cond': np.array(True)}, attrs={'_inputs': ['M', 'cond', 'X'], 'body': body})
scan_body = h.make_graph(
    [h.make_node('Add', ['s_in', 'x_in'], ['s_out']), h.make_node('Identity', ['s_out'], ['y_out'])], 'scan_body',
    [h.make_tensor_value_info('s_in', T.FLOAT, [2]), h.make_tensor_value_info('x_in', T.FLOAT, [2])],
    [h.make_tensor_value_info('s_out', T.FLOAT, [2]), h.make_tensor_value_info('y_out', T.FLOAT, [2])])
case('Scan', 'Scan', 'Scan', {'X': f32(4, 2)}, {'s0': f32(2)}, attrs={'_inputs': ['s0', 'X'], 'body': scan_body, 'num_scan_inputs': 1},
     outs={'Y': T.FLOAT, 'Z': T.FLOAT}, opset=16)
case('EyeLike', 'EyeLike', 'EyeLike', {'X': f32(3, 4)}, attrs={'k': 1})
case('ReverseSequence', 'ReverseSequence', 'ReverseSequence', {'X': f32(4, 2, 3)}, {'lens': i64(3, 2)}, attrs={'batch_axis': 1, 'time_axis': 0})
case('Unique', 'Unique', 'Unique', {'X': np.array([2, 1, 1, 3, 4, 3], np.float32)}, attrs={'sorted': 1},
     outs={'Y': T.FLOAT, 'I': T.INT64, 'inv': T.INT64, 'cnt': T.INT64})
case('Col2Im', 'Col2Im', 'Col2Im', {'X': f32(1, 4, 9)}, {'img': i64(4, 4), 'blk': i64(2, 2)}, opset=18)
case('CenterCropPad', 'CenterCropPad', 'CenterCropPad', {'X': f32(5, 3)}, {'shape': i64(3, 5)}, opset=18)
case('AffineGrid', 'AffineGrid', 'AffineGrid', {'theta': f32(1, 2, 3)}, {'size': i64(1, 1, 3, 4)}, opset=20)
case('BitShift', 'BitShift', 'BitShift', {'X': rng.integers(0, 16, (2, 4)).astype(np.uint8)}, {'B': np.array([1, 2, 0, 3], np.uint8)}, attrs={'direction': 'LEFT'}, outs={'Y': T.UINT8})
case('CastLike', 'CastLike', 'CastLike', {'X': f32(2, 4, lo=-5, hi=5)}, {'like': np.array([0], np.int32)}, outs={'Y': T.INT32}, opset=15)
case('LpPool', 'LpPool', 'LpPool', {'X': f32(*X4)}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2], 'p': 2}, opset=11)
case('GlobalLpPool', 'GlobalLpPool', 'GlobalLpPool', {'X': f32(*X4)}, attrs={'p': 2})
case('MaxUnpool', 'MaxUnpool', 'MaxUnpool', {'X': f32(1, 1, 2, 2)}, {'idx': i64([[[0, 3], [9, 14]]])}, attrs={'kernel_shape': [2, 2], 'strides': [2, 2]})
case('MaxRoiPool', 'MaxRoiPool', 'MaxRoiPool', {'X': f32(*X4)}, {'rois': np.array([[0, 0, 0, 3, 3]], np.float32)}, attrs={'pooled_shape': [2, 2]})
case('STFT', 'STFT', 'STFT', {'X': f32(1, 16, 1)}, {'step': np.array(4, np.int64), 'window': np.hanning(8).astype(np.float32)}, tol=1e-3)
case('RandomNormal', 'RandomNormal', 'RandomNormal', {'X': f32(2, 3)}, attrs={'_inputs': [], '_outputs': ['Y'], 'shape': [2, 3]},
     extra_nodes=[h.make_node('Identity', ['X'], ['Xc'])], outs={'Y': T.FLOAT, 'Xc': T.FLOAT}, random=True)
case('RandomUniform', 'RandomUniform', 'RandomUniform', {'X': f32(2, 3)}, attrs={'_inputs': [], '_outputs': ['Y'], 'shape': [2, 3]},
     extra_nodes=[h.make_node('Identity', ['X'], ['Xc'])], outs={'Y': T.FLOAT, 'Xc': T.FLOAT}, random=True)
case('RandomNormalLike', 'RandomNormalLike', 'RandomNormalLike', {'X': f32(2, 3)}, random=True)
case('RandomUniformLike', 'RandomUniformLike', 'RandomUniformLike', {'X': f32(2, 3)}, random=True)
case('Multinomial', 'Multinomial', 'Multinomial', {'X': np.log(np.array([[0.1, 0.2, 0.3, 0.4]], np.float32))}, attrs={'sample_size': 3}, outs={'Y': T.INT32}, random=True)

with open(os.path.join(OUT, 'manifest.json'), 'w') as fh:
    fh.write('[\n' + ',\n'.join(json.dumps(e, separators=(',', ':')) for e in manifest) + '\n]\n')
total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
print(f'{len(manifest)} one-op models, {total / 1024:.0f} KiB in {OUT}')
