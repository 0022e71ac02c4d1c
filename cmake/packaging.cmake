# Install layout and the Debian package (CPack DEB). Included from the top-level CMakeLists.
#
#   bin/aftershockd, bin/aftershock-feedsim
#   /etc/aftershock/aftershock.yaml, aftershock.schema.json, calendars/   (conffiles in the .deb)
#   <systemd unit dir>/aftershock.service     (/lib/systemd/system for prefix /usr, as Debian 12)
#   share/aftershock/demo/                     demo config, calendars, the DeepSeek day capture
#   share/aftershock/grafana, share/aftershock/prometheus   when deploy/ has them
#   share/doc/aftershock/                      README, copyright, changelog
#
# `cmake --install build --prefix /usr` (with DESTDIR= for staging) or `scripts/package`.
# A system daemon: /usr unless a prefix was given (then /etc/aftershock and the Debian unit
# directory follow from GNUInstallDirs' /usr rule).
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)
# `cpack` and `ninja install` need the two programs only, not every test binary.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(AFTERSHOCK_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/aftershock" CACHE PATH
    "Where the default configuration is installed")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_unit_dir_default "/lib/systemd/system")  # Debian 12 keeps units out of /usr/lib
else()
  set(_unit_dir_default "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(AFTERSHOCK_SYSTEMD_UNIT_DIR "${_unit_dir_default}" CACHE PATH "systemd system unit directory")

install(TARGETS aftershockd aftershock-feedsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES deploy/config/aftershock.yaml deploy/config/aftershock.schema.json
        DESTINATION ${AFTERSHOCK_CONFIG_DIR})
install(DIRECTORY deploy/config/calendars DESTINATION ${AFTERSHOCK_CONFIG_DIR})

# The units name /usr/bin and /etc/aftershock; other prefixes get their own paths. Both the
# single-process unit and the template unit for cluster roles (aftershock@ROLE.service).
foreach(_unit_name aftershock.service aftershock@.service)
  file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/${_unit_name} _unit)
  string(REPLACE "/usr/bin/aftershockd" "${CMAKE_INSTALL_FULL_BINDIR}/aftershockd" _unit "${_unit}")
  string(REPLACE "/etc/aftershock/" "${AFTERSHOCK_CONFIG_DIR}/" _unit "${_unit}")
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/packaging/${_unit_name} CONTENT "${_unit}" @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${PROJECT_SOURCE_DIR}/deploy/systemd/${_unit_name})
  install(FILES ${PROJECT_BINARY_DIR}/packaging/${_unit_name}
          DESTINATION ${AFTERSHOCK_SYSTEMD_UNIT_DIR})
endforeach()

set(_share ${CMAKE_INSTALL_DATADIR}/aftershock)
install(FILES deploy/config/demo.yaml deploy/config/aftershock.schema.json
        DESTINATION ${_share}/demo)
install(DIRECTORY deploy/config/calendars DESTINATION ${_share}/demo)
install(FILES tests/data/scenarios/deepseek-2025-01-27/capture.ndjson
              tests/data/scenarios/deepseek-2025-01-27/expected.json
              tests/data/scenarios/check_alerts.py
        DESTINATION ${_share}/demo/deepseek-2025-01-27)
# Dashboards and Prometheus files, when the tree has them.
install(DIRECTORY deploy/grafana deploy/prometheus DESTINATION ${_share} OPTIONAL)

set(_doc ${CMAKE_INSTALL_DOCDIR})
install(FILES README.md cmake/debian/copyright DESTINATION ${_doc})
# Debian wants the changelog compressed at maximum level, without a timestamp (-n).
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/packaging)
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/cmake/debian/changelog
                OUTPUT_FILE ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/cmake/debian/changelog)
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.gz DESTINATION ${_doc})

# ---- CPack: the .deb ---------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME aftershock)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "aftershock maintainers <maintainers@aftershock.invalid>")
set(CPACK_PACKAGE_VENDOR "aftershock")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "market-move alerts that cite the AI headlines behind them")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "aftershockd watches market-data and news feeds (Alpaca, Finnhub, Polygon,\n"
    "Binance), links AI-related headlines in English and Chinese to the tickers\n"
    "they move, and raises an alert naming its baseline and window when a move\n"
    "crosses a threshold. Alerts go to Slack, Discord, Teams, Telegram,\n"
    "Alertmanager or webhooks through a durable outbox. It runs as a hardened\n"
    "systemd service and replays recorded days exactly.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)       # Depends from the binaries' shared libraries
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://aftershock.invalid/")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm
    ${PROJECT_BINARY_DIR}/packaging/conffiles)
# Every file under /etc/aftershock is a conffile: dpkg keeps the operator's edits on upgrade.
file(GLOB _calendars RELATIVE ${PROJECT_SOURCE_DIR}/deploy/config/calendars
     ${PROJECT_SOURCE_DIR}/deploy/config/calendars/*.yaml)
set(_conffiles "/etc/aftershock/aftershock.yaml\n/etc/aftershock/aftershock.schema.json\n")
foreach(c IN LISTS _calendars)
  string(APPEND _conffiles "/etc/aftershock/calendars/${c}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${_conffiles}")
include(CPack)
