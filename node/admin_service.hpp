#pragma once

#include "actors/status_actor.hpp"

#include <grpcpp/impl/service_type.h>

#include <memory>

namespace caf {
class actor_system;
}

namespace ward::node {

/// The admin gRPC API (proto/admin.proto). Handlers are thin: each asks the actor that
/// owns the answer and translates the reply.
std::unique_ptr<grpc::Service> make_admin_service(caf::actor_system& system,
                                                  actors::status_actor status);

} // namespace ward::node
