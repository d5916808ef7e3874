# jilaf_embed_text(TARGET NAME FILE): compiles FILE's text into TARGET as
#   namespace jilaf::embedded { extern const std::string_view NAME; }
# (declare it with `#include "common/util/embedded.hpp"` and JILAF_EMBEDDED(NAME)).
# Used for documents a service serves as they are, such as its OpenAPI description. Editing FILE
# re-runs the configure step, so the binary never serves a stale copy.
function(jilaf_embed_text target name file)
  get_filename_component(_path "${file}" ABSOLUTE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_path}")
  file(READ "${_path}" _text)
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/embedded_${name}.cpp")
  file(WRITE "${_out}.tmp"
       "#include <string_view>\nnamespace jilaf::embedded {\n"
       "extern const std::string_view ${name};\n"
       "const std::string_view ${name} = R\"jilaf_embed(${_text})jilaf_embed\";\n}\n")
  file(COPY_FILE "${_out}.tmp" "${_out}" ONLY_IF_DIFFERENT)
  target_sources(${target} PRIVATE "${_out}")
endfunction()
