# Runs `aftershockd replay` on a scenario and then the scenario's check_alerts.py on the output.
execute_process(
  COMMAND ${AFTERSHOCKD} replay --config ${CONFIG} --alerts-out ${OUT} ${SCENARIO}/capture.ndjson
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
