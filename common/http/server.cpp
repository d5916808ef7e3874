#include "common/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/http/hardening_read.hpp"
#include "common/http/problem.hpp"
#include "common/http/request_parse.hpp"
#include "common/log/log.hpp"
#include "common/util/ids.hpp"
#include "common/util/thread_role.hpp"

namespace jilaf::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Runtime::Impl {
  Impl(std::size_t io, std::size_t workers_count)
      : workers(workers_count == 0 ? 1 : workers_count) {
    const std::size_t count = io == 0 ? 1 : io;
    for (std::size_t i = 0; i < count; ++i) {
      // One thread per context: asio may skip its internal locking, and a connection's
      // handlers never need a strand because they all run on its context's single thread.
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.push_back(asio::make_work_guard(*contexts.back()));
    }
  }

  // The context for the next connection (round robin): connections spread over the io
  // threads, and each stays on one thread for its whole life.
  asio::io_context& Next() { return *contexts[next++ % contexts.size()]; }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::atomic<std::size_t> next{0};
  asio::thread_pool workers;
  std::vector<std::thread> threads;
};

Runtime::Runtime(std::size_t io_threads, std::size_t workers)
    : impl_(std::make_unique<Impl>(io_threads, workers)) {}

Runtime::~Runtime() { Stop(); }

void Runtime::Start() {
  for (auto& context : impl_->contexts) {
    impl_->threads.emplace_back([&context = *context] {
      util::MarkIoThread();
      // run(), split into rounds: one blocking wait for the next handler, then every handler
      // already ready, then the round's shared work is released (util::AtEndOfRound) before
      // the thread waits again. An idle thread holds nothing, e.g. no read transaction.
      while (context.run_one() != 0) {
        context.poll();
        util::EndRound();
      }
      util::EndRound();
    });
  }
}

void Runtime::Stop() {
  impl_->guards.clear();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
  impl_->threads.clear();
  impl_->workers.join();
}

namespace {

// One open connection; the drain needs to find the idle ones.
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> idle{true};
  // Set when the server answered before reading the whole request (413, 400): the rest may
  // still be arriving, and closing on unread data makes the kernel reset the connection, so
  // the client would see a broken pipe instead of our answer.
  bool linger = false;
};

// The size line of a chunk (RFC 9112 7.1): hexadecimal, then CRLF.
std::string ChunkSize(std::size_t size) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, size, 16).ptr;
  return std::string(digits, end) + "\r\n";
}

