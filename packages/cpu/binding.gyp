{
  # One addon, gru_cpu.node. The kernels are compiled once per instruction set (static libraries
  # with their own -m flags); cpu_features.cc picks one at run time, so the binary runs on any
  # CPU of its architecture.
  'variables': {
    'gru_cflags_cc': ['-std=gnu++20', '-O3', '-fexceptions', '-ffp-contract=fast', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter'],
  },
  'target_defaults': {
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++1y', '-fno-exceptions'],
    'cflags_cc': ['<@(gru_cflags_cc)'],
    'xcode_settings': {
      'CLANG_CXX_LANGUAGE_STANDARD': 'gnu++20',
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
      'OTHER_CPLUSPLUSFLAGS': ['-O3', '-ffp-contract=fast'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': { 'ExceptionHandling': 1, 'AdditionalOptions': ['/std:c++20'] },
    },
  },
  'targets': [
    {
      'target_name': 'gru_cpu',
      'sources': [
        'native/addon.cc',
        'native/cpu_features.cc',
        'native/isa_base.cc',
        'native/layer.cc',
        'native/memory.cc',
        'native/promise_worker.cc',
        'native/scalar_activations.cc',
        'native/thread_pool.cc',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS and NODE_ADDON_API_CPP_EXCEPTIONS_ALL: an error
      # that cannot be thrown into JavaScript (a terminating worker thread) is dropped, and any
      # std::exception becomes a JavaScript error, instead of escaping a callback and aborting.
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
                  'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'conditions': [
        ['target_arch=="x64"', {
          'dependencies': ['gru_kernels_avx2', 'gru_kernels_avx512'],
          'defines': ['GRU_HAVE_X86_KERNELS'],
        }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'gru_kernels_avx2',
          'type': 'static_library',
          'sources': ['native/isa_avx2.cc'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-ffp-contract=fast', '-mavx2', '-mfma'] },
        },
        {
          'target_name': 'gru_kernels_avx512',
          'type': 'static_library',
          'sources': ['native/isa_avx512.cc'],
          'cflags_cc': ['-mavx512f', '-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-ffp-contract=fast', '-mavx512f', '-mavx2', '-mfma'] },
        },
      ],
    }],
  ],
}
