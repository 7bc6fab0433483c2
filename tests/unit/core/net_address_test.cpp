#include "core/net_address.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <string>

using namespace ward;

namespace {

ip_address ip(std::string_view text) {
  auto parsed = parse_ip_address(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

} // namespace

TEST_CASE("parse_ip_address accepts numeric IPv4 and IPv6") {
  auto v4 = ip("192.0.2.1");
  CHECK(v4.family == ip_family::v4);
  CHECK(v4.octets().size() == 4);
  CHECK(v4.bytes[0] == 192);
  CHECK(v4.bytes[3] == 1);
  CHECK(v4.bytes[4] == 0);
  auto v6 = ip("2001:db8::1");
  CHECK(v6.family == ip_family::v6);
  CHECK(v6.octets().size() == 16);
  CHECK(v6.bytes[0] == 0x20);
  CHECK(v6.bytes[15] == 1);
  CHECK(ip("::ffff:192.0.2.1").family == ip_family::v6);
  CHECK(is_ip_literal("0:0:0:0:0:ffff:255.255.255.255"));
}

TEST_CASE("parse_ip_address refuses everything that is not a numeric literal") {
  for (std::string_view text :
       {"", "localhost", "127.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4:5060",
        "[::1]", "fe80::1%eth0", "1.2.3.4/8", " 1.2.3.4", "1.2.3.4 ", ":::", "12345::1"})
    CHECK_MESSAGE(parse_ip_address(text).error() == address_errc::not_numeric, text);
  CHECK_FALSE(is_ip_literal(std::string_view("1.2.3.4\0junk", 12)));
  CHECK_FALSE(is_ip_literal(std::string(64, '1')));
}

TEST_CASE("to_string writes the canonical form") {
  CHECK(to_string(ip("2001:0db8:0000::0001")) == "2001:db8::1");
  CHECK(to_string(ip("10.0.0.1")) == "10.0.0.1");
  CHECK(to_string(ip_endpoint{ip("10.0.0.1"), 5060}) == "10.0.0.1:5060");
  CHECK(to_string(ip_endpoint{ip("::1"), 5061}) == "[::1]:5061");
}

TEST_CASE("unmapped and v4_mapped convert between IPv4 and IPv4-mapped IPv6") {
  CHECK(unmapped(ip("::ffff:192.0.2.1")) == ip("192.0.2.1"));
  CHECK(unmapped(ip("2001:db8::1")) == ip("2001:db8::1"));
  CHECK(unmapped(ip("192.0.2.1")) == ip("192.0.2.1"));
  CHECK(v4_mapped(ip("192.0.2.1")) == ip("::ffff:192.0.2.1"));
  CHECK(v4_mapped(ip("::1")) == ip("::1"));
  CHECK(ip("1.2.3.4") != ip("::ffff:1.2.3.4"));
}

TEST_CASE("is_unspecified and is_multicast judge the address in its own family") {
  CHECK(is_unspecified(ip("0.0.0.0")));
  CHECK(is_unspecified(ip("::")));
  CHECK_FALSE(is_unspecified(ip("::1")));
  CHECK(is_multicast(ip("224.0.0.1")));
  CHECK(is_multicast(ip("239.255.255.255")));
  CHECK_FALSE(is_multicast(ip("240.0.0.1")));
  CHECK(is_multicast(ip("ff02::1")));
  CHECK_FALSE(is_multicast(ip("::ffff:224.0.0.1")));
}

TEST_CASE("socket addresses round-trip with their port and length") {
  auto v4 = to_socket_address({ip("192.0.2.1"), 5060});
  CHECK(v4.storage.ss_family == AF_INET);
  CHECK(v4.length == sizeof(sockaddr_in));
  CHECK(ntohs(reinterpret_cast<const sockaddr_in&>(v4.storage).sin_port) == 5060);
  auto back = from_socket_address(v4.storage);
  REQUIRE(back.has_value());
  CHECK(back->address == ip("192.0.2.1"));
  CHECK(back->port == 5060);

  auto v6 = to_socket_address({ip("::ffff:192.0.2.1"), 1});
  CHECK(v6.storage.ss_family == AF_INET6);
  CHECK(v6.length == sizeof(sockaddr_in6));
  auto mapped = from_socket_address(v6.storage);
  REQUIRE(mapped.has_value());
  CHECK(mapped->address == ip("::ffff:192.0.2.1"));
  CHECK(mapped->port == 1);

  sockaddr_storage other{};
  other.ss_family = AF_UNIX;
  CHECK_FALSE(from_socket_address(other).has_value());
}

TEST_CASE("split_host_port splits at the last colon and strips brackets") {
  auto v4 = split_host_port("192.0.2.1:5060");
  REQUIRE(v4.has_value());
  CHECK(v4->host == "192.0.2.1");
  CHECK(v4->port == 5060);
  auto v6 = split_host_port("[2001:db8::1]:65535");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "2001:db8::1");
  CHECK(v6->port == 65535);
  CHECK(split_host_port("name:1")->host == "name");
  for (std::string_view text : {"192.0.2.1", ":5060", "h:0", "h:65536", "h:", "h:+1", "h:1x"})
    CHECK_MESSAGE(split_host_port(text).error() == address_errc::bad_port, text);
}

TEST_CASE("join_host_port brackets hosts with a colon") {
  CHECK(join_host_port("10.0.0.1", 5060) == "10.0.0.1:5060");
  CHECK(join_host_port("ward.test", 443) == "ward.test:443");
  CHECK(join_host_port("::", 0) == "[::]:0");
  CHECK(join_host_port("", 1) == ":1");
}

TEST_CASE("parse_cidr reads blocks and single hosts") {
  auto block = parse_cidr("10.0.0.0/8");
  REQUIRE(block.has_value());
  CHECK(block->prefix == 8);
  CHECK(contains(*block, ip("10.255.0.1")));
  CHECK_FALSE(contains(*block, ip("11.0.0.1")));
  CHECK_FALSE(contains(*block, ip("::ffff:10.0.0.1")));
  CHECK(parse_cidr("192.0.2.1")->prefix == 32);
  CHECK(parse_cidr("::1")->prefix == 128);
  auto v6 = parse_cidr("2001:db8::/33");
  REQUIRE(v6.has_value());
  CHECK(contains(*v6, ip("2001:db8:7fff::1")));
  CHECK_FALSE(contains(*v6, ip("2001:db8:8000::1")));
  CHECK(contains(*parse_cidr("0.0.0.0/0"), ip("255.255.255.255")));
  CHECK(parse_cidr("10.0.0.0/008")->prefix == 8);
}

TEST_CASE("parse_cidr refuses bad addresses, prefixes and host bits") {
  CHECK(parse_cidr("ward.test/8").error() == address_errc::not_numeric);
  CHECK(parse_cidr("/8").error() == address_errc::not_numeric);
  CHECK(parse_cidr("10.0.0.0/").error() == address_errc::bad_prefix);
  CHECK(parse_cidr("10.0.0.0/0008").error() == address_errc::bad_prefix);
  CHECK(parse_cidr("10.0.0.0/8a").error() == address_errc::bad_prefix);
  CHECK(parse_cidr("10.0.0.0/33").error() == address_errc::prefix_too_long);
  CHECK(parse_cidr("::/129").error() == address_errc::prefix_too_long);
  CHECK(parse_cidr("10.0.0.1/8").error() == address_errc::host_bits_set);
  CHECK(parse_cidr("2001:db8::1/64").error() == address_errc::host_bits_set);
  CHECK(to_string(address_errc::host_bits_set) == "host_bits_set");
}
