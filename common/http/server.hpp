#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/message.hpp"

namespace jilaf::http {

/// The threads of a service: a few io threads run every socket (never blocking), and a worker
/// pool runs handlers, which may block on the store. Each io thread runs its own io_context and
/// owns the connections it accepted for their whole life, so a connection's steps never cross
/// threads and need no strand. Asio stays behind this type.
class Runtime {
 public:
  Runtime(std::size_t io_threads, std::size_t workers);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  /// Starts the io threads.
  void Start();
  /// Stops the io threads and joins the workers. Servers must be stopped first.
  void Stop();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct ServerOptions {
  std::string name = "api";  // for logs
  std::string address = "0.0.0.0";
  std::uint16_t port = 0;  // 0 picks a free port (see HttpServer::port())
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  /// Most header fields in one request; more get 431 (see common/http/hardening.hpp).
  std::size_t max_header_fields = 100;
  /// Time a keep-alive connection may sit idle before its next request starts.
  std::chrono::milliseconds idle_timeout{60000};
  /// Time to receive a whole header once its first byte arrived: defeats slow-header clients.
  std::chrono::milliseconds header_timeout{10000};
  /// Time to receive the body once the header is complete.
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_connections = 1024;
  /// Run handlers on the io thread instead of the worker pool (only for non-blocking handlers,
  /// such as the admin port's health and metrics).
  bool inline_handlers = false;
  /// Per request: true runs the handler on the io thread, skipping the two thread hand-offs of
  /// the worker pool. Only for handlers that never block (short store reads); see
  /// Router::Execution.
  std::function<bool(Request&)> run_inline;
};

/// Called for every response the server itself produced without the handler (400, 413, 431,
/// 503), so that they are logged and counted like any other.
using RejectObserver = std::function<void(const Request&, const Response&)>;
/// Called when a connection opens (+1) or closes (-1), or is refused at the cap (0).
using ConnectionObserver = std::function<void(int delta)>;

/// HTTP/1.1 server on Beast with C++20 coroutines: one strand per connection, keep-alive, a fresh
/// parser per request with body and header limits, idle/header/body/write deadlines, a connection
/// cap, and a graceful drain.
class HttpServer {
 public:
  HttpServer(Runtime& runtime, ServerOptions options, std::function<Response(Request&)> handler,
             RejectObserver on_reject = {}, ConnectionObserver on_connection = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  /// Binds and starts accepting. Throws std::runtime_error naming the address on failure.
  void Start();
  /// Stops accepting, closes idle connections, lets requests in progress finish (each answered
  /// with `Connection: close`) for at most `drain`, then closes whatever is left.
  void Stop(std::chrono::milliseconds drain);
  /// The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace jilaf::http
