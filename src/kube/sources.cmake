# Kubernetes runtime sources (issue: KubeRuntime). Beast/Asio/SSL code is only
# in kube_transport.cc (HTTPS) and exec_websocket.cc; the rest is plain C++
# (config, credentials, watch lines, statuses, pod manifests, the client's
# retry and watch logic) so it can be unit-tested and fuzzed.
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kube_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_status.cc
  ${CMAKE_CURRENT_LIST_DIR}/watch.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_credential.cc
  ${CMAKE_CURRENT_LIST_DIR}/credentials.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_transport.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_websocket.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_runtime.cc
)
target_link_libraries(r2e PRIVATE yaml-cpp OpenSSL::SSL OpenSSL::Crypto)
