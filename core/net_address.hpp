#pragma once

#include "core/enum_names.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ward {

/// The version of an IP address.
enum class ip_family : std::uint8_t { v4, v6 };

/// A numeric IP address in network byte order. An IPv4 address uses the first four bytes and
/// keeps the rest zero, so that `==` compares addresses.
struct ip_address {
  ip_family family = ip_family::v4;
  std::array<unsigned char, 16> bytes{};

  /// The 4 or 16 bytes of the address.
  std::span<const unsigned char> octets() const {
    return {bytes.data(), family == ip_family::v4 ? 4u : 16u};
  }
  bool operator==(const ip_address&) const = default;
};

/// An address with a port, as a socket sees its peer.
struct ip_endpoint {
  ip_address address;
  std::uint16_t port = 0;
};

/// A block of addresses: `network` with its first `prefix` bits significant.
struct ip_network {
  ip_address network;
  /// At most 32 for IPv4, 128 for IPv6.
  unsigned prefix = 0;
};

/// A host and a port split from "host:port" or "[v6]:port".
struct host_port {
  /// The host without the brackets around an IPv6 literal; not checked to be an address.
  std::string_view host;
  std::uint16_t port = 0;
};

/// Why a text is not the address it should be. Callers that show the failure to an admin
/// keep their own wording; the code is for decisions.
enum class address_errc : std::uint8_t {
  /// Not a numeric IPv4 (dotted quad) or IPv6 literal: empty, a host name, a zone, brackets,
  /// an IPv4 short form ("127.1") or trailing characters.
  not_numeric,
  /// "host:port" without a colon, with an empty host, or a port that is not 1 to 65535.
  bad_port,
  /// A CIDR prefix length that is empty, longer than three characters or not decimal.
  bad_prefix,
  /// A CIDR prefix length beyond the family's bits (32 or 128).
  prefix_too_long,
  /// A CIDR network with bits set past its prefix length ("10.0.0.1/8").
  host_bits_set,
};

inline constexpr auto address_errc_names =
    name_table(enum_name{address_errc::not_numeric, "not_numeric"},
               enum_name{address_errc::bad_port, "bad_port"},
               enum_name{address_errc::bad_prefix, "bad_prefix"},
               enum_name{address_errc::prefix_too_long, "prefix_too_long"},
               enum_name{address_errc::host_bits_set, "host_bits_set"});

constexpr std::string_view to_string(address_errc code) {
  return name_of(address_errc_names, code);
}

/// Parses a numeric IPv4 or IPv6 address with inet_pton's rules: no host names (resolving
/// one would block and let DNS choose a peer), no brackets, zones or ports. A text with a
/// colon is IPv6, so "::ffff:1.2.3.4" stays an IPv6 (v4-mapped) address.
std::expected<ip_address, address_errc> parse_ip_address(std::string_view text);

/// Whether `text` is a numeric IPv4 or IPv6 address (see parse_ip_address).
bool is_ip_literal(std::string_view text);

/// `host` without the brackets URLs put around an IPv6 literal ("[::1]" -> "::1").
std::string_view strip_brackets(std::string_view host);

/// The canonical text of `address` (inet_ntop: dotted quad, RFC 5952 for IPv6).
std::string to_string(const ip_address& address);

/// "1.2.3.4:5060" or "[::1]:5060".
std::string to_string(const ip_endpoint& endpoint);

/// The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for; any other
/// address unchanged. Packets of an IPv4 peer of a dual-stack socket carry the mapped form.
ip_address unmapped(const ip_address& address);

/// An IPv4 address as IPv4-mapped IPv6, so that both families share one key space; an IPv6
/// address unchanged.
ip_address v4_mapped(const ip_address& address);

/// Whether every byte of the address is zero (0.0.0.0 or ::).
bool is_unspecified(const ip_address& address);

/// Whether the address is multicast in its own family (224/4 or ff00::/8); a v4-mapped
/// multicast address counts as IPv6 unicast here.
bool is_multicast(const ip_address& address);

/// A socket address of `endpoint`, with the length bind/connect/sendto want.
struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

socket_address to_socket_address(const ip_endpoint& endpoint);

/// The address and port of an AF_INET or AF_INET6 socket address (a v4-mapped peer stays
/// IPv6: see unmapped); nullopt for other families.
std::optional<ip_endpoint> from_socket_address(const sockaddr_storage& storage);

/// Splits "host:port" or "[v6]:port" at the last colon; the port must be decimal 1 to 65535.
/// The host is not parsed (see parse_ip_address), only stripped of its brackets.
std::expected<host_port, address_errc> split_host_port(std::string_view text);

/// "host:port", with brackets around a host that has a colon (an IPv6 literal), the way
/// URLs, gRPC targets and log lines write an endpoint.
std::string join_host_port(std::string_view host, std::uint16_t port);

/// Parses "10.0.0.0/8", "2001:db8::/32", or a bare address (a single host). The prefix is
/// decimal (up to three digits), the bits past it must be zero.
std::expected<ip_network, address_errc> parse_cidr(std::string_view text);

/// Whether `address` lies in `block`; addresses of the other family never do.
bool contains(const ip_network& block, const ip_address& address);

} // namespace ward
