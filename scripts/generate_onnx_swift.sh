#!/usr/bin/env bash
# Regenerates Sources/ONNXExport/onnx.pb.swift from onnx.proto. Not part of the build: the
# generated file is committed, because building swift-protobuf's code generator takes minutes.
# It was generated from onnx 1.23.2's onnx.proto (the PyPI wheel ships it) with protoc 3.21.12
# (Debian's protobuf-compiler) and protoc-gen-swift of apple/swift-protobuf 1.39.0, the version
# Package.swift resolves (the generated code checks that the library matches).
#
# usage: scripts/generate_onnx_swift.sh SCRATCH   (SCRATCH: a folder outside the repository)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${1:?give a scratch folder outside the repository}"
mkdir -p "$scratch"
cd "$scratch"
command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler"; exit 1; }
[ -d venv ] || python3 -m venv venv
venv/bin/pip install -q "onnx==1.23.2"
cp venv/lib/python3*/site-packages/onnx/onnx.proto .
[ -d swift-protobuf ] || git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf swift-protobuf
(cd swift-protobuf && swift build -c release --product protoc-gen-swift)
protoc --plugin=protoc-gen-swift="$scratch/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_out="$repo/Sources/ONNXExport" --swift_opt=Visibility=Internal onnx.proto
echo "wrote $repo/Sources/ONNXExport/onnx.pb.swift"
