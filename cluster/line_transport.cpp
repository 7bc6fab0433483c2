#include "cluster/line_transport.hpp"

#include "cluster/line_actor.hpp"
#include "cluster/line_identity.hpp"
#include "pki/certificate_check.hpp"
#include "pki/tls_policy.hpp"
#include "pki/trust_store.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <grpcpp/create_channel_posix.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace ward::cluster {
namespace {

std::shared_ptr<spdlog::logger> line_log() {
  static const auto named = [] {
    auto found = spdlog::get("line");
    return found ? found : spdlog::default_logger()->clone("line");
  }();
  return named;
}

} // namespace

frame_writer::frame_writer(std::function<bool(const line::Frame&)> write,
                           std::function<void()> cancel)
    : write_(std::move(write)), cancel_(std::move(cancel)), thread_([this] { run(); }) {}

frame_writer::~frame_writer() {
  close();
}

bool frame_writer::send(line::Frame frame) {
  {
    std::lock_guard lock(mutex_);
    if (closed_)
      return false;
    if (queue_.size() < max_queued) {
      queue_.push_back(std::move(frame));
      wake_.notify_one();
      return true;
    }
  }
  // A peer this far behind is treated as gone; it catches up from persistent state.
  close();
  return false;
}

void frame_writer::close_and_cancel() {
  // Held while taking and running the cancel, and taken by every path that does: a second
  // close() returns only after the first one's cancel is done, so the stream's owner may
  // destroy what the cancel touches as soon as its own close() returns.
  std::lock_guard cancelling(cancel_mutex_);
  std::function<void()> cancel;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    cancel = std::move(cancel_);
    cancel_ = nullptr;
    wake_.notify_all();
  }
  if (cancel)
    cancel();
}

void frame_writer::close() {
  close_and_cancel();
  if (thread_.get_id() != std::this_thread::get_id())
    std::call_once(joined_, [this] {
      if (thread_.joinable())
        thread_.join();
    });
}

bool frame_writer::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void frame_writer::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (closed_)
      return;
    auto frame = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    bool written = write_(frame);
    lock.lock();
    if (!written && !closed_) {
      lock.unlock();
      close_and_cancel();
      return;
    }
  }
}

line_service::line_service(caf::actor_system& system, caf::actor line_actor,
                           connection_lookup lookup)
    : system_(system), line_actor_(std::move(line_actor)), lookup_(std::move(lookup)) {}

grpc::Status line_service::Connect(grpc::ServerContext* context,
                                   grpc::ServerReaderWriter<line::Frame, line::Frame>* stream) {
  auto facts = lookup_(context->peer());
  if (!facts || facts->exporter_hex.empty())
    return {grpc::StatusCode::PERMISSION_DENIED, "lines are accepted over TLS only"};
  auto writer = std::make_shared<frame_writer>(
      [stream](const line::Frame& frame) { return stream->Write(frame); },
      [context] { context->TryCancel(); });
  // A connection that never says Hello must not hold this thread: it is cancelled after
  // hello_timeout.
  std::mutex hello_mutex;
  std::condition_variable hello_seen;
  bool said_hello = false;
  std::thread watchdog([&] {
    std::unique_lock lock(hello_mutex);
    if (!hello_seen.wait_for(lock, hello_timeout, [&] { return said_hello; }))
      writer->close();
  });
  line::Frame hello;
  bool read = stream->Read(&hello);
  {
    std::lock_guard lock(hello_mutex);
    said_hello = true;
  }
  hello_seen.notify_all();
  watchdog.join();
  if (!read || !hello.has_hello() || writer->closed()) {
    writer->close();
    return {grpc::StatusCode::INVALID_ARGUMENT, "a line starts with Hello"};
  }
  line_accept_reply reply;
  {
    caf::scoped_actor self{system_};
    self->request(line_actor_, std::chrono::seconds(10), line_accept{hello, *facts, writer})
        .receive([&](line_accept_reply& answer) { reply = std::move(answer); },
                 [&](caf::error&) { reply.refusal = "the node is not accepting lines"; });
  }
  if (!reply.accepted) {
    writer->close();
    return {grpc::StatusCode::UNAUTHENTICATED, reply.refusal};
  }
  line::Frame frame;
  while (stream->Read(&frame)) {
    caf::anon_send(reply.line, inbound_frame{std::move(frame)});
    frame = line::Frame{};
  }
  caf::anon_send(reply.line, line_closed{"the far end closed the line"});
  writer->close();
  return grpc::Status::OK;
}

line_dialer::line_dialer(caf::actor_system& system, caf::actor line_actor, line_target target,
                         dial_fn dial, random_source random)
    : system_(system), line_actor_(std::move(line_actor)), target_(std::move(target)),
      dial_(std::move(dial)), random_(std::move(random)), thread_([this] { run(); }) {}

line_dialer::~line_dialer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (active_)
      active_->TryCancel();
    wake_.notify_all();
  }
  thread_.join();
}

