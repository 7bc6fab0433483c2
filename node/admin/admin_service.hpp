#pragma once

#include <functional>
#include <string>

#include "actors/status_actor.hpp"

#include <grpcpp/impl/service_type.h>

#include <memory>

namespace caf {
class actor_system;
}

namespace ward::node {

/// The admin gRPC API (proto/admin.proto). Handlers are thin: each asks the actor that
/// owns the answer and translates the reply.
/// `is_line_connection` tells, by gRPC peer string, whether a call came over the line
/// port; those calls are refused.
std::unique_ptr<grpc::Service>
make_admin_service(caf::actor_system& system, actors::status_actor status,
                   std::function<bool(const std::string&)> is_line_connection = {});

} // namespace ward::node
