# Applies UISCSI_SANITIZE (e.g. "address,undefined" or "thread") to every target.
# With UISCSI_BUILD_FUZZERS the libraries also get libFuzzer's coverage instrumentation.
if(UISCSI_SANITIZE)
  add_compile_options(-fsanitize=${UISCSI_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${UISCSI_SANITIZE})
endif()
if(UISCSI_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "UISCSI_BUILD_FUZZERS needs clang (g++ has no -fsanitize=fuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
