{
  "targets": [
    {
      "target_name": "gru_cudnn",
      # One list of sources and flags for every build: native/sources.json (the prebuilt binaries
      # are compiled from it too).
      "sources": ["<!@(node -p \"require('./native/sources.json').addon.join(' ')\")"],
      # node-addon-api's headers, and the ones gru's addons share (@gru/native-build).
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@gru/native-build/include').include_dir\")"
      ],
      "defines": ["<!@(node -p \"require('./native/sources.json').defines.join(' ')\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["<!@(node -p \"require('./native/sources.json').cflags.join(' ')\")"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["<!@(node -p \"require('./native/sources.json').libs.linux.join(' ')\")"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }],
        ["OS=='win'", {
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } }
        }]
      ]
    }
  ]
}
