// Login load against a running ward-node: an open-loop phase at a fixed rate (latency
// percentiles) and a closed-loop phase with several clients (throughput). Bounded in
// count and time; talks only to the endpoint it is given.
#include "admin.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

std::shared_ptr<grpc::Channel> channel_to(const std::string& endpoint) {
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_verify_server_certs(false);
  tls.set_check_call_host(false);
  tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::CreateChannel(endpoint, grpc::experimental::TlsCredentials(tls));
}

double login_ms(ward::admin::v1::Session::Stub& stub, const std::string& user,
                const std::string& password, bool& ok) {
  ward::admin::v1::LoginRequest request;
  request.set_name(user);
  request.set_password(password);
  ward::admin::v1::LoginReply reply;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto start = steady::now();
  ok = stub.Login(&context, request, &reply).ok();
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
  return values[index];
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: ward_bench_login ENDPOINT USER PASSWORD RATE SECONDS CLIENTS\n";
    return 2;
  }
  std::string endpoint = argv[1], user = argv[2], password = argv[3];
  double rate = std::stod(argv[4]);
  int seconds = std::stoi(argv[5]);
  int clients = std::stoi(argv[6]);
  auto channel = channel_to(endpoint);
  auto stub = ward::admin::v1::Session::NewStub(channel);

  // Warm-up: the TLS connection and the first hash.
  bool ok = false;
  login_ms(*stub, user, password, ok);
  if (!ok) {
    std::cerr << "ward_bench_login: warm-up login failed\n";
    return 1;
  }

  // Open loop at `rate` logins/s: latency under a steady offered load.
  std::vector<double> latencies;
  std::mutex latencies_mutex;
  std::atomic<int> failures{0};
  std::vector<std::thread> inflight;
  auto interval = std::chrono::duration<double>(1.0 / rate);
  auto start = steady::now();
  int total = static_cast<int>(rate * seconds);
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<steady::duration>(interval * i));
    inflight.emplace_back([&] {
      bool accepted = false;
      auto ms = login_ms(*stub, user, password, accepted);
      std::lock_guard lock(latencies_mutex);
      latencies.push_back(ms);
      if (!accepted)
        ++failures;
    });
  }
  for (auto& t : inflight)
    t.join();
  std::printf("login_open_loop_rate_per_s %.1f\n", rate);
  std::printf("login_open_loop_p50_ms %.1f\n", percentile(latencies, 50));
  std::printf("login_open_loop_p99_ms %.1f\n", percentile(latencies, 99));
  std::printf("login_open_loop_max_ms %.1f\n", percentile(latencies, 100));
  std::printf("login_open_loop_failures %d\n", failures.load());

  // Closed loop with `clients` callers for `seconds`: the most the node sustains.
  std::atomic<int> done{0};
  auto deadline = steady::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> workers;
  for (int c = 0; c < clients; ++c)
    workers.emplace_back([&] {
      while (steady::now() < deadline) {
        bool accepted = false;
        login_ms(*stub, user, password, accepted);
        if (accepted)
          ++done;
      }
    });
  auto closed_start = steady::now();
  for (auto& t : workers)
    t.join();
  double elapsed = std::chrono::duration<double>(steady::now() - closed_start).count();
  std::printf("login_throughput_per_s %.1f (%d clients)\n", done.load() / elapsed, clients);
  return failures.load() == 0 ? 0 : 1;
}
