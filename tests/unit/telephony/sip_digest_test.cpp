#include "telephony/directory.hpp"
#include "telephony/sip_digest.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <random>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

std::string hex(const EVP_MD* md, std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, md, nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 0xf];
  }
  return out;
}

std::array<std::byte, 32> secret(std::uint8_t fill) {
  std::array<std::byte, 32> out{};
  out.fill(static_cast<std::byte>(fill));
  return out;
}

digest_credentials rfc2617_example() {
  digest_credentials c;
  c.username = "Mufasa";
  c.realm = "testrealm@host.com";
  c.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  c.uri = "/dir/index.html";
  c.qop = "auth";
  c.nc = "00000001";
  c.cnonce = "0a4f113b";
  c.response = "6629fae49393a05397450978507c4ef1";
  c.algorithm = digest_algorithm::md5;
  return c;
}

constexpr std::string_view rfc7616_header =
    "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
    "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
    "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
    "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

} // namespace

TEST_CASE("SIP-2 digest algorithms have their RFC names") {
  CHECK(to_string(digest_algorithm::md5) == "MD5");
  CHECK(to_string(digest_algorithm::sha256) == "SHA-256");
  CHECK(parse_digest_algorithm("sha-256") == digest_algorithm::sha256);
  CHECK(parse_digest_algorithm("MD5") == digest_algorithm::md5);
  CHECK_FALSE(parse_digest_algorithm("MD5-sess"));
  CHECK_FALSE(parse_digest_algorithm("SHA-512-256"));
  CHECK_FALSE(parse_digest_algorithm(""));
}

TEST_CASE("SIP-2 RFC 2617 section 3.5 example verifies with MD5") {
  auto ha1 = hex(EVP_md5(), "Mufasa:testrealm@host.com:Circle Of Life");
  CHECK(ha1 == "939e7578ed9e3c518a452acee763bce9");
  auto credentials = rfc2617_example();
  CHECK(verify_response(credentials, "GET", ha1));
  // Uppercase hex from a sloppy phone is the same digest.
  std::string upper_ha1 = ha1;
  for (auto& c : upper_ha1)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(verify_response(credentials, "GET", upper_ha1));
  CHECK_FALSE(verify_response(credentials, "POST", ha1));
  auto wrong = credentials;
  wrong.response[0] = '7';
  CHECK_FALSE(verify_response(wrong, "GET", ha1));
  wrong = credentials;
  wrong.nc = "00000002";
  CHECK_FALSE(verify_response(wrong, "GET", ha1));
  wrong = credentials;
  wrong.algorithm = digest_algorithm::sha256;
  CHECK_FALSE(verify_response(wrong, "GET", ha1));
  CHECK_FALSE(verify_response(credentials, "GET", ha1.substr(1)));
  CHECK_FALSE(verify_response(credentials, "GET", std::string(32, 'g')));
  wrong = credentials;
  wrong.qop = "auth-int";
  CHECK_FALSE(verify_response(wrong, "GET", ha1));
}

