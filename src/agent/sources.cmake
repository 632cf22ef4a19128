# The LLM agent: its HTTP client, r2e's own prompts, the episode loops, and the
# R2E-Gym scaffold's prompt presets.
target_sources(r2e PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/llm_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_prompts.cc
  ${CMAKE_CURRENT_LIST_DIR}/llm_agent.cc
  ${CMAKE_CURRENT_LIST_DIR}/scaffold_loop.cc
  ${CMAKE_CURRENT_LIST_DIR}/scaffold_prompts.cc
)
# The scaffold's prompt presets (data: prompt_presets.json, taken from the
# scaffold's configs), compiled in as a string; a change to the file reconfigures.
set(R2E_PROMPT_PRESETS_FILE ${CMAKE_CURRENT_LIST_DIR}/prompt_presets.json)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${R2E_PROMPT_PRESETS_FILE})
file(READ ${R2E_PROMPT_PRESETS_FILE} R2E_PROMPT_PRESETS_JSON)
configure_file(${CMAKE_CURRENT_LIST_DIR}/prompt_presets_data.cc.in
               ${CMAKE_CURRENT_BINARY_DIR}/agent/prompt_presets_data.cc @ONLY)
target_sources(r2e PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/agent/prompt_presets_data.cc)