bool line_dialer::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void line_dialer::run() {
  unsigned attempt = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_)
        return;
    }
    auto ended = connect_once(attempt);
    auto delay = reconnect_delay(attempt, random_);
    line_log()->info("event=line_ended line={} reason=\"{}\" retry_ms={}", target_.name, ended,
                     delay.count());
    ++attempt;
    if (!pause(delay))
      return;
  }
}

std::string line_dialer::connect_once(unsigned& attempt) {
  std::optional<dial_material> material;
  {
    caf::scoped_actor self{system_};
    self->request(line_actor_, std::chrono::seconds(5), dial_material_request{target_.name})
        .receive([&](dial_material& answer) { material = std::move(answer); }, [&](caf::error&) {});
  }
  if (!material)
    return "the line actor did not answer";
  // Dialling before the node's identity is known would enrol a node that already is.
  if (!material->ready)
    return "the node's certificates are not loaded yet";
  bool full = material->enrolled;
  auto strength = material->security == line_security::high && full ? pki::tls_strength::high
                                                                    : pki::tls_strength::medium;
  // A self-signed identity has no chain to send.
  auto ctx = pki::make_client_context(
      strength, material->minimum_tls,
      pki::tls_client_material{material->key_pem, material->certificate_pem,
                               full ? material->chain_pem : std::string{}});
  if (!ctx)
    return "cannot build the TLS client context: " + ctx.error().detail;
  auto connection = dial_(target_.address, target_.port, *ctx);
  if (!connection)
    return connection.error().detail;
  // Ours until gRPC takes it below.
  struct fd_guard {
    int fd;
    ~fd_guard() {
      if (fd >= 0)
        ::close(fd);
    }
  } unhanded{connection->grpc_fd};

  // Until the node is enrolled it holds nothing to check the server against; the
  // server's password proof below authenticates it instead.
  if (full) {
    line_server_expectation expected{target_.name,
                                     target_.address,
                                     material->security,
                                     material->anchors_pem,
                                     material->pins,
                                     material->certificate_pem,
                                     material->revoked_serials,
                                     std::chrono::system_clock::now()};
    auto graded = check_line_server(connection->peer_chain, expected);
    if (!graded.ok()) {
      auto cause = "server certificate refused (" + std::string(pki::to_string(graded.failure)) +
                   "): " + graded.detail;
      caf::anon_send(line_actor_, dial_failed{target_, cause});
      return cause;
    }
  }

  unhanded.fd = -1;
  auto channel = grpc::CreateInsecureChannelFromFd("line-" + target_.name, connection->grpc_fd);
  auto stub = line::Line::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_)
      return "stopping";
    active_ = &context;
  }
  auto forget_context = [this] {
    std::lock_guard lock(mutex_);
    active_ = nullptr;
  };
  auto stream = stub->Connect(&context);
  line::Frame hello;
  auto* h = hello.mutable_hello();
  h->set_node(material->node);
  h->set_role(material->role);
  h->set_proof(line_proof(material->password, line_side::client, connection->exporter_hex,
                          material->node, material->role));
  h->set_settings_version(material->settings_version);
  line::Frame welcome;
  if (!stream->Write(hello) || !stream->Read(&welcome) || !welcome.has_welcome()) {
    context.TryCancel();
    auto status = stream->Finish();
    forget_context();
    auto cause = "line refused: " + status.error_message();
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      caf::anon_send(line_actor_, dial_failed{target_, cause});
    return cause;
  }
  const auto& w = welcome.welcome();
  if (!proofs_match(line_proof(material->password, line_side::server, connection->exporter_hex,
                               w.node(), w.role()),
                    w.proof())) {
    context.TryCancel();
    (void)stream->Finish();
    forget_context();
    std::string cause = "the line server did not prove the line password";
    caf::anon_send(line_actor_, dial_failed{target_, cause});
    return cause;
  }

  auto writer = std::make_shared<frame_writer>(
      [s = stream.get()](const line::Frame& frame) { return s->Write(frame); },
      [&context] { context.TryCancel(); });
  line_dialed dialed{target_, welcome, writer, {}, {}, 0, {}};
  if (!connection->peer_chain.empty()) {
    dialed.peer_pem = connection->peer_chain.front().to_pem().value_or("");
    dialed.peer_subject = connection->peer_chain.front().subject();
    dialed.peer_issuer = connection->peer_chain.front().issuer_label();
    dialed.peer_days_left =
        connection->peer_chain.front().days_until_expiry(std::chrono::system_clock::now());
  }
  caf::actor line;
  {
    caf::scoped_actor self{system_};
    self->request(line_actor_, std::chrono::seconds(5), std::move(dialed))
        .receive([&](line_accept_reply& answer) { line = answer.line; }, [&](caf::error&) {});
  }
  std::string ended = "the line server closed the line";
  if (line) {
    attempt = 0;
    line::Frame frame;
    while (stream->Read(&frame)) {
      caf::anon_send(line, inbound_frame{std::move(frame)});
      frame = line::Frame{};
    }
    caf::anon_send(line, line_closed{ended});
  } else {
    ended = "the line actor did not take the line";
  }
  writer->close();
  context.TryCancel();
  auto status = stream->Finish();
  forget_context();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
    ended = status.error_message();
  return ended;
}

} // namespace ward::cluster
