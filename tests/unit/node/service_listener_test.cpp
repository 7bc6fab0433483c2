#include "node/service_listener.hpp"

#include "admin.grpc.pb.h"
#include "core/random.hpp"
#include "health.grpc.pb.h"
#include "pki/certificate_builder.hpp"

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace ward;
using namespace std::chrono_literals;
using level = pki::service_security_level;

namespace {

constexpr auto server_name = "ward-test-server";

// ---------------------------------------------------------------------------------------
// Test PKI: a CA, a server and a client certificate it issued, and a client certificate
// nobody trusts.

pki::certificate issue(const pki::private_key& key, const std::string& common_name,
                       const pki::certificate& ca, const pki::private_key& ca_key,
                       std::initializer_list<std::pair<int, const char*>> extensions) {
  static std::atomic<long> serial{100};
  X509* cert = X509_new();
  REQUIRE(cert != nullptr);
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, X509_get_subject_name(ca.native()));
  X509_set_pubkey(cert, key.native());
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, ca.native(), cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    REQUIRE(extension != nullptr);
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
  }
  REQUIRE(X509_sign(cert, ca_key.native(), EVP_sha256()) > 0);
  return pki::certificate(std::shared_ptr<X509>(cert, X509_free));
}

std::string pem(const pki::certificate& cert) {
  return *cert.to_pem();
}

std::string pem(const pki::private_key& key) {
  return *key.to_pem();
}

struct test_pki {
  pki::private_key ca_key = *pki::private_key::generate_rsa(2048);
  pki::private_key server_key = *pki::private_key::generate_rsa(2048);
  pki::private_key client_key = *pki::private_key::generate_rsa(2048);
  std::string ca_pem;
  std::string server_pem;
  std::string client_pem;
  std::string rogue_client_pem;

  test_pki() {
    const auto now = std::chrono::system_clock::now();
    auto ca = pki::certificate_builder{}
                  .subject_attribute("CN", "ward-test-ca")
                  .validity(now - 1h, now + 24h)
                  .random_serial(system_random())
                  .extension(NID_basic_constraints, "critical,CA:TRUE")
                  .extension(NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")
                  .extension(NID_subject_key_identifier, "hash")
                  .self_sign(ca_key);
    REQUIRE(ca.has_value());
    ca_pem = pem(*ca);
    server_pem = pem(issue(server_key, server_name, *ca, ca_key,
                           {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_subject_alt_name, "DNS:ward-test-server,IP:127.0.0.1,IP:::1"},
                            {NID_authority_key_identifier, "keyid:always"}}));
    client_pem = pem(issue(client_key, "ward-test-client", *ca, ca_key,
                           {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, "clientAuth"},
                            {NID_authority_key_identifier, "keyid:always"}}));
    auto rogue =
        pki::make_self_signed_identity(client_key, "ward-rogue-client", now - 1h, system_random());
    REQUIRE(rogue.has_value());
    rogue_client_pem = pem(*rogue);
  }
};

const test_pki& keys() {
  static const test_pki instance;
  return instance;
}

pki::tls_server_material material() {
  return {pem(keys().server_key), keys().server_pem, {}, {keys().ca_pem}};
}

// ---------------------------------------------------------------------------------------
// The gRPC side: one server without ports, as ward-node runs it, with the health service
// and an Admin service that answers with what the registry says about the caller.

/// Echoes the registry entry of the calling connection. The reply's fields are borrowed
/// for transport: node_name = service, hostname = peer address, start_count = tls,
/// version = TLS version, identity.serial_hex = cipher, identity.subject = client subject,
/// identity.issuer = gRPC's peer string.
class registry_echo final : public ward::admin::v1::Admin::Service {
public:
  explicit registry_echo(const node::connection_registry& registry) : registry_(registry) {}

  grpc::Status Status(grpc::ServerContext* context, const ward::admin::v1::StatusRequest*,
                      ward::admin::v1::StatusReply* reply) override {
    auto info = registry_.find_by_peer(context->peer());
    if (!info)
      return {grpc::StatusCode::NOT_FOUND, "no registry entry for " + context->peer()};
    reply->set_node_name(info->service);
    reply->set_hostname(info->peer_address);
    reply->set_start_count(info->tls ? 1 : 0);
    reply->set_version(info->tls_version);
    reply->mutable_identity()->set_serial_hex(info->cipher);
    reply->mutable_identity()->set_subject(info->client_certificate_subject);
    reply->mutable_identity()->set_issuer(context->peer());
    return grpc::Status::OK;
  }

private:
  const node::connection_registry& registry_;
};

class failure_log {
public:
  node::tls_failure_handler handler() {
    return [this](const node::tls_failure& failure) {
      std::lock_guard lock(mutex_);
      seen_.push_back(failure);
      changed_.notify_all();
    };
  }

