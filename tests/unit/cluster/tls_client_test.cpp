#include "cluster/tls_client.hpp"

#include "admin.grpc.pb.h"
#include "cluster/tls_pump.hpp"
#include "core/random.hpp"
#include "health.grpc.pb.h"
#include "node/service_listener.hpp"
#include "pki/certificate_builder.hpp"

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace ward;
using namespace std::chrono_literals;
using level = pki::service_security_level;

namespace {

// ---------------------------------------------------------------------------------------
// Two self-signed node identities, as nodes have before enrolment (SPEC PKI-5).

struct line_pki {
  pki::private_key server_key = *pki::private_key::generate_rsa(2048);
  pki::private_key client_key = *pki::private_key::generate_rsa(2048);
  std::string server_pem;
  std::string client_pem;

  line_pki() {
    const auto now = std::chrono::system_clock::now();
    auto server =
        pki::make_self_signed_identity(server_key, "ward-line-server", now - 1h, system_random());
    auto client =
        pki::make_self_signed_identity(client_key, "ward-line-client", now - 1h, system_random());
    REQUIRE(server.has_value());
    REQUIRE(client.has_value());
    server_pem = *server->to_pem();
    client_pem = *client->to_pem();
  }
};

const line_pki& keys() {
  static const line_pki instance;
  return instance;
}

/// The server side of a line: any client certificate is requested, none is required.
pki::tls_server_material server_material() {
  pki::tls_server_material material;
  material.key_pem = *keys().server_key.to_pem();
  material.certificate_pem = keys().server_pem;
  material.request_client_certificate = true;
  return material;
}

pki::tls_client_material client_material() {
  return {*keys().client_key.to_pem(), keys().client_pem, {}};
}

std::shared_ptr<SSL_CTX>
client_context(pki::tls_strength strength = pki::tls_strength::medium,
               const pki::tls_client_material& material = client_material()) {
  auto made = pki::make_client_context(strength, pki::tls_min_version::tls1_2, material);
  REQUIRE_MESSAGE(made.has_value(), made.error().detail);
  return *made;
}

// ---------------------------------------------------------------------------------------
// A gRPC server without ports, as ward-node runs it, with the health service and an Admin
// service that keeps what the registry says about the last caller.

class registry_probe final : public ward::admin::v1::Admin::Service {
public:
  explicit registry_probe(const node::connection_registry& registry) : registry_(registry) {}

  grpc::Status Status(grpc::ServerContext* context, const ward::admin::v1::StatusRequest*,
                      ward::admin::v1::StatusReply*) override {
    auto info = registry_.find_by_peer(context->peer());
    std::lock_guard lock(mutex_);
    last_ = info;
    if (!info)
      return {grpc::StatusCode::NOT_FOUND, "no registry entry for " + context->peer()};
    return grpc::Status::OK;
  }

  std::optional<node::connection_info> last() {
    std::lock_guard lock(mutex_);
    return last_;
  }

private:
  const node::connection_registry& registry_;
  std::mutex mutex_;
  std::optional<node::connection_info> last_;
};

struct rig {
  node::connection_registry registry;
  registry_probe probe{registry};
  std::unique_ptr<grpc::Server> server;
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::unique_ptr<node::service_listener> listener;

  explicit rig(pki::tls_server_material material = server_material(),
               level at = level::secure_medium) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.RegisterService(&probe);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    listener = std::make_unique<node::service_listener>(
        "line", "127.0.0.1", 0, 0, *server, registry, [this](const node::tls_failure& failure) {
          std::lock_guard lock(failures_mutex);
          failures.push_back(failure.cause);
        });
    auto applied = listener->apply(at, material);
    REQUIRE_MESSAGE(applied.has_value(), applied.error());
  }
  ~rig() {
    listener.reset();
    server->Shutdown(std::chrono::system_clock::now() + 2s);
  }

  std::uint16_t port() const { return listener->tls_port(); }

  std::size_t failure_count() {
    std::lock_guard lock(failures_mutex);
    return failures.size();
  }

  bool failure_seen(std::string_view cause) {
    std::lock_guard lock(failures_mutex);
    for (const auto& each : failures)
      if (each.find(cause) != std::string::npos)
        return true;
    return false;
  }
};

