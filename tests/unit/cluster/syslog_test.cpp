#include "cluster/syslog.hpp"
#include "cluster/syslog_sender.hpp"

#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using ward::cluster::format_rfc5424;
using ward::cluster::frame_octet_counted;
using ward::cluster::parse_syslog_transport;
using ward::cluster::syslog_event;
using ward::cluster::syslog_severity;
using ward::cluster::syslog_tls_config;
using ward::cluster::syslog_tls_sender;
using ward::cluster::syslog_transport;

namespace {

/// 2026-03-04T05:06:07.089012Z: every field differs so a swapped field shows.
std::chrono::system_clock::time_point sample_time() {
  using namespace std::chrono;
  return sys_days{year{2026} / 3 / 4} + 5h + 6min + 7s + 89012us;
}

syslog_event sample_event() {
  syslog_event event;
  event.time = sample_time();
  event.facility = 10;
  event.severity = syslog_severity::notice;
  event.hostname = "pbx1.ward.test";
  event.app_name = "ward-node";
  event.proc_id = "4242";
  event.msg_id = "AUDIT";
  event.structured = {{"kind", "login"}, {"user", "admin"}};
  event.message = "admin logged in from 192.0.2.7";
  return event;
}

/// Polls `done` until it holds or `limit` passes; every wait in these tests is bounded.
template <class Predicate> bool eventually(Predicate done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// A self-signed P-256 certificate for 127.0.0.1 and syslog.ward.test, made with plain
/// OpenSSL so the test depends on nothing but the code under test.
struct test_identity {
  std::string cert_pem;
  std::string key_pem;
};

std::string to_pem(auto write) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(bio != nullptr);
  REQUIRE(write(bio) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

test_identity make_identity(const char* common_name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* cert = X509_new();
  REQUIRE(cert != nullptr);
  REQUIRE(X509_set_version(cert, X509_VERSION_3) == 1);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  REQUIRE(X509_set_issuer_name(cert, name) == 1);
  REQUIRE(X509_set_pubkey(cert, key) == 1);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical, CA:TRUE"},
      {NID_key_usage, "critical, digitalSignature, keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_alt_name, "IP:127.0.0.1, DNS:syslog.ward.test"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    REQUIRE(extension != nullptr);
    REQUIRE(X509_add_ext(cert, extension, -1) == 1);
    X509_EXTENSION_free(extension);
  }
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  test_identity out{
      to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); }), to_pem([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      })};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

const test_identity& server_identity() {
  static const test_identity identity = make_identity("syslog.ward.test");
  return identity;
}

const test_identity& stranger_identity() {
  static const test_identity identity = make_identity("stranger.ward.test");
  return identity;
}

/// A loopback TLS receiver: binds 127.0.0.1 port 0 at once, listens only when started
/// (until then connections are refused), and records every byte received over any
/// connection. Connections are served one after another, as a syslog receiver sees them.
class tls_test_server {
public:
  explicit tls_test_server(const test_identity& identity) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    REQUIRE(ctx_ != nullptr);
    BIO* cert_bio = BIO_new_mem_buf(identity.cert_pem.data(), -1);
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(identity.key_pem.data(), -1);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(key_bio);
    REQUIRE(SSL_CTX_use_certificate(ctx_, cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx_, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }

  ~tls_test_server() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }

  tls_test_server(const tls_test_server&) = delete;
  tls_test_server& operator=(const tls_test_server&) = delete;

