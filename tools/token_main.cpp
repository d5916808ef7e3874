// jilaf-token: prints a bearer token signed with a development private key.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/auth/jwt.hpp"
#include "common/config/flags.hpp"

int main(int argc, char** argv) {
  std::string key_path = "var/keys/jwt-private.pem";
  std::string role = "staff";
  std::string subject = "dev-user";
  std::string issuer = "jilaf-dev";
  std::string audience = "jilaf-backoffice";
  std::int64_t ttl = 8 * 3600;
  jilaf::config::Flags flags("jilaf-token",
                             "Prints a JWT (RS256 or ES256, from the key type) for local use.");
  flags.String("private-key", &key_path, "PEM private key that signs the token.");
  flags.String("role", &role, "viewer, staff, admin or service.");
  flags.String("sub", &subject, "The token's subject (who is calling).");
  flags.String("issuer", &issuer, "The `iss` claim.");
  flags.String("audience", &audience, "The `aud` claim.");
  flags.Int("ttl", &ttl, 1, 30LL * 24 * 3600, "Seconds until the token expires.");
  flags.ParseOrExit(argc, argv);
  jilaf::auth::Role parsed;
  if (!jilaf::auth::ParseRole(role, parsed)) {
    std::cerr << "jilaf-token: --role must be viewer, staff, admin or service, not '" << role
              << "'\n";
    return 2;
  }
  std::ifstream in(key_path);
  if (!in) {
    std::cerr << "jilaf-token: cannot read --private-key " << key_path << "\n";
    return 2;
  }
  std::stringstream pem;
  pem << in.rdbuf();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const nlohmann::json claims = {{"iss", issuer}, {"aud", audience},  {"sub", subject},
                                 {"iat", now},    {"exp", now + ttl}, {"roles", {role}}};
  try {
    std::cout << jilaf::auth::SignJwt(pem.str(), claims) << "\n";
  } catch (const std::exception& error) {
    std::cerr << "jilaf-token: " << key_path << ": " << error.what() << "\n";
    return 2;
  }
  return 0;
}
