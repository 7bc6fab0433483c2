#include "cli/commands/commands.hpp"

namespace ward::cli {

void add_cluster_commands(CLI::App& app, command_table& table) {
  namespace pb = admin::v1;
  auto* cluster = add_group(app, "cluster", "The cluster as this node sees it over its lines");
  table.unary(
      cluster->add_subcommand(
          "status", "Nodes, roles, line state and security, certificates, replication and events"),
      rpc{target_service::status, &pb::Cluster::Stub::Status, "/ward.admin.v1.Cluster/Status"});
  struct events_query {
    std::string node;
    std::uint64_t after = 0;
    unsigned limit = 100;
  };
  auto& q = table.hold<events_query>();
  auto* events =
      cluster->add_subcommand("events", "Audit records and alarms a node forwarded to the primary");
  events
      ->add_option("--node", q.node,
                   "Whose events to list: a node name, or syslog:<address> for a device whose "
                   "syslog the primary received (see `wardctl cluster sources`)")
      ->required();
  events->add_option("--after", q.after, "Only records after this sequence number");
  events->add_option("--limit", q.limit)->capture_default_str();
  table.unary(events, rpc{target_service::security, &pb::Cluster::Stub::Events}, [&q] {
    pb::ClusterEventsRequest request;
    request.set_node(q.node);
    request.set_after_sequence(q.after);
    request.set_limit(q.limit);
    return request;
  });
  table.unary(
      cluster->add_subcommand(
          "sources", "Whose events the primary keeps: nodes and syslog devices, with counts"),
      rpc{target_service::security, &pb::Cluster::Stub::EventSources});
}

} // namespace ward::cli
