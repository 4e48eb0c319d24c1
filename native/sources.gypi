# The one list of native sources. binding.gyp includes this file; CMakeLists.txt parses it; the
# wasm build (scripts/build-wasm.mjs) reads kexue_core_sources from it. Paths are relative to the
# repository root.
{
  'variables': {
    'kexue_core_sources': [
      'native/core/exec.cc',
      'native/core/random.cc',
      'native/core/attention.cc',
      'native/core/gemm.cc',
      'native/core/eigh.cc',
      'native/core/linalg.cc',
      'native/core/mlp.cc',
      'native/core/sector.cc',
      'native/core/mlp_train.cc',
    ],
    # Hot loops built per x86-64 micro-architecture level, chosen at run time (random.cc).
    'kexue_core_avx2_sources': [
      'native/core/random_x86_avx2.cc',
      'native/core/attention_x86_avx2.cc',
    ],
    'kexue_core_sse2_sources': [
      'native/core/random_x86_sse2.cc',
      'native/core/attention_x86_sse2.cc',
    ],
    'kexue_napi_sources': [
      'native/napi/addon.cc',
      'native/napi/op_call.cc',
      'native/napi/thread_pool.cc',
      'native/napi/ops_random.cc',
      'native/napi/ops_attention.cc',
      'native/napi/ops_linalg.cc',
      'native/napi/ops_mlp.cc',
      'native/napi/ops_sector.cc',
      'native/napi/ops_mlp_train.cc',
    ],
  },
}
