# The test Kubernetes API server (tests/kube/apiserver/, scripts/test-apiserver.sh)
# as a ctest fixture, plus checks of the server itself.
#
# Fixture `kube_apiserver`: kube_apiserver_start starts one server for the whole
# run in ${R2E_KUBE_APISERVER_DIR}; kube_apiserver_stop stops it and removes its
# containers. Tests that use it set FIXTURES_REQUIRED kube_apiserver and read the
# kubeconfig at ${R2E_KUBECONFIG}. Without Docker the start test is skipped (77)
# and writes no kubeconfig: dependent tests must then exit 77 themselves
# ("no kubeconfig: the test API server is not running").
#
# Many tests share the server at once (ctest -j): use your own namespace or
# unique pod names, and scope fault switches with "namespace".

set(R2E_KUBE_APISERVER_DIR ${CMAKE_BINARY_DIR}/kube-apiserver)
set(R2E_KUBECONFIG ${R2E_KUBE_APISERVER_DIR}/kubeconfig)

# Debian's interpreter: python3-kubernetes is installed for it (a pyenv python
# on PATH would not see it). The server itself needs only the standard library.
if(EXISTS /usr/bin/python3)
  set(R2E_SYSTEM_PYTHON3 /usr/bin/python3)
else()
  find_program(R2E_SYSTEM_PYTHON3 NAMES python3 REQUIRED)
endif()

set(_kube_script ${PROJECT_SOURCE_DIR}/scripts/test-apiserver.sh)
set(_kube_tests ${CMAKE_CURRENT_SOURCE_DIR})
# Exit status 3 of the script means "Docker not reachable": report a skip.
set(_kube_skip_docker [=[rc=$?; if [ $rc -eq 3 ]; then echo "SKIP: Docker is not reachable"; exit 77; fi; exit $rc]=])

add_test(NAME kube_apiserver_start
  COMMAND sh -c "\"$0\" start \"$1\"; ${_kube_skip_docker}" ${_kube_script} ${R2E_KUBE_APISERVER_DIR})
add_test(NAME kube_apiserver_stop
  COMMAND sh -c "\"$0\" stop \"$1\"; ${_kube_skip_docker}" ${_kube_script} ${R2E_KUBE_APISERVER_DIR})
set_tests_properties(kube_apiserver_start PROPERTIES FIXTURES_SETUP kube_apiserver)
set_tests_properties(kube_apiserver_stop PROPERTIES FIXTURES_CLEANUP kube_apiserver)
set_tests_properties(kube_apiserver_start kube_apiserver_stop PROPERTIES
  LABELS kube TIMEOUT 120 SKIP_RETURN_CODE 77)

# The protocol with raw sockets, on a private server (it sets faults and restarts it).
add_test(NAME kube_apiserver_protocol
  COMMAND ${R2E_SYSTEM_PYTHON3} ${_kube_tests}/apiserver_test.py ${CMAKE_BINARY_DIR}/kube-apiserver-selftest)
set_tests_properties(kube_apiserver_protocol PROPERTIES LABELS kube TIMEOUT 300 SKIP_RETURN_CODE 77)

# Clients we did not write, against the shared server.
add_test(NAME kube_apiserver_kubectl
  COMMAND ${R2E_SYSTEM_PYTHON3} ${_kube_tests}/kubectl_test.py ${R2E_KUBE_APISERVER_DIR})
add_test(NAME kube_apiserver_python_client
  COMMAND ${R2E_SYSTEM_PYTHON3} ${_kube_tests}/pyclient_test.py ${R2E_KUBE_APISERVER_DIR})
set_tests_properties(kube_apiserver_kubectl kube_apiserver_python_client PROPERTIES
  LABELS kube TIMEOUT 240 SKIP_RETURN_CODE 77 FIXTURES_REQUIRED kube_apiserver)
