{
  # One addon, gru_cpu.node. The kernels are compiled once per instruction set (static libraries
  # with their own -m flags); cpu_features.cc picks one at run time, so the binary runs on any
  # CPU of its architecture.
  'variables': {
    'gru_cflags_cc': ["<!@(node -p \"require('./native/sources.json').cflags.join(' ')\")", '-fPIC'],
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
      # One list of sources for every build: native/sources.json.
      'sources': ["<!@(node -p \"require('./native/sources.json').addon.join(' ')\")"],
      # node-addon-api's headers, and the ones gru's addons share (@gru/native-build).
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@gru/native-build/include').include_dir\")",
      ],
      # The defines include NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS and NODE_ADDON_API_CPP_EXCEPTIONS_ALL:
      # an error that cannot be thrown into JavaScript (a terminating worker thread) is dropped, and
      # any std::exception becomes a JavaScript error, instead of escaping a callback and aborting.
      'defines': ["<!@(node -p \"require('./native/sources.json').defines.join(' ')\")"],
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
          'sources': ["<!(node -p \"require('./native/sources.json').x64Kernels[0].source\")"],
          'cflags_cc': ["<!@(node -p \"require('./native/sources.json').x64Kernels[0].flags.join(' ')\")"],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-ffp-contract=fast', '-mavx2', '-mfma'] },
        },
        {
          'target_name': 'gru_kernels_avx512',
          'type': 'static_library',
          'sources': ["<!(node -p \"require('./native/sources.json').x64Kernels[1].source\")"],
          'cflags_cc': ["<!@(node -p \"require('./native/sources.json').x64Kernels[1].flags.join(' ')\")"],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-ffp-contract=fast', '-mavx512f', '-mavx2', '-mfma'] },
        },
      ],
    }],
  ],
}