std::unique_ptr<cluster::tls_client_connection>
connect_line(std::uint16_t port, std::shared_ptr<SSL_CTX> ctx = client_context()) {
  auto connected = cluster::tls_client_connection::connect("127.0.0.1", port, std::move(ctx), 5s);
  REQUIRE_MESSAGE(connected.has_value(), connected.error().detail);
  return std::move(*connected);
}

std::shared_ptr<grpc::Channel> line_channel(cluster::tls_client_connection& line) {
  const int fd = line.grpc_fd();
  REQUIRE(fd >= 0);
  return grpc::CreateInsecureChannelFromFd("line", fd);
}

grpc::Status health_check(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  auto status = stub->Check(&context, request, &response);
  if (status.ok())
    CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  return status;
}

/// The server's registry entry for the connection `channel` runs over.
std::optional<node::connection_info> server_side(rig& r,
                                                 const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = ward::admin::v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  ward::admin::v1::StatusReply reply;
  auto status = stub->Status(&context, {}, &reply);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return r.probe.last();
}

bool is_lower_hex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// A loopback port with nothing listening on it.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// A loopback socket that listens and never answers: connections complete in the kernel
/// and then hear nothing.
struct silent_listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;

  silent_listener() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~silent_listener() { ::close(fd); }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
};

std::vector<std::string> cipher_names(SSL_CTX* ctx) {
  std::vector<std::string> names;
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i)
    names.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i)));
  return names;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Client contexts

TEST_CASE("TLS-2 client contexts offer the same ciphers as server contexts at each strength") {
  for (auto strength :
       {pki::tls_strength::low, pki::tls_strength::medium, pki::tls_strength::high}) {
    CAPTURE(static_cast<int>(strength));
    auto client = client_context(strength);
    auto server =
        pki::make_server_context(strength, pki::tls_min_version::tls1_2, server_material());
    REQUIRE(server.has_value());
    CHECK(cipher_names(client.get()) == cipher_names(server->get()));
    CHECK(SSL_CTX_get_min_proto_version(client.get()) == TLS1_2_VERSION);
    CHECK((SSL_CTX_get_options(client.get()) & SSL_OP_NO_RENEGOTIATION) != 0);
    CHECK((SSL_CTX_get_options(client.get()) & SSL_OP_NO_COMPRESSION) != 0);
    CHECK(SSL_CTX_get_verify_mode(client.get()) == SSL_VERIFY_NONE);
  }
  auto strict = pki::make_client_context(pki::tls_strength::high, pki::tls_min_version::tls1_3, {});
  REQUIRE(strict.has_value());
  CHECK(SSL_CTX_get_min_proto_version(strict->get()) == TLS1_3_VERSION);
}

TEST_CASE("TLS-2 a client context refuses half an identity or a key of another certificate") {
  auto material = client_material();
  auto no_certificate = material;
  no_certificate.certificate_pem.clear();
  auto refused = pki::make_client_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2,
                                          no_certificate);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::errc::invalid_argument);

  auto chain_only = pki::tls_client_material{{}, {}, keys().server_pem};
  refused =
      pki::make_client_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, chain_only);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::errc::invalid_argument);

  auto foreign = material;
  foreign.certificate_pem = keys().server_pem;
  refused =
      pki::make_client_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, foreign);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::errc::key_mismatch);

  auto garbage = material;
  garbage.certificate_pem = "not a certificate";
  refused =
      pki::make_client_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, garbage);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == pki::errc::wrong_format);
}

// ---------------------------------------------------------------------------------------
// Lines

