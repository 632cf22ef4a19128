# KubeRuntime's tests against the test API server (the kube_apiserver fixture
# of apiserver.cmake starts it and writes ${CMAKE_BINARY_DIR}/kube-apiserver/
# kubeconfig). Every tests/kube/*_test.cc is part of r2e_kube_tests; each test
# skips when the kubeconfig is missing. R2E_KUBE_DIR overrides the directory
# (e.g. a server started by hand with scripts/test-apiserver.sh start DIR).
file(GLOB R2E_KUBE_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cc)
add_executable(r2e_kube_tests ${R2E_KUBE_TEST_SOURCES})
target_include_directories(r2e_kube_tests PRIVATE ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(r2e_kube_tests PRIVATE r2e::r2e GTest::gtest GTest::gmock GTest::gtest_main)
target_compile_options(r2e_kube_tests PRIVATE ${R2E_WARNINGS} ${R2E_TEST_CXX_FLAGS})
target_compile_definitions(r2e_kube_tests PRIVATE
  R2E_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  R2E_KUBE_DIR="${CMAKE_BINARY_DIR}/kube-apiserver"
  R2E_CLI_PATH="${CMAKE_BINARY_DIR}/src/cli/r2e")
# A test that finds no server skips (GTEST_SKIP); ctest reports it as skipped.
gtest_discover_tests(r2e_kube_tests DISCOVERY_TIMEOUT 60
  PROPERTIES TIMEOUT 300 LABELS kube FIXTURES_REQUIRED kube_apiserver
             SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
