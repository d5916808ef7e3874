#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/jwt.hpp"
#include "common/config/flags.hpp"
#include "common/events/consumer.hpp"
#include "common/events/kafka_config.hpp"
#include "common/events/outbox.hpp"
#include "common/http/rate_limit.hpp"
#include "common/http/router.hpp"
#include "common/metrics/metrics.hpp"
#include "common/service/housekeeping.hpp"
#include "common/service/scheduler.hpp"
#include "common/store/store.hpp"

namespace jilaf::service {

/// Settings every service shares; each is a flag and a JILAF_* variable (see docs/operations.md).
struct ServiceConfig {
  std::string name;
  std::string listen_address = "0.0.0.0";
  std::int64_t http_port = 0;
  std::int64_t admin_port = 0;
  std::string db_path;
  /// The store engine: sqlite (the file --db) or postgres (--database-url and the password in
  /// --database-password-file).
  std::string store_engine = "sqlite";
  std::string database_url;
  std::string database_password_file;
  /// Directory of POST /v1/admin/backups on the admin port (common/service/backups.hpp); empty:
  /// backups are off.
  std::string backup_dir;
  std::string kafka_brokers = "127.0.0.1:9092";
  std::int64_t kafka_message_timeout_ms = 30000;
  /// TLS, mTLS and SASL SCRAM for every Kafka client of the process (default: plaintext).
  events::KafkaSecurity kafka_security;
  std::string jwt_public_key;
  std::string jwt_issuer = "jilaf-dev";
  std::string jwt_audience = "jilaf-backoffice";
  /// OpenID Connect issuer (docs/operations.md "Identity provider"); empty: none.
  std::string oidc_issuer;
  std::string oidc_audience;
  std::string oidc_role_claims = "roles";
  std::string oidc_role_map;
  std::string oidc_user_id_claim = "sub";
  std::int64_t oidc_max_token_lifetime_s = 86400;
  std::int64_t oidc_refresh_min_s = 60;
  std::int64_t oidc_refresh_max_s = 3600;
  std::int64_t oidc_key_max_age_s = 86400;
  std::int64_t oidc_fetch_timeout_ms = 5000;
  std::int64_t oidc_max_document_bytes = 256 * 1024;
  std::int64_t io_threads = 2;
  std::int64_t workers = 32;
  std::int64_t body_limit = 1024 * 1024;
  std::int64_t header_limit = 16 * 1024;
  std::int64_t max_header_fields = 100;
  std::int64_t idle_timeout_ms = 60000;
  std::int64_t header_timeout_ms = 10000;
  std::int64_t body_timeout_ms = 30000;
  std::int64_t max_connections = 1024;
  std::int64_t drain_timeout_ms = 10000;
  std::int64_t max_commit_batch = 256;
  http::RateLimitOptions rate_limit;
  RetentionOptions retention;
  /// Origins of the browser portals allowed to call the API (comma-separated; none by default).
  std::string cors_allowed_origins;
  std::int64_t cors_max_age_seconds = 600;
  std::string log_level = "info";
  /// IANA zone of the business calendar: "today", due dates, letter dates (common/util/calendar).
  std::string business_time_zone = "Asia/Tokyo";

  /// Registers every shared flag.
  void Register(config::Flags& flags);
  /// Checks values that depend on each other or on the file system; returns a message naming
  /// the setting, or nullopt.
  [[nodiscard]] std::optional<std::string> Validate() const;
  /// The token verifier these settings describe: the static key (if any) and the OpenID Connect
  /// issuer (if any), whose keys start loading in the background. Throws std::runtime_error
  /// naming the setting.
  [[nodiscard]] std::shared_ptr<const auth::JwtVerifier> BuildVerifier() const;
  /// The store's settings (--store, --db or --database-url and its password file).
  [[nodiscard]] store::StoreOptions StoreSettings() const;
  /// The part of Validate() about the store settings.
  [[nodiscard]] std::optional<std::string> ValidateStore() const;
};

/// Parses flags and environment for a service with its default ports; prints the problem and
/// exits 2 on bad configuration. `extra` may register service-specific flags.
ServiceConfig LoadConfigOrExit(const std::string& name, const std::string& summary,
                               std::int64_t http_port, std::int64_t admin_port, int argc,
                               char** argv, const std::function<void(config::Flags&)>& extra = {});

/// The composition every service shares: store (with migrations), metrics, JWT verifier, outbox
/// relay, consumers, the API server and the admin server (/healthz, /readyz, /metrics). Run()
/// blocks until SIGTERM or SIGINT, then shuts down in order: readiness fails, HTTP drains,
/// consumers commit their offsets, the relay flushes, the store closes.
class Service {
 public:
  /// Opens the store and runs migrations (common outbox and inbox included). Exits with a
  /// message if the store or the key cannot be opened.
  Service(ServiceConfig config, std::vector<store::MigrationSet> migrations);
  ~Service();

  [[nodiscard]] const ServiceConfig& config() const { return config_; }
  [[nodiscard]] store::Store& store() { return *store_; }
  [[nodiscard]] metrics::Metrics& metrics() { return *metrics_; }

  /// Periodic tasks (e.g. overdue scans); started by Run() and stopped before the store.
  [[nodiscard]] Scheduler& scheduler() { return scheduler_; }

  /// Serves `document` (the service's OpenAPI 3.1 description, JSON) at GET /openapi.json on the
  /// API port, without authentication, and its rendered reference at GET /docs.
  void SetOpenApi(std::string_view document);

  /// Adds a consumer that starts with Run().
  void AddConsumer(events::ConsumerOptions options, events::EventHandler handler);

  /// Adds routes to the admin port's router (e.g. the field-key rotation's); call before Run().
  void AddAdminRoutes(std::function<void(http::Router&)> add);
  /// Work of the service's own threads that Run() starts after the servers and stops before
  /// the store closes (e.g. a field-key rotation resumed at start).
  void AddBackgroundTask(std::function<void()> start, std::function<void()> stop);

  /// Serves `api` until a termination signal; returns the process exit code.
  int Run(http::Router api);

 private:
  ServiceConfig config_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const auth::JwtVerifier> verifier_;
  std::unique_ptr<events::OutboxRelay> relay_;
  std::vector<std::unique_ptr<events::Consumer>> consumers_;
  Scheduler scheduler_;
  std::string openapi_;
  std::vector<std::function<void(http::Router&)>> admin_extras_;
  std::vector<std::pair<std::function<void()>, std::function<void()>>> background_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace jilaf::service
