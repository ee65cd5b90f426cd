"""Runs an ONNX model exported by `alaverify export` in onnxruntime (EndToEndTests/ONNXExportTests).

usage: onnx_roundtrip.py MODEL.onnx DIR
DIR holds pixels.npy (uint8 [N, 1, H, W]) and embeddings.npy (float32 [N, D], alaverify's own
embeddings of the same samples) and labels.npy (int32 [N]). Writes DIR/onnx-scores.npz: every pair
i < j in alaverify's pair order, scored by the dot product of the onnxruntime embeddings. Prints one
JSON line: the largest |difference| of the embeddings and their norms, the graph's input and output, the
metadata_props, the onnxruntime version."""
import json
import sys

import numpy as np
import onnxruntime as ort

model, folder = sys.argv[1], sys.argv[2]
pixels = np.load(f"{folder}/pixels.npy")
reference = np.load(f"{folder}/embeddings.npy")
labels = np.load(f"{folder}/labels.npy")

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
inputs, outputs = session.get_inputs(), session.get_outputs()
# Two batch sizes: the batch dimension is symbolic.
embeddings = np.concatenate([
    session.run(None, {inputs[0].name: pixels[:7].astype(np.float32)})[0],
    session.run(None, {inputs[0].name: pixels[7:].astype(np.float32)})[0],
])

i, j = np.triu_indices(len(labels), k=1)
scores = np.einsum("nd,nd->n", embeddings[i], embeddings[j]).astype(np.float32)
np.savez(f"{folder}/onnx-scores.npz", scores=scores, labels=(labels[i] == labels[j]).astype(np.uint8),
         left_id=labels[i].astype(np.int32), right_id=labels[j].astype(np.int32))

meta = session.get_modelmeta()
print(json.dumps({
    "max_abs_diff": float(np.max(np.abs(embeddings - reference))),
    "norms": [float(np.min(np.linalg.norm(embeddings, axis=1))), float(np.max(np.linalg.norm(embeddings, axis=1)))],
    "input": f"{inputs[0].name} {json.dumps(inputs[0].shape)} {inputs[0].type}",
    "output": f"{outputs[0].name} {json.dumps(outputs[0].shape)} {outputs[0].type}",
    "metadata": meta.custom_metadata_map,
    "producer": meta.producer_name,
    "onnxruntime": ort.__version__,
}))