TEST_CASE("SIP-2 RFC 7616 section 3.9.1 SHA-256 example parses and verifies") {
  auto credentials = parse_authorization(rfc7616_header);
  REQUIRE(credentials.has_value());
  CHECK(credentials->username == "Mufasa");
  CHECK(credentials->realm == "http-auth@example.org");
  CHECK(credentials->algorithm == digest_algorithm::sha256);
  CHECK(credentials->qop == "auth");
  CHECK(credentials->nc == "00000001");
  CHECK(credentials->opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  auto ha1 = hex(EVP_sha256(), "Mufasa:http-auth@example.org:Circle of Life");
  CHECK(verify_response(*credentials, "GET", ha1));
  CHECK_FALSE(verify_response(*credentials, "GET",
                              hex(EVP_sha256(), "Mufasa:http-auth@example.org:Circle Of Life")));
}

TEST_CASE("SIP-2 old phones without qop verify with the RFC 2069 response") {
  digest_credentials c;
  c.username = "201";
  c.realm = "ward.test";
  c.nonce = "abc";
  c.uri = "sip:ward.test";
  c.algorithm = digest_algorithm::md5;
  auto ha1 = hex(EVP_md5(), "201:ward.test:4711");
  auto ha2 = hex(EVP_md5(), "REGISTER:sip:ward.test");
  c.response = hex(EVP_md5(), ha1 + ":abc:" + ha2);
  CHECK(verify_response(c, "REGISTER", ha1));
  CHECK_FALSE(verify_response(c, "INVITE", ha1));
}

TEST_CASE("SIP-2 make_challenge writes the WWW-Authenticate value") {
  CHECK(make_challenge("ward.test", "N1", digest_algorithm::sha256, false) ==
        "Digest realm=\"ward.test\", nonce=\"N1\", algorithm=SHA-256, qop=\"auth\"");
  CHECK(make_challenge("ward.test", "N1", digest_algorithm::md5, true) ==
        "Digest realm=\"ward.test\", nonce=\"N1\", algorithm=MD5, qop=\"auth\", stale=true");
  CHECK(make_challenge("a\"b\\c", "N", digest_algorithm::md5, false)
            .starts_with("Digest realm=\"a\\\"b\\\\c\""));
}

TEST_CASE("SIP-2 nonces are valid then stale and forgeries are detected") {
  nonce_authority authority(secret(7), "ward.test", 300s);
  auto random = test::seeded_random(1);
  auto now = test::fixed_now();
  auto nonce = authority.issue(now, random);
  CHECK(nonce.size() == nonce_authority::nonce_length);
  CHECK(
      nonce.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
      std::string::npos);
  CHECK(authority.issue(now, random) != nonce);
  CHECK(nonce_issue_time(nonce) ==
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());

  CHECK(authority.check(nonce, now) == nonce_status::valid);
  CHECK(authority.check(nonce, now + 299s) == nonce_status::valid);
  CHECK(authority.check(nonce, now + 300s) == nonce_status::stale);
  CHECK(authority.check(nonce, now - 10s) == nonce_status::valid);
  CHECK(authority.check(nonce, now - 31s) == nonce_status::stale);

  // Another node with the same secret accepts it: no shared state needed.
  nonce_authority peer(secret(7), "ward.test", 300s);
  CHECK(peer.check(nonce, now + 1s) == nonce_status::valid);
  // A different secret or realm makes it a forgery.
  CHECK(nonce_authority(secret(8), "ward.test", 300s).check(nonce, now) == nonce_status::forged);
  CHECK(nonce_authority(secret(7), "other.test", 300s).check(nonce, now) == nonce_status::forged);

  // Any flipped character, truncation, extension or foreign shape is forged.
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    auto tampered = nonce;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    CHECK(authority.check(tampered, now) == nonce_status::forged);
  }
  CHECK(authority.check(nonce.substr(1), now) == nonce_status::forged);
  CHECK(authority.check(nonce + "A", now) == nonce_status::forged);
  CHECK(authority.check("", now) == nonce_status::forged);
  CHECK(authority.check("dcd98b7102dd2f0e8b11d0f600bfb0c093", now) == nonce_status::forged);
  CHECK(authority.check(std::string(43, '='), now) == nonce_status::forged);
  CHECK(to_string(nonce_status::stale) == "stale");
}