  /// The first failure whose cause contains `cause`, waiting up to `timeout` for it.
  std::optional<node::tls_failure> wait_for(std::string_view cause,
                                            std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    std::optional<node::tls_failure> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& failure : seen_) {
        if (failure.cause.find(cause) != std::string::npos) {
          found = failure;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<node::tls_failure> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  void clear() {
    std::lock_guard lock(mutex_);
    seen_.clear();
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<node::tls_failure> seen_;
};

struct rig {
  failure_log failures;
  node::connection_registry registry;
  registry_echo echo{registry};
  std::unique_ptr<grpc::Server> server;

  rig() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.RegisterService(&echo);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
  }
  ~rig() { server->Shutdown(std::chrono::system_clock::now() + 2s); }

  std::unique_ptr<node::service_listener> listener(const std::string& address = "127.0.0.1",
                                                   std::uint16_t plain_port = 0,
                                                   std::uint16_t tls_port = 0,
                                                   std::size_t max_connections = 256) {
    return std::make_unique<node::service_listener>("configuration", address, plain_port, tls_port,
                                                    *server, registry, failures.handler(),
                                                    max_connections);
  }
};

std::string target(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

/// Each channel gets its own connection; gRPC would otherwise share subchannels between
/// channels to the same target, and one test's connection would serve the next.
grpc::ChannelArguments fresh_arguments() {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  arguments.SetSslTargetNameOverride(server_name);
  return arguments;
}

std::shared_ptr<grpc::Channel> plain_channel(std::uint16_t port,
                                             const std::string& host = "127.0.0.1") {
  return grpc::CreateCustomChannel(target(host, port), grpc::InsecureChannelCredentials(),
                                   fresh_arguments());
}

std::shared_ptr<grpc::Channel> tls_channel(std::uint16_t port, bool with_client_certificate,
                                           const std::string& host = "127.0.0.1") {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = keys().ca_pem;
  if (with_client_certificate) {
    options.pem_private_key = pem(keys().client_key);
    options.pem_cert_chain = keys().client_pem;
  }
  return grpc::CreateCustomChannel(target(host, port), grpc::SslCredentials(options),
                                   fresh_arguments());
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

std::pair<grpc::Status, ward::admin::v1::StatusReply>
registry_echo_call(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = ward::admin::v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  ward::admin::v1::StatusReply reply;
  auto status = stub->Status(&context, {}, &reply);
  return {status, reply};
}

// ---------------------------------------------------------------------------------------
// Raw clients.

/// A connected TCP socket, or -1 (e.g. connection refused).
int connect_to(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
    return -1;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  }
  return fd;
}

bool tcp_connects(std::uint16_t port, const std::string& host = "127.0.0.1") {
  const int fd = connect_to(host, port);
  if (fd < 0)
    return false;
  ::close(fd);
  return true;
}

/// Blocks SIGPIPE in the calling thread while a raw test client writes to sockets the
/// listener may already have closed, and swallows any it raised. Thread-local on
/// purpose: the listener's threads are never created inside it and keep the default
/// disposition, so a SIGPIPE raised by the listener would still end the test.
class sigpipe_guard {
public:
  sigpipe_guard() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &previous_);
  }
  ~sigpipe_guard() {
    sigset_t pending;
    sigemptyset(&pending);
    sigaddset(&pending, SIGPIPE);
    timespec none{};
    while (sigtimedwait(&pending, nullptr, &none) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
  sigset_t previous_{};
};

struct probe_options {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  /// TLS 1.2 and below; empty = OpenSSL's default.
  std::string cipher_list;
  /// TLS 1.3; empty = OpenSSL's default.
  std::string ciphersuites;
  bool client_certificate = false;
  bool rogue_certificate = false;
  /// Reset the connection (RST) right after sending the HTTP/2 preface.
  bool reset_after_preface = false;
};

struct probe_result {
  bool handshake = false;
  /// The server's HTTP/2 SETTINGS came back: the bytes went through to gRPC and back.
  bool reached_grpc = false;
  std::string version;
  std::string cipher;
  std::string error;
};

std::string openssl_error_text() {
  const unsigned long code = ERR_peek_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "no OpenSSL reason";
}

/// An OpenSSL client that verifies the server as ward-test-server under the test CA,
/// sends the HTTP/2 client preface and waits for gRPC's SETTINGS frame.
probe_result probe(std::uint16_t port, const probe_options& options,
                   const std::string& host = "127.0.0.1") {
  sigpipe_guard guard;
  probe_result result;
  const int fd = connect_to(host, port);
  if (fd < 0) {
    result.error = "connect failed";
    return result;
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (!options.cipher_list.empty())
    REQUIRE(SSL_CTX_set_cipher_list(ctx.get(), options.cipher_list.c_str()) == 1);
  if (!options.ciphersuites.empty())
    REQUIRE(SSL_CTX_set_ciphersuites(ctx.get(), options.ciphersuites.c_str()) == 1);
  auto ca = pki::certificate::from_pem(keys().ca_pem);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca->native());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (options.client_certificate || options.rogue_certificate) {
    auto cert = pki::certificate::from_pem(options.rogue_certificate ? keys().rogue_client_pem
                                                                     : keys().client_pem);
    REQUIRE(SSL_CTX_use_certificate(ctx.get(), cert->native()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), keys().client_key.native()) == 1);
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  SSL_set1_host(ssl.get(), server_name);
  static constexpr unsigned char h2[] = {2, 'h', '2'};
  SSL_set_alpn_protos(ssl.get(), h2, sizeof(h2));

  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    result.error = openssl_error_text();
  } else {
    result.handshake = true;
    result.version = SSL_get_version(ssl.get());
    result.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get()));
    // Client preface plus an empty SETTINGS frame.
    static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    std::string hello(preface);
    hello.append({0, 0, 0, 4, 0, 0, 0, 0, 0});
    if (SSL_write(ssl.get(), hello.data(), static_cast<int>(hello.size())) <= 0) {
      result.error = openssl_error_text();
    } else if (options.reset_after_preface) {
      linger hard{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    } else {
      char frame[9];
      const int got = SSL_read(ssl.get(), frame, sizeof(frame));
      if (got == 9 && frame[3] == 4)
        result.reached_grpc = true;
      else
        result.error = got <= 0 ? openssl_error_text() : "unexpected reply";
    }
  }
  ERR_clear_error();
  ::close(fd);
  return result;
}

probe_result probe_tls12(std::uint16_t port, const std::string& ciphers,
                         bool client_certificate = false) {
  probe_options options;
  options.max_version = TLS1_2_VERSION;
  options.cipher_list = ciphers;
  options.client_certificate = client_certificate;
  return probe(port, options);
}

probe_result probe_tls13(std::uint16_t port, const std::string& suites,
                         bool client_certificate = false) {
  probe_options options;
  options.min_version = TLS1_3_VERSION;
  options.ciphersuites = suites;
  options.client_certificate = client_certificate;
  return probe(port, options);
}

/// A client that offers TLS 1.1 only; security level 0 so it really does, and the
/// refusal is the server's.
probe_options tls11_options(bool client_certificate) {
  probe_options options;
  options.min_version = TLS1_1_VERSION;
  options.max_version = TLS1_1_VERSION;
  options.cipher_list = "DEFAULT:@SECLEVEL=0";
  options.client_certificate = client_certificate;
  return options;
}

bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

/// Polls `condition` until it holds or `timeout` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::vector<std::string> cipher_names(SSL_CTX* ctx) {
  std::vector<std::string> names;
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i)
    names.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i)));
  return names;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