TEST_CASE("LINE-1 a TLS line carries gRPC calls and both ends share one channel binding") {
  std::atomic<int> graded{0};
  auto material = server_material();
  material.client_certificate_check = [&](const std::vector<pki::certificate>& chain,
                                          const std::string&) {
    ++graded;
    CHECK(chain.size() == 1);
    return std::optional<std::string>{};
  };
  rig r(material);
  auto line = connect_line(r.port());
  CHECK(line->alive());
  CHECK(line->tls_version() == "TLSv1.3");
  CHECK(line->cipher() == "TLS_AES_256_GCM_SHA384");
  CHECK(line->remote_address() == "127.0.0.1:" + std::to_string(r.port()));
  REQUIRE(line->peer_chain().size() == 1);
  CHECK(*line->peer_chain().front().to_pem() == keys().server_pem);
  CHECK(line->exporter_hex().size() == 2 * cluster::line_binding_size);
  CHECK(is_lower_hex(line->exporter_hex()));

  auto channel = line_channel(*line);
  CHECK(line->grpc_fd() == -1);
  auto status = health_check(channel);
  REQUIRE_MESSAGE(status.ok(), status.error_message());

  auto info = server_side(r, channel);
  REQUIRE(info.has_value());
  CHECK(info->service == "line");
  CHECK(info->tls);
  CHECK(info->tls_version == "TLSv1.3");
  CHECK(info->tls_exporter == line->exporter_hex());
  REQUIRE(info->client_chain_pem.size() == 1);
  CHECK(info->client_chain_pem.front() == keys().client_pem);
  CHECK(info->client_certificate_subject == "CN=ward-line-client");
  CHECK(graded == 1);

  // A second line to the same server has a binding of its own.
  auto other = connect_line(r.port());
  CHECK(other->exporter_hex() != line->exporter_hex());
}

TEST_CASE("LINE-1 the channel binding also matches over TLS 1.2") {
  rig r;
  auto ctx = client_context();
  REQUIRE(SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION) == 1);
  auto line = connect_line(r.port(), ctx);
  CHECK(line->tls_version() == "TLSv1.2");
  CHECK(line->exporter_hex().size() == 2 * cluster::line_binding_size);
  auto channel = line_channel(*line);
  auto info = server_side(r, channel);
  REQUIRE(info.has_value());
  CHECK(info->tls_version == "TLSv1.2");
  CHECK(info->tls_exporter == line->exporter_hex());
  REQUIRE(info->client_chain_pem.size() == 1);
  CHECK(info->client_chain_pem.front() == keys().client_pem);
}

TEST_CASE("LINE-1 TLS 1.2 without the extended master secret gives no channel binding") {
  rig r;
  auto ctx = client_context();
  REQUIRE(SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION) == 1);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_EXTENDED_MASTER_SECRET);
  auto line = connect_line(r.port(), ctx);
  CHECK(line->tls_version() == "TLSv1.2");
  CHECK(line->exporter_hex().empty());
  auto channel = line_channel(*line);
  auto info = server_side(r, channel);
  REQUIRE(info.has_value());
  CHECK(info->tls_exporter.empty());
}

TEST_CASE("LINE-1 a client without a certificate is served when the server only requests one") {
  rig r;
  auto line = connect_line(r.port(), client_context(pki::tls_strength::medium, {}));
  auto channel = line_channel(*line);
  CHECK(health_check(channel).ok());
  auto info = server_side(r, channel);
  REQUIRE(info.has_value());
  CHECK(info->client_chain_pem.empty());
  CHECK(info->client_certificate_subject.empty());
  CHECK(info->tls_exporter == line->exporter_hex());
}

TEST_CASE("LINE-1 a client certificate refused by the server's grading ends the line") {
  auto material = server_material();
  material.client_certificate_check = [](const std::vector<pki::certificate>& chain,
                                         const std::string&) {
    return std::optional<std::string>("untrusted " + chain.front().subject());
  };
  rig r(material);
  // TLS 1.3: the client's handshake is done before the server has graded the certificate.
  auto line = connect_line(r.port());
  auto channel = line_channel(*line);
  CHECK_FALSE(health_check(channel).ok());
  CHECK(eventually([&] { return !line->alive(); }));
  CHECK(eventually([&] { return r.failure_seen("client certificate refused: untrusted"); }));
}