TEST_CASE("SIP-2 a replayed nonce count is refused") {
  nonce_authority authority(secret(1), "ward.test", 300s);
  auto random = test::seeded_random(2);
  auto now = test::fixed_now();
  nonce_counter_window window(16);
  auto a = authority.issue(now, random);
  auto b = authority.issue(now, random);
  CHECK(window.accept(a, 1));
  CHECK_FALSE(window.accept(a, 1));
  CHECK(window.accept(a, 2));
  CHECK(window.accept(a, 5));
  CHECK_FALSE(window.accept(a, 4));
  CHECK_FALSE(window.accept(a, 5));
  CHECK(window.accept(b, 1));
  CHECK_FALSE(window.accept(b, 1));
  CHECK_FALSE(window.accept(authority.issue(now, random), 0));
  CHECK_FALSE(window.accept("not-a-nonce", 1));
  CHECK(window.size() == 2);

  CHECK(parse_nonce_count("00000001") == 1u);
  CHECK(parse_nonce_count("0000000a") == 10u);
  CHECK(parse_nonce_count("FFFFFFFF") == 0xffffffffu);
  CHECK_FALSE(parse_nonce_count("1"));
  CHECK_FALSE(parse_nonce_count("0000000g"));
  CHECK_FALSE(parse_nonce_count("000000001"));
}

TEST_CASE("SIP-2 eviction from the nonce window makes old nonces unacceptable") {
  nonce_authority authority(secret(1), "ward.test", 3600s);
  auto random = test::seeded_random(3);
  auto start = test::fixed_now();
  nonce_counter_window window(4);
  std::vector<std::string> nonces;
  for (int i = 0; i < 10; ++i)
    nonces.push_back(authority.issue(start + std::chrono::seconds(i), random));
  for (int i = 0; i < 4; ++i)
    CHECK(window.accept(nonces[static_cast<std::size_t>(i)], 1));
  CHECK(window.size() == 4);
  // A fifth nonce evicts the first: its count history is gone, so it must never pass again.
  CHECK(window.accept(nonces[4], 1));
  CHECK(window.size() == 4);
  CHECK(window.evicted_through() == *nonce_issue_time(nonces[0]));
  CHECK_FALSE(window.accept(nonces[0], 1));
  CHECK_FALSE(window.accept(nonces[0], 2));
  // Still tracked ones keep working.
  CHECK(window.accept(nonces[1], 2));
  CHECK_FALSE(window.accept(nonces[1], 2));
  // Heavy churn: never accepted twice with the same count.
  for (int round = 0; round < 3; ++round)
    for (const auto& nonce : nonces)
      window.accept(nonce, 1);
  for (const auto& nonce : nonces)
    CHECK_FALSE(window.accept(nonce, 1));
  CHECK(window.size() <= window.capacity());
}

TEST_CASE("SIP-2 the nonce window survives many nonces with backward-shift deletion") {
  nonce_authority authority(secret(9), "ward.test", 3600s);
  auto random = test::seeded_random(4);
  auto start = test::fixed_now();
  nonce_counter_window window(64);
  std::vector<std::string> recent;
  for (int i = 0; i < 2000; ++i) {
    auto nonce = authority.issue(start + std::chrono::seconds(i), random);
    REQUIRE(window.accept(nonce, 1));
    recent.push_back(nonce);
    if (recent.size() > 64)
      recent.erase(recent.begin());
    // Everything still in the window is found (no lookup lost by a bad deletion).
    if (i % 97 == 0)
      for (const auto& kept : recent)
        CHECK_FALSE(window.accept(kept, 1));
  }
  CHECK(window.size() == 64);
}

