#include "core/clock.hpp"
#include "telephony/registrar.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <optional>
#include <string>
#include <vector>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view realm = "ward.test";
constexpr std::string_view phone_password = "Kx9-plum-4711";
constexpr std::string_view login_code = "739164";
constexpr std::string_view source = "192.0.2.10:5062";

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

/// 201: phone password. 202: no phone password, its user bob has a login code. 203: no
/// secret and force authorization off. 204: no secret, force authorization on.
telephony_directory_data directory() {
  telephony_directory_data data;
  extension_record e201{"201", make_digest_secrets("201", realm, phone_password), true, true};
  extension_record e202{"202", {}, false, true};
  extension_record e203{"203", {}, false, false};
  extension_record e204{"204", {}, false, true};
  for (auto& e : {e201, e202, e203, e204})
    data.extensions.emplace(e.number, e);
  telephony_user bob;
  bob.name = "bob";
  bob.extension = "202";
  bob.login_code_digest = make_digest_secrets("202", realm, login_code);
  data.users.emplace(bob.name, bob);
  return data;
}

nonce_authority nonces() {
  std::array<std::byte, 32> secret{};
  secret.fill(std::byte{0x5a});
  return nonce_authority(secret, std::string(realm), 300s);
}

registrar make_registrar(registrar_settings settings = {}) {
  auto created = registrar::create(nonces(), settings);
  REQUIRE(created.has_value());
  return std::move(*created);
}

/// A REGISTER as a phone sends it; `authorization` empty for the first one.
struct register_request {
  std::string extension = "201";
  std::string request_uri = "sip:ward.test";
  std::vector<std::string> contacts = {"<sip:201@192.0.2.10:5062>"};
  std::optional<int> expires = 3600;
  std::string authorization;
  std::uint32_t cseq = 1;
  std::string call_id = "reg-1@192.0.2.10";
};

sip_message build(const register_request& r) {
  std::string text = "REGISTER " + r.request_uri + " SIP/2.0\r\n";
  text +=
      "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bK-" + std::to_string(r.cseq) + "\r\n";
  text += "From: <sip:" + r.extension + "@ward.test>;tag=ph" + r.extension + "\r\n";
  text += "To: <sip:" + r.extension + "@ward.test>\r\n";
  text += "Call-ID: " + r.call_id + "\r\n";
  text += "CSeq: " + std::to_string(r.cseq) + " REGISTER\r\n";
  for (const auto& contact : r.contacts)
    text += "Contact: " + contact + "\r\n";
  if (r.expires)
    text += "Expires: " + std::to_string(*r.expires) + "\r\n";
  if (!r.authorization.empty())
    text += "Authorization: " + r.authorization + "\r\n";
  text += "User-Agent: TestPhone/1.0\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  auto parsed = parse_sip_message(text);
  if (!parsed)
    FAIL("test REGISTER refused: " << parsed.error().detail);
  return *parsed;
}

/// The nonce of a WWW-Authenticate value.
std::string nonce_of(const std::string& challenge) {
  auto start = challenge.find("nonce=\"") + 7;
  return challenge.substr(start, challenge.find('"', start) - start);
}

/// What a phone answers to a challenge, computed here from make_digest_secrets and EVP.
std::string answer(std::string_view username, std::string_view secret, std::string_view nonce,
                   digest_algorithm algorithm, std::string_view uri = "sip:ward.test",
                   std::string_view nc = "00000001") {
  auto secrets = make_digest_secrets(username, realm, secret);
  bool sha256 = algorithm == digest_algorithm::sha256;
  const EVP_MD* md = sha256 ? EVP_sha256() : EVP_md5();
  std::string ha1 = sha256 ? secrets.ha1_sha256 : secrets.ha1_md5;
  std::string cnonce = "0a4f113b";
  auto ha2 = hex(md, "REGISTER:" + std::string(uri));
  auto response = hex(md, ha1 + ":" + std::string(nonce) + ":" + std::string(nc) + ":" + cnonce +
                              ":auth:" + ha2);
  return "Digest username=\"" + std::string(username) + "\", realm=\"" + std::string(realm) +
         "\", nonce=\"" + std::string(nonce) + "\", uri=\"" + std::string(uri) + "\", response=\"" +
         response + "\", algorithm=" + (sha256 ? "SHA-256" : "MD5") + ", cnonce=\"" + cnonce +
         "\", qop=auth, nc=" + std::string(nc);
}

