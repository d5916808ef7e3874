#include "common/auth/principal.hpp"

#include <algorithm>

namespace jilaf::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kStaff:
      return "staff";
    case Role::kAdmin:
      return "admin";
    case Role::kService:
      return "service";
  }
  return "viewer";
}

bool ParseRole(std::string_view text, Role& out) {
  for (Role role : {Role::kViewer, Role::kStaff, Role::kAdmin, Role::kService}) {
    if (RoleName(role) == text) {
      out = role;
      return true;
    }
  }
  return false;
}

bool Principal::Has(Role role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::Allows(Access access) const {
  switch (access) {
    case Access::kPublic:
      return true;
    case Access::kRead:
      return authenticated && !roles.empty();
    case Access::kWrite:
      return authenticated && (Has(Role::kStaff) || Has(Role::kAdmin));
    case Access::kAdmin:
      return authenticated && Has(Role::kAdmin);
    case Access::kService:
      return authenticated && (Has(Role::kService) || Has(Role::kAdmin));
  }
  return false;
}

}  // namespace jilaf::auth
