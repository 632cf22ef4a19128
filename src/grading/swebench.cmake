# SWE-bench grading sources, and the harness v4.1.0 specs table (data:
# grading/data/swebench_specs_v4.1.0.json) compiled in as a string; a change
# to the file reconfigures.
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/swebench_eval_script.cc
  ${CMAKE_CURRENT_LIST_DIR}/swebench_log.cc
  ${CMAKE_CURRENT_LIST_DIR}/swebench_report.cc
  ${CMAKE_CURRENT_LIST_DIR}/swebench_specs.cc)
set(R2E_SWEBENCH_SPECS_FILE ${CMAKE_CURRENT_LIST_DIR}/data/swebench_specs_v4.1.0.json)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${R2E_SWEBENCH_SPECS_FILE})
file(READ ${R2E_SWEBENCH_SPECS_FILE} R2E_SWEBENCH_SPECS_JSON)
configure_file(${CMAKE_CURRENT_LIST_DIR}/data/swebench_specs_data.cc.in
               ${CMAKE_CURRENT_BINARY_DIR}/grading/swebench_specs_data.cc @ONLY)
target_sources(r2e PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/grading/swebench_specs_data.cc)