struct fixture {
  manual_clock clock{test::fixed_now()};
  random_source random = test::seeded_random(7);
  telephony_directory_data data = directory();
  registrar reg = make_registrar();
  /// Each login's REGISTERs continue the phone's CSeq, as a real phone's do.
  std::uint32_t cseq = 0;

  register_outcome send(const register_request& r) {
    return reg.handle_register(build(r), std::string(source), transport::udp, data, clock.now(),
                               random);
  }
  /// First REGISTER, its challenge, then the answer with `secret`.
  register_outcome login(register_request r, std::string_view secret,
                         digest_algorithm algorithm = digest_algorithm::sha256) {
    r.cseq = ++cseq;
    auto challenged = send(r);
    REQUIRE(challenged.status == register_status::challenged);
    r.authorization = answer(r.extension, secret, nonce_of(challenged.headers[0].second), algorithm,
                             r.request_uri);
    r.cseq = ++cseq;
    return send(r);
  }
};

} // namespace

TEST_CASE("SIP-2 a first REGISTER is challenged with SHA-256 then MD5") {
  fixture f;
  auto out = f.send({});
  CHECK(out.status == register_status::challenged);
  CHECK(out.code == 401);
  CHECK(out.reason == "Unauthorized");
  CHECK(out.extension == "201");
  CHECK_FALSE(out.auth_failure);
  REQUIRE(out.headers.size() == 2);
  CHECK(out.headers[0].first == "WWW-Authenticate");
  CHECK(out.headers[0].second.find("algorithm=SHA-256") != std::string::npos);
  CHECK(out.headers[0].second.find("realm=\"ward.test\"") != std::string::npos);
  CHECK(out.headers[0].second.find("qop=\"auth\"") != std::string::npos);
  CHECK(out.headers[0].second.find("stale") == std::string::npos);
  CHECK(out.headers[1].second.find("algorithm=MD5") != std::string::npos);
  CHECK(nonce_of(out.headers[0].second) == nonce_of(out.headers[1].second));
  CHECK(f.reg.bindings(f.clock.now()).empty());

  auto no_md5 = make_registrar({.offer_md5 = false});
  auto only = no_md5.handle_register(build({}), std::string(source), transport::udp, f.data,
                                     f.clock.now(), f.random);
  REQUIRE(only.headers.size() == 1);
  CHECK(only.headers[0].second.find("algorithm=SHA-256") != std::string::npos);
}

TEST_CASE("SIP-2 a correct SHA-256 response registers the contact") {
  fixture f;
  auto out = f.login({}, phone_password);
  CHECK(out.status == register_status::registered);
  CHECK(out.code == 200);
  CHECK(out.algorithm == digest_algorithm::sha256);
  CHECK_FALSE(out.auth_failure);
  REQUIRE(out.headers.size() == 1);
  CHECK(out.headers[0] ==
        std::pair<std::string, std::string>{"Contact", "<sip:201@192.0.2.10:5062>;expires=3600"});

  auto bound = f.reg.lookup("201", f.clock.now());
  REQUIRE(bound.size() == 1);
  CHECK(bound[0].contact == "sip:201@192.0.2.10:5062");
  CHECK(bound[0].source == source);
  CHECK(bound[0].kind == transport::udp);
  CHECK(bound[0].expires_at == f.clock.now() + 3600s);
  CHECK(bound[0].user_agent == "TestPhone/1.0");
  CHECK(bound[0].authenticated);
  CHECK(f.reg.bindings(f.clock.now()) == bound);

  // The outcome turns into a wire response with the phone's NAT address in the Via.
  register_request again;
  again.cseq = 2;
  auto response = build_response(build(again), out.code, out.reason, out.headers, "reg-tag",
                                 "198.51.100.20", 40000);
  CHECK(response.starts_with("SIP/2.0 200 OK\r\n"));
  CHECK(response.find(";rport=40000;") != std::string::npos);
  CHECK(response.find("received=198.51.100.20") != std::string::npos);
  CHECK(response.find("Contact: <sip:201@192.0.2.10:5062>;expires=3600\r\n") != std::string::npos);
}

