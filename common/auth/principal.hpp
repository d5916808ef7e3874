#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jilaf::auth {

/// Roles carried in the token's `roles` claim.
enum class Role { kViewer, kStaff, kAdmin, kService };

/// What a route demands of its caller. Every route declares one: there is no default.
enum class Access {
  kPublic,   // no token needed (health, public certificate checks)
  kRead,     // viewer, staff, admin or service
  kWrite,    // staff or admin
  kAdmin,    // admin
  kService,  // service (service-to-service calls) or admin
};

std::string_view RoleName(Role role);
/// Parses "viewer", "staff", "admin", "service".
[[nodiscard]] bool ParseRole(std::string_view text, Role& out);

/// The authenticated caller.
struct Principal {
  std::string subject;
  std::vector<Role> roles;
  bool authenticated = false;

  [[nodiscard]] bool Has(Role role) const;
  /// True when the roles satisfy the access level.
  [[nodiscard]] bool Allows(Access access) const;
};

}  // namespace jilaf::auth
