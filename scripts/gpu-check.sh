#!/usr/bin/env bash
# The GPU check, in one run, for a machine with an NVIDIA GPU, nvcc, CMake and ninja but maybe no
# Node (the lent H200 machine): builds the CUDA addon and the four check programs for one
# architecture, runs each check program (every CUDA kernel against the native/core CPU kernel,
# timed with CUDA events), then, when a Node and vitest are at hand, the whole JS test suite, in
# which every op also runs on the cuda backend.
#
#   scripts/gpu-check.sh [OUTDIR]
#     OUTDIR      where the logs go (default: $OUT, else ./gpu-check-logs)
#   env: KEXUE_CUDA_ARCH (default 90), KEXUE_GPU_BUNDLE (default .device): a folder that may hold
#        node.xz (an xz-compressed node binary) and nm.tar.xz (node_modules with vitest,
#        node-addon-api and node-api-headers), unpacked when `node` / node_modules are missing.
#        dist/ (the compiled TypeScript) must be there for the JS tests; KEXUE_GPU_VITEST_ARGS adds
#        vitest arguments (e.g. --exclude for tests whose packages the bundle lacks).
# Exit status: the number of failed steps.
set -u -o pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-check-logs}}"
mkdir -p "$out"
arch="${KEXUE_CUDA_ARCH:-90}"
bundle="${KEXUE_GPU_BUNDLE:-.device}"
export PATH="/usr/local/cuda/bin:$PATH"
fails=0
step() { echo; echo "=== $* ($(date +%T))"; }

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$out/gpu.txt"

if ! command -v node >/dev/null && [ -f "$bundle/node.xz" ]; then
  mkdir -p /tmp/kexue-node && xz -dc "$bundle/node.xz" > /tmp/kexue-node/node && chmod +x /tmp/kexue-node/node
  export PATH="/tmp/kexue-node:$PATH"
fi
if [ ! -d node_modules ] && [ -f "$bundle/nm.tar.xz" ]; then tar -xJf "$bundle/nm.tar.xz"; fi

step "build (sm_$arch)"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
addon=ON; [ -f node_modules/node-addon-api/napi.h ] || addon=OFF
if ! { cmake -S . -B build-cuda "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DKEXUE_REQUIRE_CUDA=ON \
         -DKEXUE_BUILD_ADDON=$addon -DCMAKE_CUDA_ARCHITECTURES="$arch" >"$out/cmake.log" 2>&1 &&
       cmake --build build-cuda -j "$(nproc)" >>"$out/cmake.log" 2>&1; }; then
  tail -40 "$out/cmake.log"; echo "build failed"; exit 100
fi
echo "built: $(ls build-cuda/Release | tr '\n' ' ')"

for c in $(ls build-cuda/Release | grep -E '^kexue_cuda_[a-z0-9_]*check$'); do
  step "$c"
  timeout 150 "build-cuda/Release/$c" 2>&1 | tee "$out/$c.log"
  rc=$?; echo "exit $rc"; [ $rc -eq 0 ] || fails=$((fails + 1))
done

if command -v node >/dev/null && [ -x node_modules/.bin/vitest ] && [ -d dist ] && [ "$addon" = ON ]; then
  step "vitest (cuda backend included)"
  node -e "import('./dist/index.js').then(k => console.log(JSON.stringify(k.backends())))" 2>&1 | tee "$out/backends.json"
  timeout "${KEXUE_GPU_VITEST_TIMEOUT:-240}" node_modules/.bin/vitest run --reporter=dot ${KEXUE_GPU_VITEST_ARGS:-} 2>&1 | tee "$out/vitest.log"
  rc=$?; echo "exit $rc"; [ $rc -eq 0 ] || fails=$((fails + 1))
fi
step "done: $fails failed step(s)"
exit $fails