TEST_CASE("SIP-2 a correct MD5 response registers the contact") {
  fixture f;
  auto out = f.login({}, phone_password, digest_algorithm::md5);
  CHECK(out.status == register_status::registered);
  CHECK(out.algorithm == digest_algorithm::md5);
  CHECK(f.reg.lookup("201", f.clock.now()).size() == 1);

  // With MD5 switched off the same answer is refused, without counting a failure.
  fixture strict;
  strict.reg = make_registrar({.offer_md5 = false});
  auto refused = strict.login({}, phone_password, digest_algorithm::md5);
  CHECK(refused.status == register_status::forbidden);
  CHECK_FALSE(refused.auth_failure);
}

TEST_CASE("SIP-4 a wrong password is forbidden and counted as a failure") {
  fixture f;
  auto out = f.login({}, "not-the-password");
  CHECK(out.status == register_status::forbidden);
  CHECK(out.code == 403);
  CHECK(out.auth_failure);
  CHECK(out.headers.empty());
  CHECK(out.extension == "201");
  CHECK(f.reg.bindings(f.clock.now()).empty());
}

TEST_CASE("SIP-4 an unknown extension looks like a known one and counts as a failure") {
  fixture f;
  register_request known, unknown;
  unknown.extension = "299";
  unknown.contacts = {"<sip:299@192.0.2.10:5062>"};
  auto known_challenge = f.send(known);
  auto unknown_challenge = f.send(unknown);
  CHECK(unknown_challenge.status == known_challenge.status);
  CHECK(unknown_challenge.code == known_challenge.code);
  CHECK_FALSE(unknown_challenge.auth_failure);
  REQUIRE(unknown_challenge.headers.size() == known_challenge.headers.size());
  for (std::size_t i = 0; i < known_challenge.headers.size(); ++i) {
    auto strip = [](std::string value) {
      auto nonce = nonce_of(value);
      value.replace(value.find(nonce), nonce.size(), "N");
      return value;
    };
    CHECK(strip(unknown_challenge.headers[i].second) == strip(known_challenge.headers[i].second));
  }

  auto wrong = f.login(known, "guess-1234");
  auto missing = f.login(unknown, "guess-1234");
  CHECK(missing.status == wrong.status);
  CHECK(missing.code == wrong.code);
  CHECK(missing.reason == wrong.reason);
  CHECK(missing.headers == wrong.headers);
  CHECK(missing.auth_failure);
  CHECK(missing.extension == "299");
  CHECK(missing.detail == "unknown extension");
}

TEST_CASE("SIP-2 a replayed nonce count is refused") {
  fixture f;
  register_request r;
  auto challenged = f.send(r);
  auto nonce = nonce_of(challenged.headers[0].second);
  r.authorization = answer("201", phone_password, nonce, digest_algorithm::sha256);
  r.cseq = 2;
  REQUIRE(f.send(r).status == register_status::registered);

  // The same Authorization again: a captured REGISTER played back.
  r.cseq = 3;
  auto replay = f.send(r);
  CHECK(replay.status == register_status::replayed);
  CHECK(replay.code == 401);
  CHECK_FALSE(replay.auth_failure);
  REQUIRE_FALSE(replay.headers.empty());
  CHECK(replay.headers[0].second.find("stale=true") != std::string::npos);

  // The next count on the same nonce is the phone's normal re-registration.
  r.authorization =
      answer("201", phone_password, nonce, digest_algorithm::sha256, "sip:ward.test", "00000002");
  r.cseq = 4;
  CHECK(f.send(r).status == register_status::registered);
}

