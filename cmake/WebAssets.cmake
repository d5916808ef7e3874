# The web assets the services compile in (Swagger UI for /docs): scripts/lib/web_assets.sh fetches
# the pinned npm package into the cache once (~/.cache/jilaf/web-assets) and prints where it is.
# Run at configure time, so every way of building (scripts, a hand-run preset, the Dockerfile)
# gets the same files; -DJILAF_WEB_ASSETS_DIR=... uses a directory prepared elsewhere instead.
set(_web_assets_script "${PROJECT_SOURCE_DIR}/scripts/lib/web_assets.sh")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_web_assets_script}")
if(NOT JILAF_WEB_ASSETS_DIR)
  execute_process(COMMAND bash "${_web_assets_script}"
                  OUTPUT_VARIABLE _web_assets_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _web_assets_result)
  if(NOT _web_assets_result EQUAL 0)
    message(FATAL_ERROR "scripts/lib/web_assets.sh failed (${_web_assets_result}): Swagger UI "
                        "for /docs comes from npm; see the lines above")
  endif()
  set(JILAF_WEB_ASSETS_DIR "${_web_assets_dir}")
endif()
foreach(_file swagger-ui-bundle.js swagger-ui.css)
  if(NOT EXISTS "${JILAF_WEB_ASSETS_DIR}/${_file}")
    message(FATAL_ERROR "${JILAF_WEB_ASSETS_DIR}/${_file} is missing")
  endif()
endforeach()