TEST_CASE("SIP-2 parse_authorization accepts RFC 2617 and SIP style headers") {
  auto parsed = parse_authorization(
      "Digest username=\"Mufasa\",\trealm=\"testrealm@host.com\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
      "nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  REQUIRE(parsed.has_value());
  CHECK(parsed->algorithm == digest_algorithm::md5);
  CHECK(verify_response(*parsed, "GET", "939e7578ed9e3c518a452acee763bce9"));

  auto sip = parse_authorization(
      "digest USERNAME=\"201\" , realm = \"ward.test\",nonce=\"n\",uri=\"sip:ward.test\","
      "response=\"6629fae49393a05397450978507c4ef1\",algorithm=\"md5\",x-vendor=1,qop=\"auth\","
      "cnonce=\"c\",nc=00000002");
  REQUIRE(sip.has_value());
  CHECK(sip->username == "201");
  CHECK(sip->nc == "00000002");

  auto escaped = parse_authorization("Digest username=\"a\\\"b\\\\c\", realm=\"r\", nonce=\"n\", "
                                     "uri=\"u\", response=\"6629fae49393a05397450978507c4ef1\"");
  REQUIRE(escaped.has_value());
  CHECK(escaped->username == "a\"b\\c");
  CHECK(escaped->qop.empty());
}

TEST_CASE("SIP-2 parse_authorization refuses malformed and ambiguous headers") {
  const std::string ok_tail = ", realm=\"r\", nonce=\"n\", uri=\"u\", "
                              "response=\"6629fae49393a05397450978507c4ef1\"";
  CHECK(parse_authorization("Digest username=\"a\"" + ok_tail).has_value());
  const std::string bad[] = {
      "",
      "Digest",
      "Basic dXNlcjpwYXNz",
      "Digestusername=\"a\"" + ok_tail,
      "Digest username=\"a\"" + ok_tail + ", username=\"b\"",
      "Digest username=\"a\"" + ok_tail + ", USERNAME=\"b\"",
      "Digest username=\"a\"" + ok_tail + ", x=1, X=2",
      "Digest username=\"a\"" + ok_tail + ",",
      "Digest username=\"a\",," + ok_tail.substr(1),
      "Digest username=\"a" + ok_tail,
      "Digest username=\"a\\",
      "Digest username=\"a\r\nb\"" + ok_tail,
      std::string("Digest username=\"a\0b\"", 21) + ok_tail,
      "Digest username=a b" + ok_tail,
      "Digest username=" + ok_tail,
      "Digest =\"a\"" + ok_tail,
      "Digest username=\"a\"" + ok_tail + ", algorithm=MD5-sess",
      "Digest username=\"a\"" + ok_tail + ", qop=auth-int, nc=00000001, cnonce=\"c\"",
      "Digest username=\"a\"" + ok_tail + ", qop=auth",
      "Digest username=\"a\"" + ok_tail + ", qop=auth, nc=1, cnonce=\"c\"",
      "Digest username=\"a\"" + ok_tail + ", qop=\"\"",
      "Digest username=\"a\"" + ok_tail + ", nc=00000001",
      "Digest username=\"a\"" + ok_tail + ", algorithm=SHA-256",
      "Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"6629fae49393a05397450978507c4ef1\"",
      "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"zz\"",
      "Digest username=\"\"" + ok_tail,
      "Digest username=\"a\"" + ok_tail + ", x=\"" + std::string(5000, 'a') + "\"",
  };
  for (const auto& header : bad) {
    CAPTURE(header);
    CHECK_FALSE(parse_authorization(header).has_value());
  }
  std::string many = "Digest username=\"a\"" + ok_tail;
  for (int i = 0; i < 40; ++i)
    many += ", p" + std::to_string(i) + "=1";
  CHECK_FALSE(parse_authorization(many).has_value());
}

TEST_CASE("SIP-2 parse_authorization fuzzed with seeded inputs is total and round-trips") {
  std::mt19937_64 engine(20260101);
  const std::string alphabet =
      "Digest usernamerlcoqp=\",\\ \t\r\n0123456789abcdefABCDEF-_.:/@\x7f\x80\xff";
  const std::string valid = std::string(rfc7616_header);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(engine() % n); };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      auto length = pick(300);
      for (std::size_t j = 0; j < length; ++j)
        input += alphabet[pick(alphabet.size())];
      if (i % 4 == 0)
        input = "Digest " + input;
    } else {
      input = valid;
      auto edits = 1 + pick(4);
      for (std::size_t e = 0; e < edits; ++e) {
        auto at = pick(input.size() + 1);
        switch (pick(3)) {
          case 0:
            input.insert(at, 1, alphabet[pick(alphabet.size())]);
            break;
          case 1:
            if (at < input.size())
              input.erase(at, 1);
            break;
          default:
            if (at < input.size())
              input[at] = alphabet[pick(alphabet.size())];
            break;
        }
      }
    }
    auto parsed = parse_authorization(input);
    if (parsed) {
      ++accepted;
      // Whatever is accepted is complete and self-consistent.
      CHECK_FALSE(parsed->uri.empty());
      CHECK_FALSE(parsed->username.empty());
      CHECK_FALSE(parsed->nonce.empty());
      CHECK((parsed->response.size() == 32 || parsed->response.size() == 64));
      CHECK((parsed->qop.empty() || parsed->qop == "auth"));
    } else {
      CHECK_FALSE(parsed.error().detail.empty());
      CHECK(parsed.error().code == errc::bad_authorization);
    }
  }
  CHECK(accepted > 0);

  // Round trip: any field value, quoted with escapes, comes back unchanged.
  for (int i = 0; i < 2000; ++i) {
    std::string username;
    auto length = 1 + pick(40);
    for (std::size_t j = 0; j < length; ++j) {
      auto c = static_cast<char>(0x20 + pick(0x5f)); // printable ASCII
      username += c;
    }
    std::string quoted;
    for (char c : username) {
      if (c == '"' || c == '\\')
        quoted += '\\';
      quoted += c;
    }
    auto parsed = parse_authorization("Digest username=\"" + quoted +
                                      "\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                                      "response=\"6629fae49393a05397450978507c4ef1\"");
    REQUIRE(parsed.has_value());
    CHECK(parsed->username == username);
  }
}