TEST_CASE("SIP-2 an expired nonce gets a challenge with stale=true") {
  fixture f;
  register_request r;
  auto nonce = nonce_of(f.send(r).headers[0].second);
  f.clock.advance(301s);
  r.authorization = answer("201", phone_password, nonce, digest_algorithm::sha256);
  r.cseq = 2;
  auto out = f.send(r);
  CHECK(out.status == register_status::stale_nonce);
  CHECK(out.code == 401);
  CHECK_FALSE(out.auth_failure);
  REQUIRE(out.headers.size() == 2);
  CHECK(out.headers[0].second.find("stale=true") != std::string::npos);
  CHECK(nonce_of(out.headers[0].second) != nonce);

  // stale=true promises a right password: a wrong one on an old nonce is a failure.
  r.authorization = answer("201", "wrong-password", nonce, digest_algorithm::sha256);
  r.cseq = 3;
  auto wrong = f.send(r);
  CHECK(wrong.status == register_status::forbidden);
  CHECK(wrong.auth_failure);
}

TEST_CASE("SIP-2 a nonce this cluster never issued is challenged again without counting") {
  fixture f;
  register_request r;
  r.authorization = answer("201", phone_password, "AAAAAGlV3ABkZWFkYmVlZnNpZ25hdHVyZXNpZ25hdHVyZQ",
                           digest_algorithm::sha256);
  auto out = f.send(r);
  CHECK(out.status == register_status::challenged);
  CHECK_FALSE(out.auth_failure);
  CHECK(out.detail == "nonce not issued by this cluster");
}

TEST_CASE("SIP-2 Expires 0 removes the binding") {
  fixture f;
  register_request r;
  r.contacts = {"<sip:201@192.0.2.10:5062>", "<sip:201@192.0.2.11:5060>"};
  REQUIRE(f.login(r, phone_password).status == register_status::registered);
  REQUIRE(f.reg.lookup("201", f.clock.now()).size() == 2);

  r.contacts = {"<sip:201@192.0.2.10:5062>"};
  r.expires = 0;
  auto out = f.login(r, phone_password);
  CHECK(out.status == register_status::unregistered);
  CHECK(out.code == 200);
  // The reply lists what is still bound.
  REQUIRE(out.headers.size() == 1);
  CHECK(out.headers[0].second == "<sip:201@192.0.2.11:5060>;expires=3600");
  auto left = f.reg.lookup("201", f.clock.now());
  REQUIRE(left.size() == 1);
  CHECK(left[0].contact == "sip:201@192.0.2.11:5060");

  // A contact's own expires parameter wins over the Expires header.
  r.contacts = {"<sip:201@192.0.2.11:5060>;expires=0"};
  r.expires = 3600;
  CHECK(f.login(r, phone_password).status == register_status::unregistered);
  CHECK(f.reg.bindings(f.clock.now()).empty());
}

TEST_CASE("SIP-2 the wildcard contact with Expires 0 removes every binding") {
  fixture f;
  register_request r;
  r.contacts = {"<sip:201@192.0.2.10:5062>", "<sip:201@192.0.2.11:5060>"};
  REQUIRE(f.login(r, phone_password).status == register_status::registered);

  r.contacts = {"*"};
  r.expires = 3600;
  auto misuse = f.login(r, phone_password);
  CHECK(misuse.status == register_status::bad_request);
  CHECK(misuse.code == 400);
  CHECK(f.reg.lookup("201", f.clock.now()).size() == 2);

  r.contacts = {"*", "<sip:201@192.0.2.12>"};
  r.expires = 0;
  CHECK(f.login(r, phone_password).status == register_status::bad_request);

  r.contacts = {"*"};
  auto out = f.login(r, phone_password);
  CHECK(out.status == register_status::unregistered);
  CHECK(out.headers.empty());
  CHECK(f.reg.bindings(f.clock.now()).empty());
}