// ---------------------------------------------------------------------------------------
// Policy

TEST_CASE("SVC-1 service security levels decide which ports a service offers") {
  CHECK_FALSE(pki::offers_plaintext(level::disabled));
  CHECK_FALSE(pki::offers_tls(level::disabled));
  CHECK(pki::offers_plaintext(level::unsecure_only));
  CHECK_FALSE(pki::offers_tls(level::unsecure_only));
  CHECK(pki::offers_plaintext(level::unsecure_and_secure));
  CHECK(pki::offers_tls(level::unsecure_and_secure));
  for (auto secure : {level::secure_low, level::secure_medium, level::secure_high}) {
    CHECK_FALSE(pki::offers_plaintext(secure));
    CHECK(pki::offers_tls(secure));
  }
  CHECK(pki::tls_strength_of(level::unsecure_and_secure) == pki::tls_strength::low);
  CHECK(pki::tls_strength_of(level::secure_low) == pki::tls_strength::low);
  CHECK(pki::tls_strength_of(level::secure_medium) == pki::tls_strength::medium);
  CHECK(pki::tls_strength_of(level::secure_high) == pki::tls_strength::high);
  CHECK_FALSE(pki::tls_strength_of(level::unsecure_only).has_value());
  CHECK(pki::requires_client_certificate(level::secure_high));
  CHECK_FALSE(pki::requires_client_certificate(level::secure_medium));
}

TEST_CASE("SVC-1 level names round-trip and unknown names are refused") {
  for (auto each : {level::disabled, level::unsecure_only, level::unsecure_and_secure,
                    level::secure_low, level::secure_medium, level::secure_high})
    CHECK(pki::parse_service_security_level(pki::to_string(each)) == each);
  CHECK(pki::to_string(level::unsecure_and_secure) == "unsecure_and_secure");
  CHECK_FALSE(pki::parse_service_security_level("Secure Medium").has_value());
  CHECK_FALSE(pki::parse_service_security_level("secure_medium ").has_value());
  CHECK_FALSE(pki::parse_service_security_level("").has_value());
}

TEST_CASE("TLS-2 cipher sets A and B follow guide chapter 29 and every suite is known to "
          "OpenSSL") {
  CHECK(pki::cipher_set_a() ==
        "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
        "DHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256");
  CHECK(pki::cipher_set_b() ==
        "DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:"
        "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:"
        "ECDHE-RSA-AES128-SHA256");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  for (auto set : {pki::cipher_set_a(), pki::cipher_set_b()}) {
    std::string_view rest = set;
    while (!rest.empty()) {
      const auto name = std::string(rest.substr(0, rest.find(':')));
      rest.remove_prefix(std::min(rest.size(), name.size() + 1));
      CAPTURE(name);
      // A single unknown name fails the whole call, unlike a list with one good entry.
      CHECK(SSL_CTX_set_cipher_list(ctx.get(), name.c_str()) == 1);
    }
  }
  ERR_clear_error();
}