TEST_CASE("TF-9 a carrier's challenge is parsed and answered as RFC 2617 computes it") {
  // RFC 2617 section 3.5's example.
  auto challenge = parse_challenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  REQUIRE(challenge.has_value());
  CHECK(challenge->realm == "testrealm@host.com");
  CHECK(challenge->qop_auth);
  CHECK(challenge->algorithm == digest_algorithm::md5);
  const auto answer = answer_challenge(*challenge, "Mufasa", "Circle Of Life", "GET",
                                       "/dir/index.html", "0a4f113b");
  CHECK(answer.find("response=\"6629fae49393a05397450978507c4ef1\"") != std::string::npos);
  CHECK(answer.find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") != std::string::npos);
  CHECK(answer.find("nc=00000001,cnonce=\"0a4f113b\"") != std::string::npos);
  // The answer is what the registrar's own verifier accepts.
  auto parsed = parse_authorization(answer);
  REQUIRE(parsed.has_value());
  const auto ha1 = make_digest_secrets("Mufasa", "testrealm@host.com", "Circle Of Life").ha1_md5;
  CHECK(verify_response(*parsed, "GET", ha1));
  // SHA-256 (RFC 8760) and the RFC 2069 form without qop verify as well.
  auto sha = parse_challenge("Digest realm=\"ward\",nonce=\"n1\",algorithm=SHA-256");
  REQUIRE(sha.has_value());
  CHECK_FALSE(sha->qop_auth);
  auto sha_answer =
      parse_authorization(answer_challenge(*sha, "201", "s3cret", "INVITE", "sip:202@ward", "c"));
  REQUIRE(sha_answer.has_value());
  CHECK(verify_response(*sha_answer, "INVITE",
                        make_digest_secrets("201", "ward", "s3cret").ha1_sha256));
  // What cannot be answered is refused.
  CHECK_FALSE(parse_challenge("Basic realm=\"x\"").has_value());
  CHECK_FALSE(parse_challenge("Digest nonce=\"n\"").has_value());
  CHECK_FALSE(parse_challenge("Digest realm=\"r\",nonce=\"n\",qop=\"auth-int\"").has_value());
  CHECK_FALSE(parse_challenge("Digest realm=\"r\",nonce=\"n\",algorithm=MD5-sess").has_value());
}
