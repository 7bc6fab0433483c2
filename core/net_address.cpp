#include "core/net_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ward {

namespace {

constexpr std::array<unsigned char, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int af_of(ip_family family) {
  return family == ip_family::v4 ? AF_INET : AF_INET6;
}

/// Where a socket address of the family in `storage` keeps its address bytes and port.
struct socket_fields {
  void* address;
  in_port_t* port;
  socklen_t length;
};

socket_fields fields_of(sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
    return {&v4.sin_addr, &v4.sin_port, sizeof(sockaddr_in)};
  }
  auto& v6 = reinterpret_cast<sockaddr_in6&>(storage);
  return {&v6.sin6_addr, &v6.sin6_port, sizeof(sockaddr_in6)};
}

bool is_mapped(const ip_address& address) {
  return address.family == ip_family::v6 &&
         std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), address.bytes.begin());
}

} // namespace

std::expected<ip_address, address_errc> parse_ip_address(std::string_view text) {
  // INET6_ADDRSTRLEN bounds every numeric form. The copy gives inet_pton its C string; an
  // embedded NUL would make it read only a prefix of the text, so it is refused.
  std::array<char, INET6_ADDRSTRLEN> terminated;
  if (text.empty() || text.size() >= terminated.size() ||
      std::memchr(text.data(), '\0', text.size()) != nullptr)
    return std::unexpected(address_errc::not_numeric);
  std::memcpy(terminated.data(), text.data(), text.size());
  terminated[text.size()] = '\0';
  ip_address address;
  if (std::memchr(text.data(), ':', text.size()) != nullptr)
    address.family = ip_family::v6;
  if (::inet_pton(af_of(address.family), terminated.data(), address.bytes.data()) != 1)
    return std::unexpected(address_errc::not_numeric);
  return address;
}

bool is_ip_literal(std::string_view text) {
  return parse_ip_address(text).has_value();
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

std::string to_string(const ip_address& address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (!::inet_ntop(af_of(address.family), address.bytes.data(), text.data(), text.size()))
    return {};
  return text.data();
}

std::string to_string(const ip_endpoint& endpoint) {
  return join_host_port(to_string(endpoint.address), endpoint.port);
}

ip_address unmapped(const ip_address& address) {
  if (!is_mapped(address))
    return address;
  ip_address v4;
  std::copy_n(address.bytes.begin() + 12, 4, v4.bytes.begin());
  return v4;
}

ip_address v4_mapped(const ip_address& address) {
  if (address.family == ip_family::v6)
    return address;
  ip_address v6{ip_family::v6, {}};
  std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), v6.bytes.begin());
  std::copy_n(address.bytes.begin(), 4, v6.bytes.begin() + 12);
  return v6;
}

bool is_unspecified(const ip_address& address) {
  auto octets = address.octets();
  return std::all_of(octets.begin(), octets.end(), [](unsigned char b) { return b == 0; });
}

bool is_multicast(const ip_address& address) {
  if (address.family == ip_family::v4)
    return address.bytes[0] >= 224 && address.bytes[0] <= 239;
  return address.bytes[0] == 0xff;
}

socket_address to_socket_address(const ip_endpoint& endpoint) {
  socket_address out;
  out.storage.ss_family = static_cast<sa_family_t>(af_of(endpoint.address.family));
  const auto fields = fields_of(out.storage);
  const auto octets = endpoint.address.octets();
  std::memcpy(fields.address, octets.data(), octets.size());
  *fields.port = htons(endpoint.port);
  out.length = fields.length;
  return out;
}

std::optional<ip_endpoint> from_socket_address(const sockaddr_storage& storage) {
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6)
    return std::nullopt;
  auto copy = storage;
  const auto fields = fields_of(copy);
  ip_endpoint out;
  out.address.family = copy.ss_family == AF_INET ? ip_family::v4 : ip_family::v6;
  std::memcpy(out.address.bytes.data(), fields.address, out.address.octets().size());
  out.port = ntohs(*fields.port);
  return out;
}

std::expected<host_port, address_errc> split_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::unexpected(address_errc::bad_port);
  auto digits = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
    return std::unexpected(address_errc::bad_port);
  return host_port{strip_brackets(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos)
    out.append("[").append(host).append("]");
  else
    out.append(host);
  return out.append(":").append(std::to_string(port));
}

std::expected<ip_network, address_errc> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address)
    return std::unexpected(address.error());
  const unsigned bits = address->family == ip_family::v4 ? 32 : 128;
  ip_network block{*address, bits};
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3)
      return std::unexpected(address_errc::bad_prefix);
    block.prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9')
        return std::unexpected(address_errc::bad_prefix);
      block.prefix = block.prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (block.prefix > bits)
      return std::unexpected(address_errc::prefix_too_long);
  }
  for (unsigned bit = block.prefix; bit < bits; ++bit)
    if (block.network.bytes[bit / 8] & (0x80u >> (bit % 8)))
      return std::unexpected(address_errc::host_bits_set);
  return block;
}

bool contains(const ip_network& block, const ip_address& address) {
  if (block.network.family != address.family)
    return false;
  unsigned full = block.prefix / 8;
  if (!std::equal(block.network.bytes.begin(), block.network.bytes.begin() + full,
                  address.bytes.begin()))
    return false;
  unsigned rest = block.prefix % 8;
  if (rest == 0)
    return true;
  auto mask = static_cast<unsigned char>(0xffu << (8 - rest));
  return (block.network.bytes[full] & mask) == (address.bytes[full] & mask);
}

} // namespace ward