TEST_CASE("SVC-4 server contexts offer per strength the ciphers the level allows") {
  auto low =
      pki::make_server_context(pki::tls_strength::low, pki::tls_min_version::tls1_2, material());
  auto medium =
      pki::make_server_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, material());
  auto high =
      pki::make_server_context(pki::tls_strength::high, pki::tls_min_version::tls1_2, material());
  REQUIRE(low.has_value());
  REQUIRE(medium.has_value());
  REQUIRE(high.has_value());

  const auto low_names = cipher_names(low->get());
  CHECK(contains(low_names, "AES128-SHA"));
  CHECK(contains(low_names, "ECDHE-RSA-AES128-SHA"));
  CHECK(contains(low_names, "ECDHE-RSA-AES256-GCM-SHA384"));

  const auto medium_names = cipher_names(medium->get());
  CHECK_FALSE(contains(medium_names, "AES128-SHA"));
  CHECK_FALSE(contains(medium_names, "AES128-SHA256"));
  CHECK(contains(medium_names, "ECDHE-RSA-AES128-SHA256"));
  CHECK(contains(medium_names, "DHE-RSA-AES128-GCM-SHA256"));
  CHECK(contains(medium_names, "TLS_AES_128_GCM_SHA256"));
  for (const auto& name : medium_names) {
    CAPTURE(name);
    CHECK((name.find("AES128") != std::string::npos || name.find("AES256") != std::string::npos ||
           name.find("AES_128") != std::string::npos || name.find("AES_256") != std::string::npos ||
           name.find("CHACHA20") != std::string::npos));
  }

  const auto high_names = cipher_names(high->get());
  CHECK(high_names == std::vector<std::string>{"TLS_AES_256_GCM_SHA384",
                                               "ECDHE-RSA-AES256-GCM-SHA384",
                                               "DHE-RSA-AES256-GCM-SHA384", "AES256-GCM-SHA384"});
  CHECK(SSL_CTX_get_verify_mode(high->get()) ==
        (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE));
  CHECK(SSL_CTX_get_verify_mode(medium->get()) == SSL_VERIFY_NONE);
}

TEST_CASE("TLS-1 server contexts never accept below TLS 1.2 and honour a TLS 1.3 minimum") {
  for (auto strength :
       {pki::tls_strength::low, pki::tls_strength::medium, pki::tls_strength::high}) {
    auto default_floor =
        pki::make_server_context(strength, pki::tls_min_version::tls1_2, material());
    auto raised = pki::make_server_context(strength, pki::tls_min_version::tls1_3, material());
    REQUIRE(default_floor.has_value());
    REQUIRE(raised.has_value());
    CHECK(SSL_CTX_get_min_proto_version(default_floor->get()) == TLS1_2_VERSION);
    CHECK(SSL_CTX_get_min_proto_version(raised->get()) == TLS1_3_VERSION);
  }
}

TEST_CASE("SVC-1 bad TLS material is refused with a typed error") {
  auto with = [](auto change) {
    auto changed = material();
    change(changed);
    return pki::make_server_context(pki::tls_strength::high, pki::tls_min_version::tls1_2, changed);
  };
  auto garbage_key = with([](auto& m) { m.key_pem = "not a key"; });
  REQUIRE_FALSE(garbage_key.has_value());
  CHECK(garbage_key.error().code == pki::errc::wrong_format);

  auto garbage_cert = with([](auto& m) { m.certificate_pem = "-----BEGIN CERTIFICATE-----"; });
  REQUIRE_FALSE(garbage_cert.has_value());
  CHECK(garbage_cert.error().code == pki::errc::wrong_format);

  auto other_key = with([](auto& m) { m.key_pem = pem(keys().client_key); });
  REQUIRE_FALSE(other_key.has_value());
  CHECK(other_key.error().code == pki::errc::key_mismatch);

  auto no_anchor = with([](auto& m) { m.trusted_client_ca_pems.clear(); });
  REQUIRE_FALSE(no_anchor.has_value());
  CHECK(no_anchor.error().code == pki::errc::invalid_argument);

  auto bad_anchor = with([](auto& m) { m.trusted_client_ca_pems = {"junk"}; });
  REQUIRE_FALSE(bad_anchor.has_value());
  CHECK(bad_anchor.error().code == pki::errc::wrong_format);

  auto bad_chain = with([](auto& m) { m.chain_pem = "junk"; });
  REQUIRE_FALSE(bad_chain.has_value());
  CHECK(bad_chain.error().code == pki::errc::wrong_format);

  // Medium asks for no client certificate, so it needs no anchor.
  auto medium = material();
  medium.trusted_client_ca_pems.clear();
  medium.chain_pem = keys().ca_pem;
  auto context =
      pki::make_server_context(pki::tls_strength::medium, pki::tls_min_version::tls1_2, medium);
  REQUIRE(context.has_value());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(context->get(), &chain);
  CHECK(sk_X509_num(chain) == 1);
}

// ---------------------------------------------------------------------------------------
// Listener

TEST_CASE("SVC-1 disabled closes both ports") {
  rig r;
  auto listener = r.listener();
  CHECK(listener->level() == level::disabled);
  CHECK(listener->plain_port() == 0);
  CHECK(listener->tls_port() == 0);

  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  const auto plain = listener->plain_port();
  const auto tls = listener->tls_port();
  CHECK(plain != 0);
  CHECK(tls != 0);
  CHECK(tcp_connects(plain));
  CHECK(tcp_connects(tls));

  REQUIRE(listener->apply(level::disabled, material()).has_value());
  CHECK(listener->level() == level::disabled);
  CHECK_FALSE(tcp_connects(plain));
  CHECK_FALSE(tcp_connects(tls));
  CHECK(listener->plain_port() == plain);
  CHECK(listener->tls_port() == tls);
}

