// Compiled only to produce the precompiled GoogleTest header the tests share
// (tests/CMakeLists.txt, uiscsi_test_pch).