// The status line and headers of `in`, serialised by hand into one buffer: Beast's generic
// serializer (a field container per response, then a buffer sequence of one element per header
// piece) cost more than the rest of a small read. Framing headers are the server's own, never the
// handler's.
std::string SerializeHead(const Response& in, unsigned version, bool keep_alive) {
  std::string head;
  head.reserve(256);
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(in.status);
  head += ' ';
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(in.status));
  head.append(reason.data(), reason.size());
  head += "\r\n";
  for (const auto& [name, value] : in.headers) {
    if (beast::iequals(name, "content-length") || beast::iequals(name, "connection") ||
        beast::iequals(name, "transfer-encoding") || beast::iequals(name, "server")) {
      continue;
    }
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "Server: jilaf\r\n";
  // No Content-Length on 1xx, 204 and 304 (RFC 9110 8.6); a streamed body is chunked (HTTP/1.1)
  // or ends with the connection (HTTP/1.0); everything else is length-delimited.
  if (in.stream) {
    if (version != 10) head += "Transfer-Encoding: chunked\r\n";
  } else if (in.status >= 200 && in.status != 204 && in.status != 304) {
    head += "Content-Length: ";
    head += std::to_string(in.body.size());
    head += "\r\n";
  }
  if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

// Writes `response` (its body too, unless `head_only`) as one gathered write. A streamed body's
// first piece (`body`) goes out as its first chunk.
asio::awaitable<beast::error_code> WriteResponse(beast::tcp_stream& stream,
                                                 const Response& response, unsigned version,
                                                 bool keep_alive, bool head_only,
                                                 std::chrono::milliseconds timeout) {
  std::string head = SerializeHead(response, version, keep_alive);
  const bool chunked = response.stream && version != 10;
  std::string tail;
  if (chunked && !head_only && !response.body.empty()) {
    head += ChunkSize(response.body.size());
    tail = "\r\n";
  }
  std::array<asio::const_buffer, 3> buffers{
      asio::buffer(head), asio::buffer(response.body.data(), head_only ? 0 : response.body.size()),
      asio::buffer(tail)};
  stream.expires_after(timeout);
  auto [ec, written] = co_await asio::async_write(stream, buffers, kTuple);
  co_return ec;
}

// Writes one piece of a streamed body: a chunk (HTTP/1.1), or the bytes as they are (HTTP/1.0,
// where the closing connection ends the body). An empty piece ends the chunked body.
asio::awaitable<beast::error_code> WritePiece(beast::tcp_stream& stream, const std::string& piece,
                                              unsigned version, std::chrono::milliseconds timeout) {
  std::string size;
  std::string_view tail;
  if (version != 10) {
    size = ChunkSize(piece.size());
    tail = "\r\n";
  }
  std::array<asio::const_buffer, 3> buffers{asio::buffer(size), asio::buffer(piece),
                                            asio::buffer(tail.data(), tail.size())};
  stream.expires_after(timeout);
  auto [ec, written] = co_await asio::async_write(stream, buffers, kTuple);
  co_return ec;
}

std::string NewRequestId() { return util::NewUuid(); }

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(Runtime& rt, ServerOptions opts, std::function<Response(Request&)> h, RejectObserver r,
        ConnectionObserver c)
      : runtime(rt),
        options(std::move(opts)),
        handler(std::move(h)),
        on_reject(std::move(r)),
        on_connection(std::move(c)),
        acceptor(*rt.impl().contexts.front()) {}

  Runtime& runtime;
  ServerOptions options;
  std::function<Response(Request&)> handler;
  RejectObserver on_reject;
  ConnectionObserver on_connection;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};
  std::mutex connections_mutex;
  std::set<std::shared_ptr<Connection>> connections;

  void Observe(const Request& request, const Response& response) {
    if (on_reject) on_reject(request, response);
  }

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(std::shared_ptr<Connection> connection);
  asio::awaitable<void> Refuse(tcp::socket socket);
  asio::awaitable<bool> Reject(Connection& connection, Request request, ApiError error,
                               unsigned version);
  asio::awaitable<bool> Stream(beast::tcp_stream& stream, Response& response, unsigned version);
};

// The rest of a streamed body: each next piece is made on the worker pool (it reads the store)
// and written from this io thread before the next is asked for, so one piece at a time is in
// memory and a slow reader holds no worker and no read transaction. False when the body could
// not be finished (the connection is then closed, without the last chunk).
const std::string kNoPiece;

asio::awaitable<bool> HttpServer::State::Stream(beast::tcp_stream& stream, Response& response,
                                                unsigned version) {
  for (;;) {
    std::optional<std::string> piece;
    try {
      piece = co_await asio::co_spawn(
          runtime.impl().workers.get_executor(),
          [&response]() -> asio::awaitable<std::optional<std::string>> {
            co_return response.stream();
          },
          asio::use_awaitable);
    } catch (const std::exception& e) {
      log::Error("streamed response failed", {{"server", options.name}, {"error", e.what()}});
      co_return false;
    }
    if (piece && piece->empty()) continue;
    if (!piece && version == 10) co_return true;
    // No temporary in the co_await expression (GCC 12 mishandles those in coroutine frames).
    const std::string& bytes = piece ? *piece : kNoPiece;
    const auto ec = co_await WritePiece(stream, bytes, version, options.write_timeout);
    if (ec) co_return false;
    if (!piece) co_return true;
  }
}