TEST_CASE("SVC-1 unsecure only serves plaintext gRPC and keeps the TLS port closed") {
  rig r;
  auto listener = r.listener();
  // No TLS material is needed when the level offers no TLS.
  REQUIRE(listener->apply(level::unsecure_only, pki::tls_server_material{}).has_value());
  CHECK(listener->plain_port() != 0);
  CHECK(listener->tls_port() == 0);
  CHECK(health_check(plain_channel(listener->plain_port())).ok());

  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  const auto tls = listener->tls_port();
  REQUIRE(tls != 0);
  REQUIRE(listener->apply(level::unsecure_only, material()).has_value());
  CHECK_FALSE(tcp_connects(tls));
  CHECK(health_check(plain_channel(listener->plain_port())).ok());
}

TEST_CASE("SVC-1 unsecure plus secure serves plaintext and TLS at low strength") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  CHECK(health_check(plain_channel(listener->plain_port())).ok());
  CHECK(health_check(tls_channel(listener->tls_port(), false)).ok());

  // Low keeps the backward-compatible RSA key-exchange CBC suites.
  auto legacy = probe_tls12(listener->tls_port(), "AES128-SHA256");
  CHECK(legacy.reached_grpc);
  CHECK(legacy.cipher == "AES128-SHA256");
}

TEST_CASE("SVC-4 secure medium closes plaintext and requires AES-128 or stronger") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  const auto plain = listener->plain_port();
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  CHECK_FALSE(tcp_connects(plain));
  CHECK(health_check(tls_channel(listener->tls_port(), false)).ok());
  CHECK(health_check(plain_channel(plain)).error_code() == grpc::StatusCode::UNAVAILABLE);

  auto set_b = probe_tls12(listener->tls_port(), "ECDHE-RSA-AES128-SHA256");
  CHECK(set_b.reached_grpc);
  CHECK(set_b.cipher == "ECDHE-RSA-AES128-SHA256");
  auto set_a = probe_tls12(listener->tls_port(), "DHE-RSA-AES128-GCM-SHA256");
  CHECK(set_a.reached_grpc);

  auto legacy = probe_tls12(listener->tls_port(), "AES128-SHA256");
  CHECK_FALSE(legacy.handshake);
  auto failure = r.failures.wait_for("no shared cipher");
  REQUIRE(failure.has_value());
  CHECK(failure->service == "configuration");
}

TEST_CASE("SVC-1 secure high refuses clients without a trusted certificate") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::secure_high, material()).has_value());
  CHECK(listener->plain_port() == 0);
  const auto port = listener->tls_port();

  CHECK(health_check(tls_channel(port, true)).ok());
  CHECK_FALSE(health_check(tls_channel(port, false)).ok());

  r.failures.clear();
  auto bare = probe_tls12(port, "ECDHE-RSA-AES256-GCM-SHA384");
  CHECK_FALSE(bare.handshake);
  auto no_certificate = r.failures.wait_for("no client certificate");
  REQUIRE(no_certificate.has_value());
  CHECK(no_certificate->service == "configuration");
  CHECK(no_certificate->peer_address.starts_with("127.0.0.1:"));

  // In TLS 1.3 the client finishes first and learns of the refusal on its first read.
  auto bare13 = probe_tls13(port, "TLS_AES_256_GCM_SHA384");
  CHECK_FALSE(bare13.reached_grpc);

  r.failures.clear();
  probe_options rogue;
  rogue.rogue_certificate = true;
  CHECK_FALSE(probe(port, rogue).reached_grpc);
  auto rejected = r.failures.wait_for("client certificate rejected");
  REQUIRE(rejected.has_value());
  MESSAGE("untrusted client certificate: " << rejected->cause);

  auto trusted = probe_tls13(port, "TLS_AES_256_GCM_SHA384", true);
  CHECK(trusted.reached_grpc);
}

TEST_CASE("SVC-4 LINE-1 requesting a client certificate accepts any chain and leaves the grading "
          "to the check; at high one must be sent") {
  auto requesting = material();
  requesting.request_client_certificate = true;
  requesting.trusted_client_ca_pems.clear();
  requesting.client_certificate_check = [](const std::vector<pki::certificate>& chain,
                                           const std::string&) {
    return chain.front().subject_common_name() == "ward-rogue-client"
               ? std::optional<std::string>("rogue")
               : std::nullopt;
  };
  auto low =
      pki::make_server_context(pki::tls_strength::low, pki::tls_min_version::tls1_2, requesting);
  REQUIRE(low.has_value());
  CHECK(SSL_CTX_get_verify_mode(low->get()) == (SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE));
  // LINE-1: at high a client that sends no certificate is refused in the handshake itself.
  auto high =
      pki::make_server_context(pki::tls_strength::high, pki::tls_min_version::tls1_2, requesting);
  REQUIRE(high.has_value());
  CHECK(SSL_CTX_get_verify_mode(high->get()) ==
        (SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));

  rig r;
  auto listener = r.listener();
  // At high the flag replaces the OpenSSL-verified certificate: no anchor needed, but a
  // certificate must be sent.
  REQUIRE(listener->apply(level::secure_high, requesting).has_value());
  const auto port = listener->tls_port();

  CHECK_FALSE(probe_tls13(port, "TLS_AES_256_GCM_SHA384").reached_grpc);
  CHECK(probe_tls13(port, "TLS_AES_256_GCM_SHA384", true).reached_grpc);
  r.failures.clear();
  probe_options rogue;
  rogue.rogue_certificate = true;
  // The self-signed certificate passes the handshake; the check refuses it afterwards.
  auto refused = probe(port, rogue);
  CHECK(refused.handshake);
  CHECK_FALSE(refused.reached_grpc);
  CHECK(r.failures.wait_for("client certificate refused: rogue").has_value());

  auto [status, reply] = registry_echo_call(tls_channel(port, true));
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(reply.identity().subject() == "CN=ward-test-client");
}

