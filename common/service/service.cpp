#include "common/service/service.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/audit/audit.hpp"
#include "common/auth/oidc.hpp"
#include "common/events/people.hpp"
#include "common/http/api_docs.hpp"
#include "common/http/cors.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/pipeline.hpp"
#include "common/http/server.hpp"
#include "common/log/log.hpp"
#include "common/service/backups.hpp"
#include "common/util/calendar.hpp"
#include "common/util/clock.hpp"

namespace jilaf::service {
namespace {

[[noreturn]] void Fail(const std::string& program, const std::string& message) {
  std::cerr << program << ": " << message << "\n";
  std::exit(2);
}

http::Router AdminRoutes(store::Store& store, events::OutboxRelay& relay, metrics::Metrics& metrics,
                         const auth::JwtVerifier& verifier, std::atomic<bool>& shutting_down) {
  http::Router router;
  router.Add(http::Method::kGet, "/healthz", auth::Access::kPublic, [](http::Request&) {
    return http::Response::Json(200, {{"status", "ok"}});
  });
  router.Add(http::Method::kGet, "/readyz", auth::Access::kPublic, [&](http::Request&) {
    const bool store_ok = store.Healthy();
    const bool ready = store_ok && !shutting_down.load();
    nlohmann::json body = {
        {"status", ready ? "ready" : "not ready"},
        {"store", store_ok ? "ok" : "down"},
        {"shutting_down", shutting_down.load()},
        // Kafka is reported, not required: with the broker down writes still land in the outbox.
        {"kafka",
         {{"producer", relay.KafkaUp() ? "up" : "down"}, {"outbox_pending", relay.PendingCount()}}},
        // Reported, not required either: stale keys still verify, and the static key never
        // depends on the provider.
        {"identity", auth::KeyStateName(verifier.IdentityState())},
        {"identity_issuers", verifier.DescribeIssuers()}};
    return http::Response::Json(ready ? 200 : 503, body);
  });
  router.Add(http::Method::kGet, "/metrics", auth::Access::kPublic, [&metrics](http::Request&) {
    http::Response response;
    response.body = metrics.Serialize();
    response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return response;
  });
  return router;
}

http::ServerOptions ApiServerOptions(const ServiceConfig& config) {
  http::ServerOptions options;
  options.name = "api";
  options.address = config.listen_address;
  options.port = static_cast<std::uint16_t>(config.http_port);
  options.body_limit = static_cast<std::size_t>(config.body_limit);
  options.header_limit = static_cast<std::size_t>(config.header_limit);
  options.max_header_fields = static_cast<std::size_t>(config.max_header_fields);
  options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  options.header_timeout = std::chrono::milliseconds(config.header_timeout_ms);
  options.body_timeout = std::chrono::milliseconds(config.body_timeout_ms);
  options.max_connections = static_cast<std::size_t>(config.max_connections);
  return options;
}

}  // namespace

void ServiceConfig::Register(config::Flags& flags) {
  flags.String("listen-address", &listen_address, "Address both HTTP ports bind to.");
  flags.Int("http-port", &http_port, 0, 65535, "API port (0 picks a free port).");
  flags.Int("admin-port", &admin_port, 0, 65535,
            "Admin port: /healthz, /readyz, /metrics (0 picks a free port).");
  flags.String("store", &store_engine,
               "Store engine: sqlite (the file --db) or postgres (--database-url).");
  flags.String("db", &db_path, "SQLite database file (created if missing).");
  flags.String("database-url", &database_url,
               "With --store postgres: the database as a libpq URL without the password, e.g. "
               "postgresql://jilaf@db:5432/invitations.");
  flags.String("database-password-file", &database_password_file,
               "With --store postgres: file whose first line is the database password (a mounted "
               "secret). Empty: the URL's user needs none (or ~/.pgpass has it).");
  flags.String("backup-dir", &backup_dir,
               "Directory where POST /v1/admin/backups (admin port, admin role) writes consistent "
               "copies of the database. Empty: backups are off.");
  flags.String("kafka-brokers", &kafka_brokers, "Kafka bootstrap servers, host:port[,...].");
  flags.Int("kafka-message-timeout-ms", &kafka_message_timeout_ms, 1000, 3600000,
            "Time the producer retries one delivery before the relay backs off and resends.");
  events::RegisterSecurityFlags(flags, kafka_security);
  flags.String("jwt-public-key", &jwt_public_key,
               "PEM public key (RSA for RS256 or EC P-256 for ES256) that signs bearer tokens of "
               "--jwt-issuer. Required unless --oidc-issuer is set.");
  flags.String("jwt-issuer", &jwt_issuer, "`iss` of the tokens --jwt-public-key signs.");
  flags.String("jwt-audience", &jwt_audience,
               "Required `aud` claim (also of the OpenID Connect issuer's tokens unless "
               "--oidc-audience says otherwise).");
  // OpenID Connect (docs/operations.md, "Identity provider").
  flags.String("oidc-issuer", &oidc_issuer,
               "OpenID Connect issuer URL, exactly as tokens carry it in `iss` (e.g. "
               "https://idp.example.org/realms/jilaf). Its keys come from the JWKS its "
               "/.well-known/openid-configuration names. Empty: no identity provider.");
  flags.String("oidc-audience", &oidc_audience,
               "Required `aud` of the issuer's tokens (default: --jwt-audience).");
  flags.String("oidc-role-claims", &oidc_role_claims,
               "Comma-separated claims holding role names, as dotted paths: roles, groups, "
               "realm_access.roles, resource_access.<client>.roles.");
  flags.String("oidc-role-map", &oidc_role_map,
               "Comma-separated claim-value=role pairs (roles: viewer, staff, admin, service), "
               "e.g. jilaf-staff=staff. Empty: the values viewer, staff, admin and service name "
               "themselves; otherwise only listed values count.");
  flags.String("oidc-user-id-claim", &oidc_user_id_claim,
               "Claim that identifies the caller: sub, preferred_username, oid (dotted path).");
  flags.Int("oidc-max-token-lifetime-s", &oidc_max_token_lifetime_s, 0, 31LL * 86400,
            "Refuse issuer tokens whose exp - iat exceeds this (0 = no limit).");
  flags.Int("oidc-refresh-min-s", &oidc_refresh_min_s, 1, 86400,
            "Fewest seconds between two fetches of the issuer's keys, also when tokens name an "
            "unknown kid.");
  flags.Int("oidc-refresh-max-s", &oidc_refresh_max_s, 1, 7 * 86400,
            "Most seconds the keys are kept before they are fetched again (Cache-Control "
            "max-age is honoured between the two bounds).");
  flags.Int("oidc-key-max-age-s", &oidc_key_max_age_s, 1, 30LL * 86400,
            "While the issuer cannot be reached, its cached keys serve this long after the last "
            "successful fetch (/readyz says identity: stale meanwhile).");
  flags.Int("oidc-fetch-timeout-ms", &oidc_fetch_timeout_ms, 100, 600000,
            "Time one request to the issuer may take.");
  flags.Int("oidc-max-document-bytes", &oidc_max_document_bytes, 1024, 64LL * 1024 * 1024,
            "Largest discovery or JWKS document accepted.");
  flags.Int("io-threads", &io_threads, 1, 64, "Threads running sockets.");
  flags.Int("workers", &workers, 1, 1024, "Threads running request handlers.");
  flags.Int("body-limit", &body_limit, 1024, 64LL * 1024 * 1024,
            "Largest request body in bytes; larger ones get 413.");
  flags.Int("header-limit", &header_limit, 1024, 1024 * 1024,
            "Largest request header block in bytes; larger ones get 431.");
  flags.Int("max-header-fields", &max_header_fields, 10, 10000,
            "Most header fields in one request; more get 431.");
  flags.Int("idle-timeout-ms", &idle_timeout_ms, 100, 3600000,
            "Keep-alive connections idle this long are closed.");
  flags.Int("header-timeout-ms", &header_timeout_ms, 100, 600000,
            "A request's headers must arrive within this time.");
  flags.Int("body-timeout-ms", &body_timeout_ms, 100, 600000,
            "A request's body must arrive within this time.");
  flags.Int("max-connections", &max_connections, 1, 1000000,
            "Open API connections above this are refused with 503.");
  flags.Int("drain-timeout-ms", &drain_timeout_ms, 0, 600000,
            "On SIGTERM, time allowed for requests in progress to finish.");
  flags.Int("max-commit-batch", &max_commit_batch, 1, 100000,
            "Most write jobs folded into one SQLite commit (1 = one commit per request, a "
            "benchmark reference).");
  flags.String("log-level", &log_level, "debug, info, warn or error.");
  flags.String("business-time-zone", &business_time_zone,
               "IANA time zone of the business calendar (today, due dates, letter dates, overdue "
               "scans, fiscal years); timestamps stay UTC.");
  // Retention of the bookkeeping tables (common/service/housekeeping.hpp).
  flags.Int("outbox-retention-s", &retention.outbox_retention_s, 0, 365LL * 24 * 3600,
            "Seconds a published outbox row is kept before it is pruned (the topic is the "
            "record; unpublished rows are never pruned).");
  flags.Int("housekeeping-interval-s", &retention.interval_s, 0, 24 * 3600,
            "Seconds between housekeeping passes: published outbox rows, expired idempotency "
            "keys (24 h), free pages returned to the file system. 0 turns them off.");
  flags.Int("inbox-prune-interval-s", &retention.inbox_prune_interval_s, 0, 24 * 3600,
            "Seconds between prunes of each consumer's inbox below its partitions' log start "
            "(messages Kafka no longer holds cannot be redelivered). 0 turns them off.");
  flags.String("cors-allowed-origins", &cors_allowed_origins,
               "Comma-separated origins (scheme://host[:port]) of browser portals allowed to call "
               "the API, e.g. https://portal.example.org; empty allows none.");
  flags.Int("cors-max-age-seconds", &cors_max_age_seconds, 0, 86400,
            "How long a browser may reuse a CORS preflight answer (Access-Control-Max-Age).");
  // Rate limits (common/http/rate_limit.hpp): token buckets, 0 requests/s switches one off.
  flags.Int("rate-limit-address-rps", &rate_limit.address_per_second, 0, 10000000,
            "Requests per second one client address may make, all routes together (0 = off).");
  flags.Int("rate-limit-address-burst", &rate_limit.address_burst, 1, 10000000,
            "Requests one client address may make at once above its rate.");
  flags.Int("rate-limit-preflight-rps", &rate_limit.preflight_per_second, 0, 10000000,
            "CORS preflights (OPTIONS) per second one client address may make (0 = off).");
  flags.Int("rate-limit-preflight-burst", &rate_limit.preflight_burst, 1, 10000000,
            "CORS preflights one client address may make at once above its rate.");
  flags.Int("rate-limit-read-rps", &rate_limit.read_per_second, 0, 10000000,
            "Reads (GET, HEAD) per second per principal (0 = off).");
  flags.Int("rate-limit-read-burst", &rate_limit.read_burst, 1, 10000000,
            "Reads one principal may make at once above its rate.");
  flags.Int("rate-limit-write-rps", &rate_limit.write_per_second, 0, 10000000,
            "Writes (POST, PUT, PATCH, DELETE) per second per principal (0 = off).");
  flags.Int("rate-limit-write-burst", &rate_limit.write_burst, 1, 10000000,
            "Writes one principal may make at once above its rate.");
  flags.Int("rate-limit-expensive-rps", &rate_limit.expensive_per_second, 0, 10000000,
            "Expensive operations (reports, scans, newsletter issues) per second per principal "
            "(0 = off).");
  flags.Int("rate-limit-expensive-burst", &rate_limit.expensive_burst, 1, 10000000,
            "Expensive operations one principal may make at once above its rate.");
}

std::optional<std::string> ServiceConfig::Validate() const {
  if (jwt_public_key.empty() && oidc_issuer.empty()) {
    return "--jwt-public-key (JILAF_JWT_PUBLIC_KEY) or --oidc-issuer (JILAF_OIDC_ISSUER) is "
           "required: who signs the tokens";
  }
  if (!oidc_issuer.empty() && oidc_issuer.rfind("https://", 0) != 0 &&
      oidc_issuer.rfind("http://", 0) != 0) {
    return "--oidc-issuer (JILAF_OIDC_ISSUER): '" + oidc_issuer + "' is not an http(s) URL";
  }
  if (!oidc_issuer.empty() && !jwt_public_key.empty() && oidc_issuer == jwt_issuer) {
    return "--oidc-issuer and --jwt-issuer must differ: tokens choose their keys by `iss`";
  }
  std::map<std::string, auth::Role, std::less<>> roles;
  if (auto error = auth::ParseRoleMap(oidc_role_map, roles); !error.empty()) {
    return "--oidc-role-map (JILAF_OIDC_ROLE_MAP): " + error;
  }
  if (oidc_refresh_min_s > oidc_refresh_max_s) {
    return "--oidc-refresh-min-s must not exceed --oidc-refresh-max-s";
  }
  if (auto error = ValidateStore()) return error;
  if (!backup_dir.empty() && !std::filesystem::is_directory(backup_dir)) {
    return "--backup-dir (JILAF_BACKUP_DIR): directory " + backup_dir + " does not exist";
  }
  if (http_port != 0 && http_port == admin_port) {
    return "--http-port and --admin-port must differ (both " + std::to_string(http_port) + ")";
  }
  std::vector<std::string> origins;
  if (auto error = http::ParseAllowedOrigins(cors_allowed_origins, origins)) {
    return "--cors-allowed-origins (JILAF_CORS_ALLOWED_ORIGINS): " + *error;
  }
  if (kafka_brokers.empty()) return "--kafka-brokers (JILAF_KAFKA_BROKERS) must not be empty";
  try {
    (void)events::SecurityProperties(kafka_security);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  if (auto error = util::CheckTimeZone(business_time_zone)) {
    return "--business-time-zone (JILAF_BUSINESS_TIME_ZONE): " + *error;
  }
  log::Level level;
  if (!log::ParseLevel(log_level, level)) {
    return "--log-level (JILAF_LOG_LEVEL): '" + log_level + "' is not debug, info, warn or error";
  }
  return std::nullopt;
}

std::optional<std::string> ServiceConfig::ValidateStore() const {
  if (store_engine == "postgres") {
    if (database_url.empty()) {
      return "--database-url (JILAF_DATABASE_URL) is required with --store postgres";
    }
    if (!backup_dir.empty()) {
      return "--backup-dir (JILAF_BACKUP_DIR) backs up SQLite files: with --store postgres the "
             "database server's own backups apply (docs/deploy.md)";
    }
    if (!database_password_file.empty() && !std::ifstream(database_password_file)) {
      return "--database-password-file (JILAF_DATABASE_PASSWORD_FILE): " + database_password_file +
             " cannot be read";
    }
    return std::nullopt;
  }
  if (store_engine != "sqlite") {
    return "--store (JILAF_STORE): '" + store_engine + "' is not sqlite or postgres";
  }
  if (db_path.empty()) return "--db (JILAF_DB) is required: the SQLite database file";
  const auto parent = std::filesystem::path(db_path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    return "--db (JILAF_DB): directory " + parent.string() + " does not exist";
  }
  return std::nullopt;
}

store::StoreOptions ServiceConfig::StoreSettings() const {
  store::StoreOptions options;
  options.path = db_path;
  options.max_batch = static_cast<std::size_t>(max_commit_batch);
  if (store_engine == "postgres") {
    options.engine = store::Engine::kPostgres;
    options.database_url = database_url;
    options.database_password_file = database_password_file;
  }
  return options;
}

std::shared_ptr<const auth::JwtVerifier> ServiceConfig::BuildVerifier() const {
  auto verifier = std::make_shared<auth::JwtVerifier>();
  if (!jwt_public_key.empty()) {
    try {
      *verifier = auth::JwtVerifier::FromPemFile(jwt_public_key, jwt_issuer, jwt_audience);
    } catch (const std::exception& error) {
      throw std::runtime_error(std::string("--jwt-public-key: ") + error.what());
    }
  }
  if (!oidc_issuer.empty()) {
    auth::ClaimPolicy policy;
    policy.audience = oidc_audience.empty() ? jwt_audience : oidc_audience;
    policy.role_claims.clear();
    std::string_view claims = oidc_role_claims;
    while (!claims.empty()) {
      const auto comma = claims.find(',');
      const auto claim = claims.substr(0, comma);
      if (!claim.empty()) policy.role_claims.emplace_back(claim);
      claims = comma == std::string_view::npos ? std::string_view() : claims.substr(comma + 1);
    }
    (void)auth::ParseRoleMap(oidc_role_map, policy.role_map);  // checked by Validate
    policy.user_id_claim = oidc_user_id_claim;
    policy.require_user_id = true;
    policy.max_lifetime = std::chrono::seconds(oidc_max_token_lifetime_s);
    auth::OidcOptions options;
    options.issuer = oidc_issuer;
    options.min_refresh = std::chrono::seconds(oidc_refresh_min_s);
    options.max_refresh = std::chrono::seconds(oidc_refresh_max_s);
    options.key_max_age = std::chrono::seconds(oidc_key_max_age_s);
    options.fetch_timeout = std::chrono::milliseconds(oidc_fetch_timeout_ms);
    options.max_body_bytes = static_cast<std::size_t>(oidc_max_document_bytes);
    verifier->AddIssuer(oidc_issuer, std::move(policy),
                        std::make_shared<auth::OidcKeySource>(std::move(options)));
  }
  return verifier;
}

ServiceConfig LoadConfigOrExit(const std::string& name, const std::string& summary,
                               std::int64_t http_port, std::int64_t admin_port, int argc,
                               char** argv, const std::function<void(config::Flags&)>& extra) {
  ServiceConfig config;
  config.name = name;
  config.http_port = http_port;
  config.admin_port = admin_port;
  config.db_path = name + ".db";
  config::Flags flags("jilaf-" + name, summary);
  config.Register(flags);
  if (extra) extra(flags);
  flags.ParseOrExit(argc, argv);
  if (auto error = config.Validate()) Fail("jilaf-" + name, *error);
  return config;
}

Service::Service(ServiceConfig config, std::vector<store::MigrationSet> migrations)
    : config_(std::move(config)), metrics_(std::make_unique<metrics::Metrics>()) {
  // Block the termination signals before any thread starts, so that every thread inherits the
  // mask and Run() alone receives them through sigwait().
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Before any thread starts: the zone is the process's TZ (checked by Validate()).
  if (auto error = util::SetBusinessTimeZone(config_.business_time_zone)) {
    Fail("jilaf-" + config_.name, "--business-time-zone: " + *error);
  }

  log::SetService(config_.name);
  log::Level level = log::Level::kInfo;
  (void)log::ParseLevel(config_.log_level, level);
  log::SetLevel(level);

  const std::string program = "jilaf-" + config_.name;
  try {
    verifier_ = config_.BuildVerifier();
  } catch (const std::exception& error) {
    Fail(program, error.what());
  }
  migrations.insert(migrations.begin(), audit::Migrations());
  migrations.insert(migrations.begin(), http::IdempotencyMigrations());
  migrations.insert(migrations.begin(), events::InboxMigrations());
  migrations.insert(migrations.begin(), events::OutboxMigrations());
  try {
    store_ = std::make_unique<store::Store>(config_.StoreSettings(), std::move(migrations));
  } catch (const std::exception& error) {
    // One line: libpq's messages span several.
    std::string reason = error.what();
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    Fail(program, (config_.store_engine == "postgres"
                       ? "--database-url (JILAF_DATABASE_URL) / --database-password-file: "
                       : "--db (JILAF_DB): ") +
                      reason);
  }
  store_->SetCommitObserver([m = metrics_.get()](std::size_t jobs, double seconds) {
    m->store_commit_jobs.Observe(static_cast<double>(jobs));
    m->store_commit_duration.Observe(seconds);
  });
  try {
    events::SetProcessKafkaSecurity(events::SecurityProperties(config_.kafka_security));
  } catch (const std::exception& error) {
    Fail(program, error.what());
  }
  events::RelayOptions relay_options;
  relay_options.brokers = config_.kafka_brokers;
  relay_options.client_id = config_.name;
  relay_options.message_timeout_ms = static_cast<int>(config_.kafka_message_timeout_ms);
  relay_ = std::make_unique<events::OutboxRelay>(*store_, relay_options, *metrics_);
  // Several replicas on one PostgreSQL database: the periodic jobs run on one of them.
  scheduler_.SetClusterLock(
      std::make_unique<store::ClusterLock>(store_->options(), "jilaf.scheduler." + config_.name));
  // After an erasure (POST /v1/people/{id}/erasure, or a person's tombstone applied by a
  // consumer) the file is rewritten, so no page keeps the person's bytes in unused space.
  scheduler_.Every("scrub after erasure", std::chrono::seconds(2), [this] {
    // SQLite's file only: PostgreSQL's vacuum reclaims what a delete frees.
    if (events::TakeScrubRequest() && config_.store_engine == "sqlite" &&
        std::filesystem::exists(config_.db_path)) {
      events::ScrubDatabaseFile(config_.db_path);
    }
  });
  if (config_.retention.interval_s > 0) {
    scheduler_.Every("housekeeping", std::chrono::seconds(config_.retention.interval_s), [this] {
      RunHousekeeping(*store_, config_.retention, metrics_.get(), util::NowUnixMs());
    });
  }
}

Service::~Service() = default;

void Service::SetOpenApi(std::string_view document) { openapi_ = std::string(document); }

void Service::AddConsumer(events::ConsumerOptions options, events::EventHandler handler) {
  options.brokers = config_.kafka_brokers;
  options.inbox_prune_interval = std::chrono::seconds(config_.retention.inbox_prune_interval_s);
  consumers_.push_back(std::make_unique<events::Consumer>(*store_, std::move(options),
                                                          std::move(handler), *metrics_));
}

void Service::AddAdminRoutes(std::function<void(http::Router&)> add) {
  admin_extras_.push_back(std::move(add));
}

void Service::AddBackgroundTask(std::function<void()> start, std::function<void()> stop) {
  background_.emplace_back(std::move(start), std::move(stop));
}

int Service::Run(http::Router api) {
  // Every write route records its audit row; admins read the chain at /v1/audit.
  api = audit::Instrument(api, *store_);
  if (!openapi_.empty()) {
    api.Add(http::Method::kGet, "/openapi.json", auth::Access::kPublic, [this](http::Request&) {
      http::Response response;
      response.body = openapi_;
      response.SetHeader("Content-Type", "application/json");
      return response;
    });
    // The same document rendered for people, with "Try it out" (docs/api.md).
    http::AddApiDocs(api, "JILAF " + config_.name);
  }
  http::Runtime api_runtime(static_cast<std::size_t>(config_.io_threads),
                            static_cast<std::size_t>(config_.workers));
  // The admin port has threads of its own, so probes and scrapes answer even when the API's
  // workers are all busy; its second worker keeps them answering while a backup runs.
  http::Runtime admin_runtime(1, 2);

  auto api_pipeline =
      std::make_shared<http::Pipeline>(std::move(api), verifier_, metrics_.get(), "api");
  auto admin_routes = AdminRoutes(*store_, *relay_, *metrics_, *verifier_, shutting_down_);
  AddBackupRoute(admin_routes, *store_, *metrics_, config_.name, config_.backup_dir);
  for (const auto& add : admin_extras_) add(admin_routes);
  // The verifier serves the admin role of the backup route; the probes stay public.
  auto admin_pipeline =
      std::make_shared<http::Pipeline>(std::move(admin_routes), verifier_, nullptr, "admin");
  api_pipeline->SetRateLimiter(
      std::make_shared<http::RateLimiter>(config_.rate_limit, metrics_.get()));
  // The list was checked by Validate() at start; here it is only read.
  http::CorsOptions cors{{}, config_.cors_max_age_seconds};
  (void)http::ParseAllowedOrigins(config_.cors_allowed_origins, cors.allowed_origins);
  api_pipeline->SetCors(std::make_shared<const http::CorsPolicy>(std::move(cors)));
  auto* m = metrics_.get();
  auto api_options = ApiServerOptions(config_);
  api_options.run_inline = [api_pipeline](http::Request& request) {
    return api_pipeline->RunsInline(request);
  };
  http::HttpServer api_server(
      api_runtime, std::move(api_options),
      [api_pipeline](http::Request& request) { return api_pipeline->Handle(request); },
      [api_pipeline](const http::Request& request, const http::Response& response) {
        api_pipeline->Observe(request, response);
      },
      [m](int delta) {
        if (delta == 0) {
          m->http_connections_rejected.Increment();
        } else {
          m->http_connections.Increment(delta);
        }
      });
  http::ServerOptions admin_options;
  admin_options.name = "admin";
  admin_options.address = config_.listen_address;
  admin_options.port = static_cast<std::uint16_t>(config_.admin_port);
  http::HttpServer admin_server(
      admin_runtime, admin_options,
      [admin_pipeline](http::Request& request) { return admin_pipeline->Handle(request); },
      [admin_pipeline](const http::Request& request, const http::Response& response) {
        admin_pipeline->Observe(request, response);
      });

  try {
    api_server.Start();
    admin_server.Start();
  } catch (const std::exception& error) {
    log::Error("cannot start", {{"error", error.what()}});
    return 1;
  }
  api_runtime.Start();
  admin_runtime.Start();
  relay_->Start();
  for (auto& consumer : consumers_) consumer->Start();
  scheduler_.Start();
  for (const auto& task : background_) task.first();
  log::Info("service ready",
            {{"api_port", api_server.port()},
             {"admin_port", admin_server.port()},
             {"store", config_.store_engine},
             {"db", config_.store_engine == "postgres" ? config_.database_url : config_.db_path},
             {"kafka", config_.kafka_brokers}});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  log::Info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});

  shutting_down_ = true;  // /readyz now answers 503
  api_server.Stop(std::chrono::milliseconds(config_.drain_timeout_ms));
  api_runtime.Stop();
  scheduler_.Stop();
  for (const auto& task : background_) task.second();
  for (auto& consumer : consumers_) consumer->Stop();
  relay_->Stop();
  store_->Stop();
  admin_server.Stop(std::chrono::milliseconds(1000));
  admin_runtime.Stop();
  log::Info("stopped");
  return 0;
}

}  // namespace jilaf::service