  void start() {
    REQUIRE(::listen(listen_fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }

  std::uint16_t port() const { return port_; }

  std::string received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  int handshakes() const { return handshakes_.load(); }
  int failed_handshakes() const { return failed_handshakes_.load(); }

private:
  void serve() {
    while (!stop_) {
      pollfd listener{listen_fd_, POLLIN, 0};
      if (::poll(&listener, 1, 50) <= 0)
        continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      // Bounds every blocking read and write of the handshake.
      const timeval limit{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        ++handshakes_;
        read_all(ssl, fd);
      } else {
        ++failed_handshakes_;
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(fd);
    }
  }

  void read_all(SSL* ssl, int fd) {
    char buffer[4096];
    while (!stop_) {
      if (SSL_pending(ssl) == 0) {
        pollfd peer{fd, POLLIN, 0};
        if (::poll(&peer, 1, 50) <= 0)
          continue;
      }
      const int result = SSL_read(ssl, buffer, sizeof buffer);
      if (result <= 0) {
        if (SSL_get_error(ssl, result) == SSL_ERROR_WANT_READ)
          continue;
        return;
      }
      std::lock_guard lock(mutex_);
      received_.append(buffer, static_cast<std::size_t>(result));
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> failed_handshakes_{0};
  mutable std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

syslog_tls_config config_for(const tls_test_server& server, const std::string& ca_pem) {
  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = server.port();
  config.trusted_ca_pem = ca_pem;
  config.reconnect_min = 20ms;
  config.reconnect_max = 100ms;
  return config;
}

} // namespace

TEST_CASE("MON-2 a full event is formatted exactly per RFC 5424") {
  CHECK(format_rfc5424(sample_event()) ==
        "<85>1 2026-03-04T05:06:07.089012Z pbx1.ward.test ward-node 4242 AUDIT "
        "[ward@32473 kind=\"login\" user=\"admin\"] admin logged in from 192.0.2.7");
}

TEST_CASE("MON-2 an empty event has NILVALUE fields and no MSG") {
  CHECK(format_rfc5424(syslog_event{}) == "<14>1 1970-01-01T00:00:00.000000Z - - - - -");
}

TEST_CASE("MON-2 the PRI combines facility and severity and an invalid facility becomes user") {
  syslog_event event;
  event.facility = 0;
  event.severity = syslog_severity::emergency;
  CHECK(format_rfc5424(event).starts_with("<0>1 "));
  event.facility = 23;
  event.severity = syslog_severity::debug;
  CHECK(format_rfc5424(event).starts_with("<191>1 "));
  event.facility = 24;
  event.severity = syslog_severity::error;
  CHECK(format_rfc5424(event).starts_with("<11>1 "));
  event.facility = -1;
  CHECK(format_rfc5424(event).starts_with("<11>1 "));
}

TEST_CASE("MON-2 parameter values escape quote and backslash and bracket") {
  syslog_event event;
  event.structured = {{"v", "a\"b\\c]d[e"}};
  CHECK(format_rfc5424(event) ==
        "<14>1 1970-01-01T00:00:00.000000Z - - - - [ward@32473 v=\"a\\\"b\\\\c\\]d[e\"]");
}

TEST_CASE("MON-2 parameter names keep only the characters an SD-NAME allows") {
  syslog_event event;
  event.structured = {
      {"bad name=x]\"", "1"}, {"", "2"}, {std::string(40, 'n'), "3"}, {"caf\xC3\xA9", "4"}};
  CHECK(format_rfc5424(event) == "<14>1 1970-01-01T00:00:00.000000Z - - - - [ward@32473 "
                                 "bad_name_x__=\"1\" _=\"2\" " +
                                     std::string(32, 'n') + "=\"3\" caf__=\"4\"]");
}

TEST_CASE("MON-2 header fields are cut to the RFC lengths") {
  syslog_event event;
  event.hostname = std::string(300, 'h');
  event.app_name = std::string(60, 'a');
  event.proc_id = std::string(200, 'p');
  event.msg_id = std::string(40, 'm');
  CHECK(format_rfc5424(event) == "<14>1 1970-01-01T00:00:00.000000Z " + std::string(255, 'h') +
                                     " " + std::string(48, 'a') + " " + std::string(128, 'p') +
                                     " " + std::string(32, 'm') + " -");
}

TEST_CASE("MON-2 header fields keep only printable US-ASCII") {
  syslog_event event;
  event.hostname = "pbx 1";
  event.app_name = "n\xC3\xBC";
  event.proc_id = "a\tb";
  event.msg_id = "x\x7Fy";
  CHECK(format_rfc5424(event) == "<14>1 1970-01-01T00:00:00.000000Z pbx_1 n__ a_b x_y -");
}

TEST_CASE("MON-2 control characters become spaces so an event is one line") {
  syslog_event event;
  event.message = "line1\nline2\r\tend\x7F";
  event.structured = {{"k", "a\nb"}};
  CHECK(format_rfc5424(event) ==
        "<14>1 1970-01-01T00:00:00.000000Z - - - - [ward@32473 k=\"a b\"] line1 line2  end ");
}

TEST_CASE("MON-2 MSG gets the BOM only when it holds non-ASCII") {
  syslog_event event;
  event.message = "Gr\xC3\xBC\xC3\x9F"
                  "e";
  CHECK(format_rfc5424(event) ==
        "<14>1 1970-01-01T00:00:00.000000Z - - - - - \xEF\xBB\xBFGr\xC3\xBC\xC3\x9F"
        "e");
  event.message = "plain";
  CHECK(format_rfc5424(event) == "<14>1 1970-01-01T00:00:00.000000Z - - - - - plain");
}

TEST_CASE("MON-2 invalid UTF-8 in MSG becomes U+FFFD") {
  syslog_event event;
  event.message = "a\xFF"
                  "b\xC0\xAF"
                  "c\xED\xA0\x80";
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(format_rfc5424(event) == "<14>1 1970-01-01T00:00:00.000000Z - - - - - \xEF\xBB\xBF"
                                 "a" +
                                     fffd + "b" + fffd + fffd + "c" + fffd + fffd + fffd);
}

TEST_CASE("MON-2 octet counting frames count octets not characters") {
  CHECK(frame_octet_counted("abc") == "3 abc");
  CHECK(frame_octet_counted("") == "0 ");
  CHECK(frame_octet_counted("\xC3\xBC") == "2 \xC3\xBC");
  CHECK(frame_octet_counted(std::string(1234, 'x')) == "1234 " + std::string(1234, 'x'));
}

TEST_CASE("MON-2 check_config refuses what can never connect") {
  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = 6514;
  config.trusted_ca_pem = server_identity().cert_pem;
  CHECK(syslog_tls_sender::check_config(config).has_value());

  auto named = config;
  named.address = "syslog.ward.test";
  CHECK_FALSE(syslog_tls_sender::check_config(named).has_value());

  auto v6 = config;
  v6.address = "[::1]";
  CHECK(syslog_tls_sender::check_config(v6).has_value());

  auto no_ca = config;
  no_ca.trusted_ca_pem.clear();
  CHECK_FALSE(syslog_tls_sender::check_config(no_ca).has_value());

  auto garbage_ca = config;
  garbage_ca.trusted_ca_pem = "not a certificate";
  CHECK_FALSE(syslog_tls_sender::check_config(garbage_ca).has_value());

  auto half_identity = config;
  half_identity.client_cert_pem = server_identity().cert_pem;
  CHECK_FALSE(syslog_tls_sender::check_config(half_identity).has_value());

  auto mismatched = config;
  mismatched.client_cert_pem = server_identity().cert_pem;
  mismatched.client_key_pem = stranger_identity().key_pem;
  CHECK_FALSE(syslog_tls_sender::check_config(mismatched).has_value());

  auto identity = config;
  identity.client_cert_pem = server_identity().cert_pem;
  identity.client_key_pem = server_identity().key_pem;
  CHECK(syslog_tls_sender::check_config(identity).has_value());

  syslog_tls_sender sender(no_ca);
  CHECK(sender.stats().last_error.find("configuration") != std::string::npos);
  CHECK_FALSE(sender.stats().connected);
}

TEST_CASE("MON-2 three messages arrive over TLS framed and byte for byte") {
  tls_test_server server(server_identity());
  server.start();
  syslog_tls_sender sender(config_for(server, server_identity().cert_pem));

  std::string expected;
  for (const char* text : {"first", "second \xC3\xBC", "third"}) {
    auto event = sample_event();
    event.message = text;
    const std::string line = format_rfc5424(event);
    REQUIRE(sender.enqueue(line));
    expected += frame_octet_counted(line);
  }

  REQUIRE(eventually([&] { return server.received().size() >= expected.size(); }));
  CHECK(server.received() == expected);
  REQUIRE(eventually([&] { return sender.stats().sent == 3; }));
  const auto stats = sender.stats();
  CHECK(stats.connected);
  CHECK(stats.dropped == 0);
  CHECK(stats.queued == 0);
  CHECK(server.handshakes() == 1);
}

TEST_CASE("MON-2 a receiver certificate from another CA is refused and nothing is sent") {
  tls_test_server server(server_identity());
  server.start();
  syslog_tls_sender sender(config_for(server, stranger_identity().cert_pem));
  REQUIRE(sender.enqueue(format_rfc5424(sample_event())));

  REQUIRE(eventually([&] { return !sender.stats().last_error.empty(); }));
  REQUIRE(eventually([&] { return server.failed_handshakes() >= 1; }));
  const auto stats = sender.stats();
  CHECK_FALSE(stats.connected);
  CHECK(stats.last_error.find("verification") != std::string::npos);
  CHECK(stats.sent == 0);
  CHECK(stats.queued == 1);
  CHECK(server.handshakes() == 0);
  CHECK(server.received().empty());
}

TEST_CASE("MON-2 a receiver certificate for another name is refused") {
  tls_test_server server(server_identity());
  server.start();
  auto config = config_for(server, server_identity().cert_pem);
  config.expected_name = "other.ward.test";
  syslog_tls_sender sender(config);
  REQUIRE(sender.enqueue(format_rfc5424(sample_event())));

  REQUIRE(eventually([&] { return !sender.stats().last_error.empty(); }));
  const auto stats = sender.stats();
  CHECK_FALSE(stats.connected);
  CHECK(stats.last_error.find("verification") != std::string::npos);
  CHECK(stats.sent == 0);
  CHECK(server.received().empty());
}

TEST_CASE("MON-2 the expected DNS name is checked against the SAN") {
  tls_test_server server(server_identity());
  server.start();
  auto config = config_for(server, server_identity().cert_pem);
  config.expected_name = "syslog.ward.test";
  syslog_tls_sender sender(config);
  const std::string line = format_rfc5424(sample_event());
  REQUIRE(sender.enqueue(line));
  REQUIRE(eventually([&] { return server.received() == frame_octet_counted(line); }));
  CHECK(sender.stats().connected);
}

TEST_CASE("MON-2 messages queued while the receiver is down arrive once it listens") {
  tls_test_server server(server_identity());
  syslog_tls_sender sender(config_for(server, server_identity().cert_pem));
  const std::string first = format_rfc5424(sample_event());
  auto second_event = sample_event();
  second_event.message = "second";
  const std::string second = format_rfc5424(second_event);
  REQUIRE(sender.enqueue(first));
  REQUIRE(sender.enqueue(second));

  REQUIRE(eventually([&] { return !sender.stats().last_error.empty(); }));
  CHECK(sender.stats().last_error.find("refused") != std::string::npos);
  CHECK(sender.stats().queued == 2);
  CHECK(sender.stats().sent == 0);

  server.start();
  const std::string expected = frame_octet_counted(first) + frame_octet_counted(second);
  REQUIRE(eventually([&] { return server.received().size() >= expected.size(); }));
  CHECK(server.received() == expected);
  REQUIRE(eventually([&] { return sender.stats().sent == 2; }));
}

TEST_CASE("MON-2 a full queue refuses and counts the drop") {
  tls_test_server server(server_identity()); // bound, never listening: nothing is sent
  auto config = config_for(server, server_identity().cert_pem);
  config.max_queue = 2;
  syslog_tls_sender sender(config);
  CHECK(sender.enqueue("one"));
  CHECK(sender.enqueue("two"));
  CHECK_FALSE(sender.enqueue("three"));
  const auto stats = sender.stats();
  CHECK(stats.dropped == 1);
  CHECK(stats.queued == 2);
  CHECK(stats.sent == 0);
}

TEST_CASE("MON-2 the destructor returns promptly while a handshake hangs") {
  // A listener that never accepts: the kernel completes TCP, but no ServerHello comes, so
  // the sender sits in its handshake wait with a 5 s timeout.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  REQUIRE(::listen(fd, 8) == 0);

  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = ntohs(address.sin_port);
  config.trusted_ca_pem = server_identity().cert_pem;
  config.io_timeout = 5000ms;
  auto sender = std::make_unique<syslog_tls_sender>(config);
  sender->enqueue("waiting");
  std::this_thread::sleep_for(100ms);
  CHECK(sender->stats().last_error.empty());

  const auto start = std::chrono::steady_clock::now();
  sender.reset();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  ::close(fd);
}

TEST_CASE("MON-2 over TCP the messages arrive octet-counted, with no certificate involved") {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = ntohs(address.sin_port);
  config.transport = syslog_transport::tcp;
  CHECK(syslog_tls_sender::check_config(config).has_value());
  syslog_tls_sender sender(config);
  const std::string line = format_rfc5424(sample_event());
  REQUIRE(sender.enqueue(line));
  REQUIRE(sender.enqueue(line));
  int connection = ::accept(listener, nullptr, nullptr);
  REQUIRE(connection >= 0);
  const std::string expected = frame_octet_counted(line) + frame_octet_counted(line);
  std::string received;
  timeval timeout{2, 0};
  ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char buffer[4096];
  while (received.size() < expected.size()) {
    auto got = ::recv(connection, buffer, sizeof buffer, 0);
    if (got <= 0)
      break;
    received.append(buffer, static_cast<std::size_t>(got));
  }
  CHECK(received == expected);
  REQUIRE(eventually([&] { return sender.stats().sent == 2; }));
  ::close(connection);
  ::close(listener);
}

TEST_CASE("MON-2 over UDP each message is one datagram, unframed") {
  int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(receiver >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(receiver, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  timeval timeout{2, 0};
  ::setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = ntohs(address.sin_port);
  config.transport = syslog_transport::udp;
  syslog_tls_sender sender(config);
  std::vector<std::string> lines;
  for (const char* text : {"first", "second"}) {
    auto event = sample_event();
    event.message = text;
    lines.push_back(format_rfc5424(event));
    REQUIRE(sender.enqueue(lines.back()));
  }
  char buffer[4096];
  for (const auto& line : lines) {
    auto got = ::recv(receiver, buffer, sizeof buffer, 0);
    REQUIRE(got > 0);
    CHECK(std::string(buffer, static_cast<std::size_t>(got)) == line);
  }
  ::close(receiver);
}

TEST_CASE("MON-2 a TLS receiver needs a CA; TCP and UDP receivers do not") {
  syslog_tls_config config;
  config.address = "127.0.0.1";
  config.port = 6514;
  CHECK_FALSE(syslog_tls_sender::check_config(config).has_value());
  for (auto transport : {syslog_transport::tcp, syslog_transport::udp}) {
    config.transport = transport;
    CHECK(syslog_tls_sender::check_config(config).has_value());
  }
  CHECK(parse_syslog_transport("udp") == syslog_transport::udp);
  CHECK_FALSE(parse_syslog_transport("sctp").has_value());
}
