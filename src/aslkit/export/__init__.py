"""Deployment: ONNX export of registered models and the onnxruntime backend (see export/onnx.py)."""
