// Kept apart from the engines so that code which only maps store errors to answers (the HTTP
// problem mapping, the fuzz targets) links without them.
#include "common/store/error.hpp"

#include <sqlite3.h>

namespace jilaf::store {

bool StoreError::Transient() const {
  switch (code_ & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_MISUSE:  // the store is stopping
      return true;
    default:
      return false;
  }
}

}  // namespace jilaf::store
