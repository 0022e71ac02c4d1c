# Runs `aftershockd replay` on a scenario, then the shared check_alerts.py on the output and,
# when the scenario has an extra.json, the project's check_extra.py.
execute_process(
  COMMAND ${AFTERSHOCKD} replay --config ${CONFIG} --alerts-out ${OUT} --print none
          ${SCENARIO}/capture.ndjson
  RESULT_VARIABLE replay_rc)
if(NOT replay_rc EQUAL 0)
  message(FATAL_ERROR "aftershockd replay exited ${replay_rc}")
endif()
execute_process(
  COMMAND python3 ${CHECKER} ${SCENARIO}/expected.json ${OUT}
  RESULT_VARIABLE check_rc)
if(NOT check_rc EQUAL 0)
  message(FATAL_ERROR "check_alerts.py failed (${check_rc})")
endif()
if(EXISTS ${SCENARIO}/extra.json)
  execute_process(
    COMMAND python3 ${EXTRA_CHECKER} ${SCENARIO}/extra.json ${OUT}
    RESULT_VARIABLE extra_rc)
  if(NOT extra_rc EQUAL 0)
    message(FATAL_ERROR "check_extra.py failed (${extra_rc})")
  endif()
endif()
