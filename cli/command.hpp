#pragma once

#include "cli/connection.hpp"
#include "cli/errors.hpp"
#include "cli/print.hpp"

#include "admin.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

/// How a wardctl command becomes a call: the global options, one RPC with the session
/// token, error reporting and exit codes, and the table of declared commands.
namespace ward::cli {

/// What the global options say; every command reads it after parsing.
struct cli_state {
  connection_options options;
  bool json = false;
  std::string session_file;
  /// --on NODE: the call is made through the primary and proxied over NODE's line.
  std::string on_node;
};

/// The commands `--on` works with, as its help and its refusal name them.
inline constexpr const char* node_scoped_commands =
    "status, audit list, audit verify, pki identity show, service-user list, service-user "
    "show, pki tcs list, cluster status, registrations, calls, calls history, blacklist list, "
    "alarms list, lockouts list";

/// A unary method of a generated gRPC stub.
template <class Stub, class Request, class Reply>
using method_of = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Reply*);

/// One RPC of the admin API and the service that answers it.
template <class Stub, class Request, class Reply> struct rpc {
  target_service target;
  method_of<Stub, Request, Reply> method;
  /// The full gRPC name of a node-scoped call, which `--on NODE` sends through the
  /// primary's Cluster.Proxy; null for a call made on the primary only.
  const char* node_scoped = nullptr;
  /// Whether the call carries the session token (status and health need none).
  bool with_token = true;
};

template <class Stub, class Request, class Reply>
rpc(target_service, method_of<Stub, Request, Reply>, const char* = nullptr, bool = true)
    -> rpc<Stub, Request, Reply>;

/// A stub over a new channel to `target`; a channel that cannot be made is a usage error.
template <class Stub>
std::unique_ptr<Stub> stub_for(const cli_state& state, target_service target) {
  auto channel = open_channel(state.options, target);
  if (!channel)
    throw usage_error(channel.error());
  return std::make_unique<Stub>(*channel);
}

/// Sets the deadline and, when `with_token`, the cached session token; refuses `--on`
/// for a call the primary makes itself.
void prepare_context(const cli_state& state, grpc::ClientContext& context, bool with_token);

/// Prints a failed call in one line and returns exit_remote_error.
int report_failure(const cli_state& state, target_service target, const grpc::Status& status);

/// Makes a node-scoped call on `state.on_node` through the primary's Cluster.Proxy.
int proxy(const cli_state& state, target_service target, const char* method_path,
          const google::protobuf::Message& request, google::protobuf::Message& reply);

/// Makes one call over `stub`; a failure is printed and gives exit_remote_error.
template <class Stub, class Request, class Reply>
int call(const cli_state& state, Stub& stub, const rpc<Stub, Request, Reply>& spec,
         const Request& request, Reply& reply) {
  if (spec.node_scoped && !state.on_node.empty())
    return proxy(state, spec.target, spec.node_scoped, request, reply);
  grpc::ClientContext context;
  prepare_context(state, context, spec.with_token);
  auto status = (stub.*spec.method)(&context, request, &reply);
  return status.ok() ? exit_ok : report_failure(state, spec.target, status);
}

/// Makes one call over a new channel.
template <class Stub, class Request, class Reply>
int call(const cli_state& state, const rpc<Stub, Request, Reply>& spec, const Request& request,
         Reply& reply) {
  auto stub = stub_for<Stub>(state, spec.target);
  return call(state, *stub, spec, request, reply);
}

/// Prints the reply of a call that succeeded, as text or with --json as JSON.
template <class Reply> int show(const cli_state& state, int code, const Reply& reply) {
  if (code != exit_ok)
    return code;
  if (state.json)
    std::cout << to_json(reply);
  else
    print(std::cout, reply);
  return exit_ok;
}

/// A request builder for with_argument(): the argument goes into the one string field
/// `field` gives access to.
template <class Request> auto into(std::string* (Request::*field)()) {
  return [field](const std::string& value) {
    Request request;
    *(request.*field)() = value;
    return request;
  };
}

/// Adds the command group `name` under `parent`; it needs one of its subcommands.
inline CLI::App* add_group(CLI::App& parent, const char* name, const char* help) {
  auto* group = parent.add_subcommand(name, help);
  group->require_subcommand(1);
  return group;
}