TEST_CASE("SVC-4 secure high accepts only AES-256-GCM suites of set A") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::secure_high, material()).has_value());
  const auto port = listener->tls_port();

  auto cbc = probe_tls12(port, "AES128-SHA256", true);
  CHECK_FALSE(cbc.handshake);
  CHECK(r.failures.wait_for("no shared cipher").has_value());
  CHECK_FALSE(probe_tls12(port, "ECDHE-RSA-AES256-SHA384", true).handshake);
  CHECK_FALSE(probe_tls12(port, "ECDHE-RSA-AES128-GCM-SHA256", true).handshake);
  CHECK_FALSE(probe_tls13(port, "TLS_AES_128_GCM_SHA256", true).handshake);
  CHECK_FALSE(probe_tls13(port, "TLS_CHACHA20_POLY1305_SHA256", true).handshake);

  for (std::string cipher :
       {"ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES256-GCM-SHA384", "AES256-GCM-SHA384"}) {
    CAPTURE(cipher);
    auto result = probe_tls12(port, cipher, true);
    CHECK(result.reached_grpc);
    CHECK(result.cipher == cipher);
  }
  auto modern = probe_tls13(port, "TLS_AES_256_GCM_SHA384", true);
  CHECK(modern.reached_grpc);
  CHECK(modern.version == "TLSv1.3");
}

TEST_CASE("TLS-1 a TLS 1.1 client is refused at every level that offers TLS") {
  rig r;
  auto listener = r.listener();
  for (auto each :
       {level::unsecure_and_secure, level::secure_low, level::secure_medium, level::secure_high}) {
    CAPTURE(pki::to_string(each));
    REQUIRE(listener->apply(each, material()).has_value());
    r.failures.clear();
    auto old = probe(listener->tls_port(), tls11_options(true));
    CHECK_FALSE(old.handshake);
    CHECK(r.failures.wait_for("unsupported protocol").has_value());
  }
}

TEST_CASE("TLS-1 a TLS 1.3 minimum refuses TLS 1.2 clients") {
  rig r;
  auto listener = r.listener();
  REQUIRE(
      listener->apply(level::secure_medium, material(), pki::tls_min_version::tls1_3).has_value());
  CHECK_FALSE(probe_tls12(listener->tls_port(), "ECDHE-RSA-AES256-GCM-SHA384").handshake);
  CHECK(r.failures.wait_for("unsupported protocol").has_value());
  auto modern = probe_tls13(listener->tls_port(), "");
  CHECK(modern.reached_grpc);
  CHECK(health_check(tls_channel(listener->tls_port(), false)).ok());
}

TEST_CASE("SVC-1 a level change takes effect at once and reopens the same port numbers") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto port = listener->tls_port();
  auto established = tls_channel(port, false);
  REQUIRE(health_check(established).ok());

  REQUIRE(listener->apply(level::disabled, material()).has_value());
  CHECK_FALSE(tcp_connects(port));
  // Established connections may stay; only new ones are refused.
  CHECK(health_check(established).ok());
  CHECK_FALSE(health_check(tls_channel(port, false)).ok());

  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  CHECK(listener->tls_port() == port);
  CHECK(health_check(tls_channel(port, false)).ok());

  // medium -> high on the open port: the next handshake already demands a certificate.
  REQUIRE(listener->apply(level::secure_high, material()).has_value());
  CHECK(listener->tls_port() == port);
  CHECK_FALSE(health_check(tls_channel(port, false)).ok());
  CHECK(health_check(tls_channel(port, true)).ok());
  CHECK(listener->level() == level::secure_high);
}

TEST_CASE("SVC-1 a failed apply changes nothing") {
  rig r;
  // Hold a port so the listener cannot bind it.
  const int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(squatter, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::listen(squatter, 1) == 0);
  socklen_t length = sizeof(address);
  ::getsockname(squatter, reinterpret_cast<sockaddr*>(&address), &length);
  const auto taken = ntohs(address.sin_port);

  auto listener = r.listener("127.0.0.1", taken, 0);
  auto refused = listener->apply(level::unsecure_only, material());
  REQUIRE_FALSE(refused.has_value());
  MESSAGE(refused.error());
  CHECK(refused.error().find("configuration") != std::string::npos);
  CHECK(listener->level() == level::disabled);
  CHECK(listener->plain_port() == 0);

  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto tls = listener->tls_port();
  CHECK_FALSE(listener->apply(level::unsecure_and_secure, material()).has_value());
  CHECK(listener->level() == level::secure_medium);
  CHECK(listener->tls_port() == tls);
  CHECK(health_check(tls_channel(tls, false)).ok());

  // Bad material for a stricter level leaves the running context in force.
  auto no_anchor = material();
  no_anchor.trusted_client_ca_pems.clear();
  auto bad = listener->apply(level::secure_high, no_anchor);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().find("invalid_argument") != std::string::npos);
  CHECK(listener->level() == level::secure_medium);
  CHECK(health_check(tls_channel(tls, false)).ok());
  ::close(squatter);

  auto nonsense = r.listener("not-an-address");
  CHECK_FALSE(nonsense->apply(level::unsecure_only, material()).has_value());
}

