#pragma once

#include "common/domain/error.hpp"
#include "common/http/problem.hpp"

namespace jilaf::testing {

/// Runs `fn`; a broken domain rule (domain::Error) is rethrown as the problem the API answers,
/// so that tests of rules check the status and members a client would see.
template <typename Fn>
void DomainAsHttp(Fn& fn) {
  try {
    fn();
  } catch (const domain::Error& error) {
    throw http::ToApiError(error);
  }
}

}  // namespace jilaf::testing