TEST_CASE("LINE-1 connecting to a closed port fails with the reason") {
  const auto port = closed_port();
  auto refused = cluster::tls_client_connection::connect("127.0.0.1", port, client_context(), 2s);
  REQUIRE_FALSE(refused.has_value());
  MESSAGE(refused.error().detail);
  CHECK(refused.error().detail ==
        "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  CHECK(refused.error().code == cluster::errc::connect_failed);

  auto nonsense =
      cluster::tls_client_connection::connect("not-an-address", 1, client_context(), 2s);
  REQUIRE_FALSE(nonsense.has_value());
  CHECK(nonsense.error().detail.starts_with("cannot connect to not-an-address:1: "));

  auto no_context = cluster::tls_client_connection::connect("127.0.0.1", port, nullptr, 2s);
  REQUIRE_FALSE(no_context.has_value());
  CHECK(no_context.error().detail.find("no TLS context") != std::string::npos);
}

TEST_CASE("LINE-1 a server that never answers the handshake times out within the bound") {
  silent_listener silent;
  const auto started = std::chrono::steady_clock::now();
  auto timed_out =
      cluster::tls_client_connection::connect("127.0.0.1", silent.port, client_context(), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(timed_out.has_value());
  MESSAGE(timed_out.error().detail);
  CHECK(timed_out.error().detail == "TLS handshake with 127.0.0.1:" + std::to_string(silent.port) +
                                        " failed: handshake timed out");
  CHECK(took >= 250ms);
  CHECK(took < 2s);
}

TEST_CASE("TLS-2 a client at high and a server with only weak TLS 1.2 ciphers share none") {
  // A bare OpenSSL server offering TLS 1.2 with RSA key exchange and AES-128-CBC only.
  silent_listener socket;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> weak(SSL_CTX_new(TLS_server_method()),
                                                         SSL_CTX_free);
  REQUIRE(SSL_CTX_set_max_proto_version(weak.get(), TLS1_2_VERSION) == 1);
  REQUIRE(SSL_CTX_set_cipher_list(weak.get(), "AES128-SHA") == 1);
  auto server_cert = pki::certificate::from_pem(keys().server_pem);
  REQUIRE(SSL_CTX_use_certificate(weak.get(), server_cert->native()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(weak.get(), keys().server_key.native()) == 1);
  std::string server_error;
  std::thread server([&] {
    const int fd = ::accept(socket.fd, nullptr, nullptr);
    if (fd < 0)
      return;
    timeval limit{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    SSL* ssl = SSL_new(weak.get());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      const char* reason = ERR_reason_error_string(ERR_peek_error());
      server_error = reason ? reason : "no reason";
    }
    ERR_clear_error();
    SSL_free(ssl);
    ::close(fd);
  });

  auto refused = cluster::tls_client_connection::connect(
      "127.0.0.1", socket.port, client_context(pki::tls_strength::high), 5s);
  server.join();
  REQUIRE_FALSE(refused.has_value());
  MESSAGE(refused.error().detail);
  CHECK(refused.error().detail.starts_with(
      "TLS handshake with 127.0.0.1:" + std::to_string(socket.port) + " failed: "));
  CHECK(refused.error().detail.find("handshake failure") != std::string::npos);
  CHECK(server_error == "no shared cipher");
}

TEST_CASE("LINE-1 destroying the client connection closes the gRPC channel promptly") {
  rig r;
  auto line = connect_line(r.port());
  auto channel = line_channel(*line);
  REQUIRE(health_check(channel).ok());
  CHECK(r.registry.size() == 1);

  const auto started = std::chrono::steady_clock::now();
  line.reset();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK_FALSE(health_check(channel).ok());
  // The server's pump saw close_notify and handed gRPC the end of that connection.
  CHECK(eventually([&] { return r.registry.size() == 0; }));
  CHECK(r.failure_count() == 0);
}

TEST_CASE("LINE-1 the client sees the line end when the server goes away") {
  rig r;
  auto line = connect_line(r.port());
  auto channel = line_channel(*line);
  REQUIRE(health_check(channel).ok());
  r.listener.reset();
  CHECK(eventually([&] { return !line->alive(); }));
  CHECK(line->end_cause().empty());
  CHECK_FALSE(health_check(channel).ok());
}

TEST_CASE("LINE-1 a connection whose gRPC end was never taken closes it itself") {
  rig r;
  auto line = connect_line(r.port());
  line.reset();
  CHECK(eventually([&] { return r.registry.size() == 0; }));
}