TEST_CASE("TLS-3 handshake failures report peer address and cause and the listener keeps "
          "serving") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto port = listener->tls_port();

  // A plaintext gRPC client on the TLS port.
  CHECK_FALSE(health_check(plain_channel(port)).ok());
  auto not_tls = r.failures.wait_for("");
  REQUIRE(not_tls.has_value());
  MESSAGE("plaintext on the TLS port: " << not_tls->cause);
  CHECK(not_tls->peer_address.starts_with("127.0.0.1:"));
  CHECK(not_tls->peer_address != "127.0.0.1:" + std::to_string(port));

  // A client that connects and says nothing is closed when it goes.
  r.failures.clear();
  ::close(connect_to("127.0.0.1", port));
  CHECK(r.failures.wait_for("connection closed during handshake").has_value());

  // A client offering ALPN without h2 could never talk to gRPC.
  r.failures.clear();
  {
    sigpipe_guard guard;
    const int fd = connect_to("127.0.0.1", port);
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                          SSL_CTX_free);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    static constexpr unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl.get(), http11, sizeof(http11));
    SSL_set_fd(ssl.get(), fd);
    CHECK(SSL_connect(ssl.get()) != 1);
    ERR_clear_error();
    ::close(fd);
  }
  auto no_alpn = r.failures.wait_for("application protocol");
  CHECK(no_alpn.has_value());

  CHECK(health_check(tls_channel(port, false)).ok());
}

TEST_CASE("SVC-1 the connection registry describes live calls and forgets closed connections") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  CHECK(r.registry.size() == 0);

  auto plain = plain_channel(listener->plain_port());
  auto [plain_status, plain_reply] = registry_echo_call(plain);
  REQUIRE_MESSAGE(plain_status.ok(), plain_status.error_message());
  MESSAGE("gRPC peer of a plaintext fd channel: " << plain_reply.identity().issuer());
  CHECK(plain_reply.identity().issuer().starts_with("fd:"));
  CHECK(plain_reply.node_name() == "configuration");
  CHECK(plain_reply.start_count() == 0);
  CHECK(plain_reply.hostname().starts_with("127.0.0.1:"));
  CHECK(plain_reply.version().empty());
  CHECK(r.registry.size() == 1);

  REQUIRE(listener->apply(level::secure_high, material()).has_value());
  auto tls = tls_channel(listener->tls_port(), true);
  auto [tls_status, tls_reply] = registry_echo_call(tls);
  REQUIRE_MESSAGE(tls_status.ok(), tls_status.error_message());
  MESSAGE("gRPC peer of a TLS fd channel: " << tls_reply.identity().issuer() << " over "
                                            << tls_reply.version() << " "
                                            << tls_reply.identity().serial_hex());
  CHECK(tls_reply.identity().issuer().starts_with("fd:"));
  CHECK(tls_reply.start_count() == 1);
  CHECK(tls_reply.hostname().starts_with("127.0.0.1:"));
  CHECK(tls_reply.version() == "TLSv1.3");
  CHECK(tls_reply.identity().serial_hex() == "TLS_AES_256_GCM_SHA384");
  CHECK(tls_reply.identity().subject() == "CN=ward-test-client");
  CHECK(r.registry.size() == 2);

  // The plaintext connection is still served after the level closed its port.
  CHECK(registry_echo_call(plain).first.ok());

  tls.reset();
  CHECK(eventually([&] { return r.registry.size() == 1; }));
  plain.reset();
  CHECK(eventually([&] { return r.registry.size() == 0; }));

  CHECK_FALSE(r.registry.find_by_peer("ipv4:127.0.0.1:1").has_value());
  CHECK_FALSE(r.registry.find_by_peer("fd:").has_value());
  CHECK_FALSE(r.registry.find_by_peer("fd:12x").has_value());
}

TEST_CASE("SVC-1 the connection registry never answers for a reused descriptor") {
  node::connection_registry registry;
  int first[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, first) == 0);
  const auto ticket = registry.add(first[0], {"configuration", "127.0.0.1:1", false, {}, {}, {}});
  CHECK(ticket != 0);
  CHECK(registry.find_by_peer("fd:" + std::to_string(first[0])).has_value());

  // gRPC closes the descriptor and the number comes back for another socket.
  const int number = first[0];
  ::close(first[0]);
  int second[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, second) == 0);
  REQUIRE(second[0] == number);
  CHECK_FALSE(registry.find_by_peer("fd:" + std::to_string(number)).has_value());
  CHECK(registry.size() == 0);

  const auto newer = registry.add(number, {"status", "127.0.0.1:2", true, {}, {}, {}});
  // A late removal for the old connection leaves the new entry alone.
  registry.remove(number, ticket);
  auto found = registry.find_by_peer("fd:" + std::to_string(number));
  REQUIRE(found.has_value());
  CHECK(found->service == "status");
  registry.remove(number, newer);
  CHECK(registry.size() == 0);
  CHECK(registry.add(-1, {}) == 0);
  ::close(first[1]);
  ::close(second[0]);
  ::close(second[1]);
}