asio::awaitable<void> HttpServer::State::Accept() {
  auto self = shared_from_this();
  while (!stopping) {
    auto [ec, socket] = co_await acceptor.async_accept(runtime.impl().Next(), kTuple);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      log::Warn("accept failed", {{"server", options.name}, {"error", ec.message()}});
      continue;
    }
    if (active.load() >= options.max_connections) {
      if (on_connection) on_connection(0);
      asio::co_spawn(socket.get_executor(), Refuse(std::move(socket)), asio::detached);
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(connections_mutex);
      connections.insert(connection);
    }
    ++active;
    if (on_connection) on_connection(+1);
    asio::co_spawn(connection->stream.get_executor(), Session(connection),
                   [self, connection](std::exception_ptr error) {
                     if (error) {
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception& e) {
                         log::Error("connection failed", {{"error", e.what()}});
                       }
                     }
                     {
                       std::lock_guard lock(self->connections_mutex);
                       self->connections.erase(connection);
                     }
                     --self->active;
                     if (self->on_connection) self->on_connection(-1);
                   });
  }
}

asio::awaitable<void> HttpServer::State::Refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  Request request;
  request.request_id = NewRequestId();
  auto response =
      ProblemResponse(ApiError::ServiceUnavailable("too many open connections; retry shortly"), "",
                      request.request_id);
  response.SetHeader("Retry-After", "1");
  Observe(request, response);
  co_await WriteResponse(stream, response, 11, false, false, std::chrono::seconds(1));
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<bool> HttpServer::State::Reject(Connection& connection, Request request,
                                                ApiError error, unsigned version) {
  if (request.request_id.empty()) request.request_id = NewRequestId();
  auto response = ProblemResponse(error, request.path, request.request_id);
  response.SetHeader("X-Request-Id", request.request_id);
  Observe(request, response);
  connection.linger = true;
  const auto ec = co_await WriteResponse(connection.stream, response, version, false, false,
                                         options.write_timeout);
  co_return !ec;
}