/// A subcommand that takes one required argument: `name` is a positional, or an option
/// when it starts with `-`.
struct one_argument {
  const char* verb;
  std::string help;
  const char* name;
  const char* description = "";
};

/// What a command does once the command line is parsed; returns the exit code.
using action = std::function<int()>;

/// Every command of wardctl with what it runs, and the storage its options are parsed
/// into.
class command_table {
public:
  explicit command_table(cli_state& state) : state_(state) {}

  const cli_state& state() const { return state_; }

  /// A value CLI11 parses an option into, kept as long as the table: an option bound to
  /// storage that dies earlier is written after it is freed.
  template <class T> T& hold() {
    auto held = std::make_shared<T>();
    held_.push_back(held);
    return *held;
  }

  /// Declares a hand-written command.
  void add(CLI::App* command, action run) { entries_.emplace_back(command, std::move(run)); }

  /// Declares a command that makes one call with the request `build()` returns and
  /// prints the reply.
  template <class Stub, class Request, class Reply, class Build>
  void unary(CLI::App* command, rpc<Stub, Request, Reply> spec, Build build) {
    add(command, [&state = state_, spec, build] {
      Request request = build();
      Reply reply;
      return show(state, call(state, spec, request, reply), reply);
    });
  }

  /// unary() for a call whose request has nothing to fill in.
  template <class Stub, class Request, class Reply>
  void unary(CLI::App* command, rpc<Stub, Request, Reply> spec) {
    unary(command, spec, [] { return Request{}; });
  }

  /// Declares a command whose call answers nothing: unless --json, `done()` says what
  /// was done.
  template <class Stub, class Request, class Build, class Done>
  void unary_done(CLI::App* command, rpc<Stub, Request, admin::v1::Empty> spec, Build build,
                  Done done) {
    add(command, [&state = state_, spec, build, done] {
      Request request = build();
      admin::v1::Empty reply;
      int code = call(state, spec, request, reply);
      if (code == exit_ok && !state.json)
        std::cout << done() << "\n";
      return code;
    });
  }

  /// Declares `spec.verb` under `group`, taking one required argument; `build(value)`
  /// makes the request. An empty reply is acknowledged as `deleted VALUE` unless --json:
  /// the calls here that answer nothing are deletions.
  template <class Stub, class Request, class Reply, class Build>
  void with_argument(CLI::App& group, const one_argument& spec, rpc<Stub, Request, Reply> call_spec,
                     Build build) {
    auto& value = hold<std::string>();
    auto* command = group.add_subcommand(spec.verb, spec.help);
    command->add_option(spec.name, value, spec.description)->required();
    auto request = [&value, build] { return build(value); };
    if constexpr (std::is_same_v<Reply, admin::v1::Empty>)
      unary_done(command, call_spec, request, [&value] { return "deleted " + value; });
    else
      unary(command, call_spec, request);
  }

  /// with_argument() for a call that takes a NameRequest.
  template <class Stub, class Reply>
  void by_name(CLI::App& group, const one_argument& spec,
               rpc<Stub, admin::v1::NameRequest, Reply> call_spec) {
    with_argument(group, spec, call_spec, into(&admin::v1::NameRequest::mutable_name));
  }

  /// Declares a command that reads settings with `get`, applies the change `prepare()`
  /// returns and writes them back with `set`, printing what the node then holds.
  /// `prepare()` runs before anything is sent, so it can refuse bad options first.
  template <class Stub, class Settings, class Prepare>
  void update(CLI::App* command, rpc<Stub, admin::v1::Empty, Settings> get,
              rpc<Stub, Settings, Settings> set, Prepare prepare) {
    add(command, [&state = state_, get, set, prepare] {
      auto change = prepare();
      auto stub = stub_for<Stub>(state, get.target);
      Settings current;
      if (int code = call(state, *stub, get, admin::v1::Empty{}, current); code != exit_ok)
        return code;
      change(current);
      Settings reply;
      return show(state, call(state, *stub, set, current, reply), reply);
    });
  }

  /// Runs the command the command line chose; nullopt when it chose none.
  std::optional<int> run_parsed() const;

private:
  cli_state& state_;
  std::vector<std::pair<CLI::App*, action>> entries_;
  std::vector<std::shared_ptr<void>> held_;
};

} // namespace ward::cli
