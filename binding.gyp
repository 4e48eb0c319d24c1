# The CPU addon, built by node-gyp at install time (Python, make and a C++17 compiler; nothing is
# downloaded). CMakeLists.txt builds the same sources, plus CUDA, through cmake-js.
{
  'includes': ['native/sources.gypi'],
  'target_defaults': {
    # No FMA contraction and no errno from math: the samples must be bit-identical to the other
    # backends'. -O3 in cflags_cc comes last on the command line, so it wins over node's -O flags.
    'cflags': ['-ffp-contract=off', '-fno-math-errno', '-fvisibility=hidden'],
    'cflags_cc': ['-std=gnu++17', '-O3'],
    'xcode_settings': {
      'OTHER_CFLAGS': ['-O3', '-ffp-contract=off', '-fno-math-errno'],
      'OTHER_CPLUSPLUSFLAGS': ['-std=c++17'],
    },
    'include_dirs': ['native/core'],
  },
  'targets': [
    {
      'target_name': 'kexue_core_x86',
      'type': 'static_library',
      'conditions': [
        ['target_arch=="x64"', {
          'sources': ['<@(kexue_core_sse2_sources)'],
          'dependencies': ['kexue_core_x86_v3'],
        }],
      ],
    },
    {
      'target_name': 'kexue_core_x86_v3',
      'type': 'static_library',
      'conditions': [
        ['target_arch=="x64"', {
          'sources': ['<@(kexue_core_avx2_sources)'],
          'cflags': ['-march=x86-64-v3'],
          'xcode_settings': {'OTHER_CFLAGS': ['-march=x86-64-v3']},
        }],
      ],
    },
    {
      'target_name': 'kexue',
      'sources': ['<@(kexue_core_sources)', '<@(kexue_napi_sources)'],
      'dependencies': ['kexue_core_x86', 'kexue_core_x86_v3'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
    },
  ],
}