asio::awaitable<void> HttpServer::State::Session(std::shared_ptr<Connection> connection) {
  auto& stream = connection->stream;
  beast::flat_buffer buffer;
  std::string remote;
  {
    beast::error_code ec;
    const auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
  }
  for (;;) {
    if (buffer.size() == 0) {
      // Waiting for the next request: the only state in which a drain closes the connection.
      connection->idle = true;
      if (stopping) break;
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
      if (ec) break;
      buffer.commit(n);
    }
    connection->idle = false;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    stream.expires_after(options.header_timeout);
    // Request smuggling and header-count defences (common/http/hardening.hpp), before parsing.
    // Usually the whole header is already buffered: screened without a coroutine of its own.
    auto screened = ScreenBufferedHeader(buffer, 0, {options.max_header_fields});
    if (!screened) {
      screened = co_await ReadAndScreenHeader(stream, buffer, options.header_limit,
                                              {options.max_header_fields});
    }
    if (!screened->proceed) {
      Request refused;
      refused.remote_address = remote;
      if (screened->error) co_await Reject(*connection, std::move(refused), *screened->error, 11);
      break;
    }
    auto [header_ec, header_n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    Request partial;
    if (!header_ec || parser.is_header_done()) {
      partial.method_text = std::string(parser.get().method_string());
      partial.method = ParseMethod(partial.method_text);
      partial.path = std::string(parser.get().target());
      if (auto it = parser.get().find("X-Request-Id"); it != parser.get().end()) {
        partial.request_id = std::string(it->value());
      }
    }
    partial.remote_address = remote;
    if (header_ec == bhttp::error::header_limit) {
      co_await Reject(*connection, partial,
                      ApiError::HeadersTooLarge("request headers exceed " +
                                                std::to_string(options.header_limit) + " bytes"),
                      11);
      break;
    }
    if (header_ec == bhttp::error::body_limit) {
      co_await Reject(*connection, partial,
                      ApiError::PayloadTooLarge("request body exceeds " +
                                                std::to_string(options.body_limit) + " bytes"),
                      parser.get().version());
      break;
    }
    if (header_ec) {
      if (header_ec != beast::error::timeout && header_ec != bhttp::error::end_of_stream &&
          header_ec != asio::error::eof && header_ec != asio::error::connection_reset &&
          header_ec != asio::error::operation_aborted) {
        co_await Reject(*connection, partial,
                        ApiError::BadRequest("malformed HTTP request: " + header_ec.message()), 11);
      }
      break;
    }
    stream.expires_after(options.body_timeout);
    auto [body_ec, body_n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (body_ec == bhttp::error::body_limit) {
      co_await Reject(*connection, partial,
                      ApiError::PayloadTooLarge("request body exceeds " +
                                                std::to_string(options.body_limit) + " bytes"),
                      parser.get().version());
      break;
    }
    if (body_ec) {
      if (body_ec != beast::error::timeout && body_ec != asio::error::eof &&
          body_ec != bhttp::error::end_of_stream && body_ec != asio::error::connection_reset) {
        co_await Reject(*connection, partial,
                        ApiError::BadRequest("malformed HTTP request body: " + body_ec.message()),
                        parser.get().version());
      }
      break;
    }
    auto& raw = parser.get();
    const unsigned version = raw.version();
    const bool head = raw.method() == bhttp::verb::head;
    bool keep_alive = raw.keep_alive();
    std::optional<Request> request;
    std::optional<ApiError> conversion_error;
    try {
      request.emplace(ToRequest(raw, remote));
    } catch (const ApiError& error) {
      conversion_error = error;
    }
    if (conversion_error) {
      co_await Reject(*connection, partial, *conversion_error, version);
      break;
    }
    Response response;
    if (options.inline_handlers || (options.run_inline && options.run_inline(*request))) {
      response = handler(*request);
    } else {
      // Hop to the worker pool for the handler, then back to this connection's io thread.
      response = co_await asio::co_spawn(
          runtime.impl().workers.get_executor(),
          [this, &request]() -> asio::awaitable<Response> { co_return handler(*request); },
          asio::use_awaitable);
    }
    // A streamed body without chunked framing (HTTP/1.0) ends with the connection.
    keep_alive = keep_alive && !stopping && !(response.stream && version == 10);
    const auto write_ec =
        co_await WriteResponse(stream, response, version, keep_alive, head, options.write_timeout);
    if (write_ec) break;
    if (response.stream && !head && !co_await Stream(stream, response, version)) break;
    if (!keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (connection->linger) {
    // Lingering close (RFC 9112 section 9.6): our answer and FIN are sent; read and discard
    // what the client is still sending, for a bounded time, so that it can read the answer.
    stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16384> discard{};
    for (std::size_t total = 0; total < 16 * 1024 * 1024;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(discard), kTuple);
      if (ec) break;
      total += n;
    }
  }
  stream.socket().close(ignored);
}

HttpServer::HttpServer(Runtime& runtime, ServerOptions options,
                       std::function<Response(Request&)> handler, RejectObserver on_reject,
                       ConnectionObserver on_connection)
    : state_(std::make_shared<State>(runtime, std::move(options), std::move(handler),
                                     std::move(on_reject), std::move(on_connection))) {}

HttpServer::~HttpServer() = default;

void HttpServer::Start() {
  auto& options = state_->options;
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) throw std::runtime_error("invalid listen address " + options.address);
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + options.address + ":" +
                             std::to_string(options.port) + " (" + options.name +
                             "): " + ec.message());
  }
  asio::co_spawn(acceptor.get_executor(), state_->Accept(), asio::detached);
  log::Info("listening",
            {{"server", options.name}, {"address", options.address}, {"port", port()}});
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  const auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  auto state = state_;
  if (state->stopping.exchange(true)) return;
  asio::post(state->acceptor.get_executor(), [state] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
  });
  const auto deadline = std::chrono::steady_clock::now() + drain;
  for (;;) {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(state->connections_mutex);
      open.assign(state->connections.begin(), state->connections.end());
    }
    const bool expired = std::chrono::steady_clock::now() >= deadline;
    if (open.empty()) break;
    for (auto& connection : open) {
      if (connection->idle || expired) {
        asio::post(connection->stream.get_executor(), [connection] {
          beast::error_code ignored;
          connection->stream.socket().cancel(ignored);
        });
      }
    }
    if (expired) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  log::Info("server drained", {{"server", state->options.name}});
}

}  // namespace jilaf::http