TEST_CASE("SIP-2 an interval below the minimum gets 423 with Min-Expires") {
  fixture f;
  register_request r;
  r.contacts = {"<sip:201@192.0.2.10:5062>", "<sip:201@192.0.2.11:5060>;expires=30"};
  auto out = f.login(r, phone_password);
  CHECK(out.status == register_status::interval_too_brief);
  CHECK(out.code == 423);
  CHECK(out.reason == "Interval Too Brief");
  CHECK_FALSE(out.auth_failure);
  REQUIRE(out.headers.size() == 1);
  CHECK(out.headers[0] == std::pair<std::string, std::string>{"Min-Expires", "60"});
  // All or nothing: the acceptable contact was not bound either.
  CHECK(f.reg.bindings(f.clock.now()).empty());

  // Longer than the maximum is shortened, not refused.
  r.contacts = {"<sip:201@192.0.2.10:5062>"};
  r.expires = 86400;
  auto capped = f.login(r, phone_password);
  CHECK(capped.status == register_status::registered);
  CHECK(capped.headers[0].second == "<sip:201@192.0.2.10:5062>;expires=3600");
}

TEST_CASE("SIP-2 the login code authenticates an extension without a phone password") {
  fixture f;
  register_request r;
  r.extension = "202";
  r.contacts = {"<sip:202@192.0.2.20:5060>"};
  CHECK(f.login(r, phone_password).status == register_status::forbidden);
  auto out = f.login(r, login_code);
  CHECK(out.status == register_status::registered);
  CHECK(out.extension == "202");
  CHECK(f.reg.lookup("202", f.clock.now()).size() == 1);

  // A locked user cannot register with the login code even when it is right.
  f.data.users.at("bob").lock.locked_permanently = true;
  r.contacts = {"<sip:202@192.0.2.21:5060>"};
  auto locked = f.login(r, login_code);
  CHECK(locked.status == register_status::forbidden);
  CHECK_FALSE(locked.auth_failure);
  CHECK(locked.detail == "user locked");

  // Once the extension has a phone password, the login code no longer works for SIP.
  f.data.users.at("bob").lock = {};
  auto& e202 = f.data.extensions.at("202");
  e202.phone_password_digest = make_digest_secrets("202", realm, phone_password);
  e202.has_phone_password = true;
  CHECK(f.login(r, login_code).status == register_status::forbidden);
  CHECK(f.login(r, phone_password).status == register_status::registered);
}

TEST_CASE("SIP-2 the login code follows its user when the directory changes") {
  fixture f;
  register_request r202, r205;
  r202.extension = "202";
  r202.contacts = {"<sip:202@192.0.2.20:5060>"};
  r205.extension = "205";
  r205.contacts = {"<sip:205@192.0.2.25:5060>"};
  REQUIRE(f.login(r202, login_code).status == register_status::registered);

  // bob moves to 205: his code (bound to the number) now registers 205 and not 202.
  auto& bob = f.data.users.at("bob");
  bob.extension = "205";
  bob.login_code_digest = make_digest_secrets("205", realm, login_code);
  f.data.extensions.emplace("205", extension_record{"205", {}, false, true});
  ++f.data.version;
  CHECK(f.login(r202, login_code).status == register_status::forbidden);
  CHECK(f.login(r205, login_code).status == register_status::registered);

  // A change that bypasses the version fails closed: 205's code is no longer bob's.
  bob.extension = "206";
  CHECK(f.login(r205, login_code).status == register_status::forbidden);
}

TEST_CASE("SIP-2 force authorization off lets an extension without a secret register") {
  fixture f;
  register_request open;
  open.extension = "203";
  open.contacts = {"<sip:203@192.0.2.30:5060>"};
  auto out = f.send(open);
  CHECK(out.status == register_status::registered);
  CHECK_FALSE(out.algorithm);
  auto bound = f.reg.lookup("203", f.clock.now());
  REQUIRE(bound.size() == 1);
  CHECK_FALSE(bound[0].authenticated);

  // Force authorization on (the default) and no secret: nobody can register.
  register_request closed;
  closed.extension = "204";
  closed.contacts = {"<sip:204@192.0.2.40:5060>"};
  CHECK(f.send(closed).status == register_status::challenged);
  auto refused = f.login(closed, "");
  CHECK(refused.status == register_status::forbidden);
  CHECK(refused.auth_failure);
  CHECK(f.reg.lookup("204", f.clock.now()).empty());
}