TEST_CASE("SVC-1 listeners work on the IPv6 loopback") {
  if (!ipv6_loopback_available()) {
    MESSAGE("no IPv6 loopback here; skipped");
    return;
  }
  rig r;
  auto listener = r.listener("::1");
  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  CHECK(health_check(plain_channel(listener->plain_port(), "::1")).ok());
  auto tls = tls_channel(listener->tls_port(), false, "::1");
  auto [status, reply] = registry_echo_call(tls);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(reply.hostname().starts_with("[::1]:"));
  CHECK_FALSE(tcp_connects(listener->tls_port(), "127.0.0.1"));

  r.failures.clear();
  CHECK_FALSE(probe(listener->tls_port(), tls11_options(false), "::1").handshake);
  auto failure = r.failures.wait_for("unsupported protocol");
  REQUIRE(failure.has_value());
  CHECK(failure->peer_address.starts_with("[::1]:"));
}

TEST_CASE("SVC-1 connections beyond the limit are refused") {
  rig r;
  auto listener = r.listener("127.0.0.1", 0, 0, 2);
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto port = listener->tls_port();

  // Two clients that never start a handshake hold both slots.
  const int first = connect_to("127.0.0.1", port);
  const int second = connect_to("127.0.0.1", port);
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  const int third = connect_to("127.0.0.1", port);
  REQUIRE(third >= 0);
  CHECK(r.failures.wait_for("connection limit reached").has_value());
  char byte = 0;
  CHECK(::recv(third, &byte, 1, 0) <= 0);
  ::close(third);

  ::close(first);
  ::close(second);
  // The slots come back once those sessions have ended.
  CHECK(eventually([&] { return health_check(tls_channel(port, false)).ok(); }));
}

TEST_CASE("SVC-1 one address cannot hold more than a quarter of the connection slots") {
  rig r;
  auto listener = r.listener("127.0.0.1", 0, 0, 16);
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto port = listener->tls_port();
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_to("127.0.0.1", port));
    REQUIRE(idle.back() >= 0);
  }
  const int fifth = connect_to("127.0.0.1", port);
  REQUIRE(fifth >= 0);
  CHECK(r.failures.wait_for("connection limit for this address reached").has_value());
  ::close(fifth);
  for (int fd : idle)
    ::close(fd);
  CHECK(eventually([&] { return health_check(tls_channel(port, false)).ok(); }));
}

TEST_CASE("TLS-3 clients resetting mid-stream raise no SIGPIPE and the listener keeps serving") {
  // Only meaningful while SIGPIPE would still end the process: restore the default for
  // the duration of the test, whatever an earlier test or library (gRPC) set.
  struct sigpipe_default {
    struct sigaction saved {};
    sigpipe_default() {
      struct sigaction fallback {};
      fallback.sa_handler = SIG_DFL;
      sigemptyset(&fallback.sa_mask);
      sigaction(SIGPIPE, &fallback, &saved);
    }
    ~sigpipe_default() { sigaction(SIGPIPE, &saved, nullptr); }
  } default_disposition;
  struct sigaction current {};
  sigaction(SIGPIPE, nullptr, &current);
  REQUIRE((current.sa_handler == SIG_DFL));

  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::unsecure_and_secure, material()).has_value());
  probe_options reset;
  reset.reset_after_preface = true;
  for (int round = 0; round < 30; ++round)
    CHECK(probe(listener->tls_port(), reset).handshake);
  // Plaintext clients doing the same against gRPC's own handling.
  for (int round = 0; round < 10; ++round) {
    const int fd = connect_to("127.0.0.1", listener->plain_port());
    REQUIRE(fd >= 0);
    static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    CHECK(::send(fd, preface.data(), preface.size(), MSG_NOSIGNAL) > 0);
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    ::close(fd);
  }
  std::this_thread::sleep_for(200ms);
  CHECK(health_check(tls_channel(listener->tls_port(), false)).ok());
  CHECK(health_check(plain_channel(listener->plain_port())).ok());
}

TEST_CASE("SVC-1 destroying a listener ends its TLS connections and handshakes promptly") {
  rig r;
  auto listener = r.listener();
  REQUIRE(listener->apply(level::secure_medium, material()).has_value());
  const auto port = listener->tls_port();
  auto established = tls_channel(port, false);
  REQUIRE(health_check(established).ok());
  CHECK(r.registry.size() == 1);
  // A client in the middle of its handshake, which would otherwise hold on for 10 s.
  const int idle = connect_to("127.0.0.1", port);
  REQUIRE(idle >= 0);
  std::this_thread::sleep_for(100ms);

  const auto started = std::chrono::steady_clock::now();
  listener.reset();
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  char byte = 0;
  CHECK(::recv(idle, &byte, 1, 0) <= 0);
  ::close(idle);
  CHECK(eventually([&] { return r.registry.size() == 0; }));
  CHECK_FALSE(health_check(established).ok());
}