TEST_CASE("SIP-2 credentials must be for the To extension and the Request-URI") {
  fixture f;
  register_request r;
  auto nonce = nonce_of(f.send(r).headers[0].second);

  // 202's valid login code used to register 201's address of record.
  r.authorization = answer("202", login_code, nonce, digest_algorithm::sha256);
  auto other = f.send(r);
  CHECK(other.status == register_status::forbidden);
  CHECK(other.auth_failure);

  r.authorization =
      answer("201", phone_password, nonce, digest_algorithm::sha256, "sip:elsewhere.example.com");
  auto moved = f.send(r);
  CHECK(moved.status == register_status::bad_request);
  CHECK_FALSE(moved.auth_failure);

  // The same resource spelled differently is accepted (host case).
  r.request_uri = "sip:WARD.test";
  r.authorization = answer("201", phone_password, nonce, digest_algorithm::sha256, "sip:ward.test");
  CHECK(f.send(r).status == register_status::registered);
}

TEST_CASE("SIP-2 Authorization without qop or unparseable is a bad request") {
  fixture f;
  register_request r;
  auto nonce = nonce_of(f.send(r).headers[0].second);
  auto secrets = make_digest_secrets("201", realm, phone_password);
  auto ha2 = hex(EVP_sha256(), "REGISTER:sip:ward.test");
  r.authorization = "Digest username=\"201\", realm=\"ward.test\", nonce=\"" + nonce +
                    "\", uri=\"sip:ward.test\", algorithm=SHA-256, response=\"" +
                    hex(EVP_sha256(), secrets.ha1_sha256 + ":" + nonce + ":" + ha2) + "\"";
  auto no_qop = f.send(r);
  CHECK(no_qop.status == register_status::bad_request);
  CHECK(no_qop.detail == "qop=auth required");

  r.authorization = "Digest username=\"201\", realm=\"ward.test\", nonce=\"" + nonce +
                    "\", uri=\"sip:ward.test\", response=\"short\"";
  CHECK(f.send(r).status == register_status::bad_request);

  // Credentials for another realm are somebody else's: challenge for ours.
  r.authorization = "Digest username=\"201\", realm=\"proxy.example.com\", nonce=\"x\", "
                    "uri=\"sip:ward.test\", response=\"0123456789abcdef0123456789abcdef\"";
  CHECK(f.send(r).status == register_status::challenged);
}

TEST_CASE("SIP-2 expired bindings disappear from lookups and expire returns them") {
  fixture f;
  register_request r;
  r.contacts = {"<sip:201@192.0.2.10:5062>;expires=120", "<sip:201@192.0.2.11:5060>"};
  REQUIRE(f.login(r, phone_password).status == register_status::registered);
  f.clock.advance(121s);
  auto now = f.clock.now();
  auto left = f.reg.lookup("201", now);
  REQUIRE(left.size() == 1);
  CHECK(left[0].contact == "sip:201@192.0.2.11:5060");
  auto removed = f.reg.expire(now);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].contact == "sip:201@192.0.2.10:5062");
  CHECK(f.reg.expire(now).empty());
  f.clock.advance(3600s);
  CHECK(f.reg.expire(f.clock.now()).size() == 1);
  CHECK(f.reg.bindings(f.clock.now()).empty());
}

TEST_CASE("SIP-2 an extension holds a bounded number of bindings") {
  fixture f;
  f.reg = make_registrar({.max_bindings_per_extension = 2});
  register_request r;
  r.contacts = {"<sip:201@192.0.2.1>;expires=600", "<sip:201@192.0.2.2>;expires=900"};
  REQUIRE(f.login(r, phone_password).status == register_status::registered);
  r.contacts = {"<sip:201@192.0.2.3>"};
  REQUIRE(f.login(r, phone_password).status == register_status::registered);
  auto bound = f.reg.lookup("201", f.clock.now());
  REQUIRE(bound.size() == 2);
  CHECK(bound[0].contact == "sip:201@192.0.2.2");
  CHECK(bound[1].contact == "sip:201@192.0.2.3");
}

TEST_CASE("SIP-3 an unknown extension registers while auto-create holds and not after 24 hours") {
  fixture f;
  register_request unknown;
  unknown.extension = "7001";
  unknown.contacts = {"<sip:7001@192.0.2.10:5062>"};
  auto refused = f.send(unknown);
  CHECK(refused.status == register_status::challenged);
  CHECK_FALSE(refused.auto_created);

  f.data.policy.auto_create = true;
  f.data.policy.auto_create_enabled_at = f.clock.now();
  f.clock.advance(23h + 59min);
  unknown.cseq = 2;
  auto created = f.send(unknown);
  CHECK(created.status == register_status::registered);
  CHECK(created.auto_created);
  CHECK_FALSE(created.algorithm.has_value());
  REQUIRE(f.reg.lookup("7001", f.clock.now()).size() == 1);
  CHECK_FALSE(f.reg.lookup("7001", f.clock.now())[0].authenticated);

  // Known extensions still authenticate; names are not extension numbers.
  auto known = f.send({});
  CHECK(known.status == register_status::challenged);
  register_request name;
  name.extension = "alice";
  name.contacts = {"<sip:alice@192.0.2.10:5062>"};
  CHECK_FALSE(f.send(name).auto_created);

  f.clock.advance(1min);
  unknown.extension = "7002";
  unknown.contacts = {"<sip:7002@192.0.2.10:5062>"};
  unknown.cseq = 3;
  auto lapsed = f.send(unknown);
  CHECK(lapsed.status == register_status::challenged);
  CHECK_FALSE(lapsed.auto_created);
}

/// An INVITE from `caller` to 202, with `proxy_authorization` when not empty.
sip_message invite_from(std::string_view caller, const std::string& proxy_authorization = {}) {
  std::string text = "INVITE sip:202@ward.test SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bK-inv\r\n"
                     "From: <sip:" +
                     std::string(caller) +
                     "@ward.test>;tag=c1\r\n"
                     "To: <sip:202@ward.test>\r\nCall-ID: call-1@192.0.2.10\r\n"
                     "CSeq: 1 INVITE\r\nContact: <sip:201@192.0.2.10:5062>\r\n";
  if (!proxy_authorization.empty())
    text += "Proxy-Authorization: " + proxy_authorization + "\r\n";
  text += "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  auto parsed = parse_sip_message(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

/// What a phone answers to a 407 for an INVITE to sip:202@ward.test.
std::string invite_answer(std::string_view username, std::string_view secret,
                          std::string_view nonce, digest_algorithm algorithm) {
  auto text = answer(username, secret, nonce, algorithm, "sip:202@ward.test");
  // answer() hashes REGISTER; redo HA2 and the response for INVITE.
  auto secrets = make_digest_secrets(username, realm, secret);
  bool sha256 = algorithm == digest_algorithm::sha256;
  const EVP_MD* md = sha256 ? EVP_sha256() : EVP_md5();
  auto ha2 = hex(md, "INVITE:sip:202@ward.test");
  auto response = hex(md, (sha256 ? secrets.ha1_sha256 : secrets.ha1_md5) + ":" +
                              std::string(nonce) + ":00000001:0a4f113b:auth:" + ha2);
  auto at = text.find("response=\"") + 10;
  return text.replace(at, text.find('"', at) - at, response);
}

TEST_CASE("SIP-2 SIP-6 an INVITE is challenged with 407 and authenticates as its From extension") {
  fixture f;
  auto challenged = f.reg.authorize_request(invite_from("201"), f.data, f.clock.now(), f.random);
  CHECK(challenged.code == 407);
  CHECK(challenged.reason == "Proxy Authentication Required");
  REQUIRE(challenged.headers.size() == 2);
  CHECK(challenged.headers[0].first == "Proxy-Authenticate");
  CHECK(challenged.headers[0].second.find("algorithm=SHA-256") != std::string::npos);
  CHECK_FALSE(challenged.auth_failure);

  auto nonce = nonce_of(challenged.headers[0].second);
  auto good = f.reg.authorize_request(
      invite_from("201", invite_answer("201", phone_password, nonce, digest_algorithm::sha256)),
      f.data, f.clock.now(), f.random);
  CHECK(good.code == 200);
  CHECK(good.algorithm == digest_algorithm::sha256);
  CHECK(good.extension == "201");

  auto wrong = f.reg.authorize_request(
      invite_from("201", invite_answer("201", "not-the-password", nonce, digest_algorithm::md5)),
      f.data, f.clock.now(), f.random);
  CHECK(wrong.code == 403);
  CHECK(wrong.auth_failure);

  // Credentials of one extension do not place calls as another.
  auto borrowed = f.reg.authorize_request(
      invite_from("204", invite_answer("201", phone_password, nonce, digest_algorithm::sha256)),
      f.data, f.clock.now(), f.random);
  CHECK(borrowed.code == 403);
  CHECK(borrowed.auth_failure);

  // The same answer again is a replay: a fresh challenge, not a call.
  auto replayed = f.reg.authorize_request(
      invite_from("201", invite_answer("201", phone_password, nonce, digest_algorithm::sha256)),
      f.data, f.clock.now(), f.random);
  CHECK(replayed.code == 407);
  CHECK(replayed.status == register_status::replayed);

  // An extension without force authorization and without a secret calls unchallenged.
  auto open = f.reg.authorize_request(invite_from("203"), f.data, f.clock.now(), f.random);
  CHECK(open.code == 200);
  CHECK_FALSE(open.algorithm.has_value());
}

TEST_CASE("SIP-2 registrar settings are checked") {
  CHECK_FALSE(registrar::create(nonces(), {.min_expires = 0s}));
  CHECK_FALSE(registrar::create(nonces(), {.min_expires = 600s, .default_expires = 300s}));
  CHECK_FALSE(registrar::create(nonces(), {.default_expires = 7200s}));
  CHECK_FALSE(
      registrar::create(nonces(), {.preferred = digest_algorithm::md5, .offer_md5 = false}));
  CHECK_FALSE(registrar::create(nonces(), {.max_bindings_per_extension = 0}));
  CHECK(registrar::create(nonces(), {}).has_value());

  // MD5 preferred (old phone fleets) puts MD5 first.
  fixture f;
  f.reg = make_registrar({.preferred = digest_algorithm::md5});
  auto out = f.send({});
  REQUIRE(out.headers.size() == 2);
  CHECK(out.headers[0].second.find("algorithm=MD5") != std::string::npos);
  CHECK(out.headers[1].second.find("algorithm=SHA-256") != std::string::npos);
}

TEST_CASE("SIP-2 requests that are not registrations of an extension are refused") {
  fixture f;
  auto options = parse_sip_message(
      "OPTIONS sip:ward.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
      "From: <sip:201@ward.test>;tag=1\r\nTo: <sip:201@ward.test>\r\nCall-ID: o\r\n"
      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(options.has_value());
  CHECK(f.reg
            .handle_register(*options, std::string(source), transport::udp, f.data, f.clock.now(),
                             f.random)
            .status == register_status::bad_request);

  register_request no_user;
  no_user.extension = "";
  auto message = build(no_user);
  auto out = f.reg.handle_register(message, std::string(source), transport::udp, f.data,
                                   f.clock.now(), f.random);
  CHECK(out.status == register_status::not_found);
  CHECK(out.code == 404);

  register_request tel;
  tel.request_uri = "tel:+15551234";
  auto wrong_scheme = f.send(tel);
  CHECK(wrong_scheme.status == register_status::bad_request);
  CHECK(wrong_scheme.code == 416);
}
