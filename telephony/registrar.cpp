#include "telephony/registrar.hpp"

#include <algorithm>
#include <tuple>

namespace ward::telephony {
namespace {

using std::chrono::seconds;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

/// Stands in for the HA1 of an extension that does not exist (or has no secret), so the
/// unknown path does the same hashing as the known one and takes the same time.
constexpr std::string_view dummy_ha1_md5 = "00000000000000000000000000000000";
constexpr std::string_view dummy_ha1_sha256 =
    "0000000000000000000000000000000000000000000000000000000000000000";

void set(register_outcome& out, register_status status, int code, std::string_view reason,
         std::string detail) {
  out.status = status;
  out.code = code;
  out.reason = reason;
  out.detail = std::move(detail);
}

bool has_secret(const digest_secrets& secrets) {
  return !secrets.ha1_md5.empty() && !secrets.ha1_sha256.empty();
}

/// RFC 2617 3.2.2.5: the digest uri names the resource of the request. The same text is the
/// common case; otherwise scheme, user, host (case-insensitive) and port must agree.
bool same_resource(std::string_view digest_uri, const sip_uri& request_uri) {
  if (digest_uri == request_uri.text)
    return true;
  auto parsed = parse_uri(digest_uri);
  return parsed && parsed->scheme == request_uri.scheme && parsed->user == request_uri.user &&
         iequals(parsed->host, request_uri.host) && parsed->port == request_uri.port;
}

bool is_sip_scheme(uri_scheme scheme) {
  return scheme == uri_scheme::sip || scheme == uri_scheme::sips;
}

} // namespace

std::string_view to_string(register_status status) {
  switch (status) {
    case register_status::challenged:
      return "challenged";
    case register_status::registered:
      return "registered";
    case register_status::unregistered:
      return "unregistered";
    case register_status::forbidden:
      return "forbidden";
    case register_status::not_found:
      return "not_found";
    case register_status::bad_request:
      return "bad_request";
    case register_status::interval_too_brief:
      return "interval_too_brief";
    case register_status::stale_nonce:
      return "stale_nonce";
    case register_status::replayed:
      return "replayed";
  }
  return "bad_request";
}

registrar::registrar(nonce_authority nonces, registrar_settings settings)
    : nonces_(std::move(nonces)), settings_(settings), counters_(settings.replay_window) {}

std::expected<registrar, error> registrar::create(nonce_authority nonces,
                                                  registrar_settings settings) {
  if (settings.min_expires <= seconds{0})
    return std::unexpected(error{errc::invalid_config, "min_expires must be positive"});
  if (settings.min_expires > settings.default_expires ||
      settings.default_expires > settings.max_expires)
    return std::unexpected(
        error{errc::invalid_config, "expiry bounds must satisfy min <= default <= max"});
  if (settings.preferred == digest_algorithm::md5 && !settings.offer_md5)
    return std::unexpected(error{errc::invalid_config, "MD5 preferred but not offered"});
  if (settings.preferred == digest_algorithm::sha256 && !settings.offer_sha256)
    return std::unexpected(error{errc::invalid_config, "SHA-256 preferred but not offered"});
  if (settings.max_bindings_per_extension == 0 || settings.replay_window == 0)
    return std::unexpected(
        error{errc::invalid_config, "binding and replay window sizes must be positive"});
  if (nonces.realm().empty())
    return std::unexpected(error{errc::invalid_config, "realm must not be empty"});
  return registrar(std::move(nonces), settings);
}

register_outcome registrar::challenge(register_outcome out, register_status status, time_point now,
                                      const random_source& random, bool proxy) const {
  // One nonce for every algorithm: the response names its algorithm and the nonce counts are
  // tracked per nonce, so sharing costs nothing and saves an HMAC per challenge.
  auto nonce = nonces_.issue(now, random);
  bool stale = status == register_status::stale_nonce || status == register_status::replayed;
  out.status = status;
  out.code = proxy ? 407 : 401;
  out.reason = proxy ? "Proxy Authentication Required" : "Unauthorized";
  auto header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  out.headers.reserve(2);
  out.headers.emplace_back(header, make_challenge(realm(), nonce, settings_.preferred, stale));
  auto other = settings_.preferred == digest_algorithm::sha256 ? digest_algorithm::md5
                                                               : digest_algorithm::sha256;
  if ((other == digest_algorithm::sha256 && settings_.offer_sha256) ||
      (other == digest_algorithm::md5 && settings_.offer_md5))
    out.headers.emplace_back(header, make_challenge(realm(), nonce, other, stale));
  return out;
}

register_outcome registrar::handle_register(const sip_message& request, const std::string& source,
                                            transport kind,
                                            const telephony_directory_data& directory,
                                            time_point now, const random_source& random) {
  register_outcome out;
  if (!request.is_request || request.method != "REGISTER") {
    set(out, register_status::bad_request, 400, "Bad Request", "not a REGISTER");
    return out;
  }
  if (!is_sip_scheme(request.request_uri.scheme)) {
    set(out, register_status::bad_request, 416, "Unsupported URI Scheme",
        "Request-URI is not sip or sips");
    return out;
  }
  const auto& aor = request.to.uri;
  if (!is_sip_scheme(aor.scheme)) {
    set(out, register_status::bad_request, 400, "Bad Request", "To is not a sip or sips URI");
    return out;
  }
  if (aor.user.empty()) {
    set(out, register_status::not_found, 404, "Not Found", "To names no extension");
    return out;
  }
  out.extension = aor.user;

  // SPEC SIP-3: while auto-create holds, an unknown extension number registers and is
  // created; it lapses by itself 24 h after it was switched on.
  if (!directory.extensions.contains(aor.user) && auto_create_active(directory.policy, now) &&
      aor.user.size() <= 15 &&
      std::ranges::all_of(aor.user, [](char c) { return c >= '0' && c <= '9'; })) {
    out.auto_created = true;
    out.detail = "auto-created";
    return apply_contacts(std::move(out), request, source, kind, false, now);
  }
  auto checked = authenticate(std::move(out), request, aor.user, false, directory, now, random);
  if (checked.code != 200)
    return checked;
  bool authenticated = checked.algorithm.has_value();
  return apply_contacts(std::move(checked), request, source, kind, authenticated, now);
}

register_outcome registrar::authorize_request(const sip_message& request,
                                              const telephony_directory_data& directory,
                                              time_point now, const random_source& random) {
  register_outcome out;
  if (!request.is_request || !is_sip_scheme(request.from.uri.scheme) ||
      request.from.uri.user.empty()) {
    set(out, register_status::forbidden, 403, "Forbidden", "From names no extension");
    return out;
  }
  out.extension = request.from.uri.user;
  return authenticate(std::move(out), request, request.from.uri.user, true, directory, now, random);
}

register_outcome registrar::authenticate(register_outcome out, const sip_message& request,
                                         std::string_view number, bool proxy,
                                         const telephony_directory_data& directory, time_point now,
                                         const random_source& random) {
  const std::string user(number);
  // SPEC SIP-2: the phone password, else the login code of the extension's user. An
  // extension missing from the directory never registers, whatever users name it.
  const extension_record* extension = nullptr;
  if (auto it = directory.extensions.find(user); it != directory.extensions.end())
    extension = &it->second;
  const digest_secrets* secrets = nullptr;
  const telephony_user* code_owner = nullptr;
  auto resolve_secrets = [&] {
    if (extension != nullptr && extension->has_phone_password &&
        has_secret(extension->phone_password_digest)) {
      secrets = &extension->phone_password_digest;
      return;
    }
    // Searched for unknown extensions too, so their answer costs what a real one's does.
    const auto* owner = owner_of(directory, user);
    if (extension != nullptr && owner != nullptr && has_secret(owner->login_code_digest)) {
      secrets = &owner->login_code_digest;
      code_owner = owner;
    }
  };
  if (extension != nullptr && !extension->force_authorization) {
    resolve_secrets();
    if (secrets == nullptr) {
      set(out, register_status::registered, 200, "OK", "no authorization required");
      return out;
    }
  }

  std::optional<digest_credentials> credentials;
  bool malformed = false;
  for (const auto& value : proxy ? request.proxy_authorizations : request.authorizations) {
    auto parsed = parse_authorization(value);
    if (!parsed) {
      malformed = true;
      continue;
    }
    // Credentials for another realm belong to another server on the path (RFC 3261 22.3).
    if (parsed->realm == realm()) {
      credentials = std::move(*parsed);
      break;
    }
  }
  if (!credentials) {
    if (malformed) {
      set(out, register_status::bad_request, 400, "Bad Request",
          proxy ? "malformed Proxy-Authorization" : "malformed Authorization");
      return out;
    }
    out.detail = "no credentials for this realm";
    return challenge(std::move(out), register_status::challenged, now, random, proxy);
  }
  if (credentials->username != user) {
    set(out, register_status::forbidden, 403, "Forbidden",
        proxy ? "digest username is not the From extension"
              : "digest username is not the To extension");
    out.auth_failure = true;
    return out;
  }
  if (credentials->qop.empty()) {
    // Without qop there is no nonce count, and the challenge asked for qop=auth.
    set(out, register_status::bad_request, 400, "Bad Request", "qop=auth required");
    return out;
  }
  if (credentials->algorithm == digest_algorithm::md5 && !settings_.offer_md5) {
    set(out, register_status::forbidden, 403, "Forbidden", "MD5 is not offered");
    return out;
  }
  if (credentials->algorithm == digest_algorithm::sha256 && !settings_.offer_sha256) {
    set(out, register_status::forbidden, 403, "Forbidden", "SHA-256 is not offered");
    return out;
  }
  if (!same_resource(credentials->uri, request.request_uri)) {
    set(out, register_status::bad_request, 400, "Bad Request", "digest uri is not the Request-URI");
    return out;
  }
  auto nonce = nonces_.check(credentials->nonce, now);
  if (nonce == nonce_status::forged) {
    // Nothing was verified, so nothing is counted; a fresh challenge lets a phone that
    // talked to a node with another secret recover.
    out.detail = "nonce not issued by this cluster";
    return challenge(std::move(out), register_status::challenged, now, random, proxy);
  }

  if (secrets == nullptr)
    resolve_secrets();
  bool sha256 = credentials->algorithm == digest_algorithm::sha256;
  std::string_view ha1 = secrets == nullptr ? (sha256 ? dummy_ha1_sha256 : dummy_ha1_md5)
                         : sha256           ? std::string_view(secrets->ha1_sha256)
                                            : std::string_view(secrets->ha1_md5);
  // The response is verified before the nonce's age and count are looked at: stale=true
  // promises the password was right (RFC 7616 3.3), and an eavesdropper must not be able to
  // burn a phone's nonce counts with wrong responses.
  bool matched = verify_response(*credentials, request.method, ha1) && secrets != nullptr;
  if (!matched) {
    // The phone sees the same 403 whether the extension exists or not.
    set(out, register_status::forbidden, 403, "Forbidden",
        extension == nullptr ? "unknown extension"
        : secrets == nullptr ? "extension has no secret"
                             : "wrong password");
    out.auth_failure = true;
    return out;
  }
  if (code_owner != nullptr && security::is_locked(code_owner->lock, now)) {
    set(out, register_status::forbidden, 403, "Forbidden", "user locked");
    return out;
  }
  if (nonce == nonce_status::stale) {
    out.detail = "nonce expired";
    return challenge(std::move(out), register_status::stale_nonce, now, random, proxy);
  }
  // parse_authorization() guarantees 8 hex digits whenever qop is present.
  auto count = parse_nonce_count(credentials->nc).value_or(0);
  if (!counters_.accept(credentials->nonce, count)) {
    out.detail = "nonce count " + credentials->nc + " used before";
    return challenge(std::move(out), register_status::replayed, now, random, proxy);
  }
  out.algorithm = credentials->algorithm;
  set(out, register_status::registered, 200, "OK", "");
  return out;
}

const telephony_user* registrar::owner_of(const telephony_directory_data& directory,
                                          std::string_view number) {
  // A scan of every user per REGISTER would cost ~100 us at 10,000 users, and attackers
  // choose unknown extensions; the index costs one scan per directory version.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0 || !owners_indexed_ || directory.version != owners_version_ ||
        directory.users.size() != owners_count_) {
      owners_.clear();
      for (const auto& [name, user] : directory.users)
        if (!user.extension.empty())
          owners_.emplace(user.extension, name);
      owners_indexed_ = true;
      owners_version_ = directory.version;
      owners_count_ = directory.users.size();
    }
    auto it = owners_.find(number);
    if (it == owners_.end())
      return nullptr;
    // Every hit is checked against the directory itself, so a stale index can only fail
    // closed, never hand out another user's login code.
    auto user = directory.users.find(it->second);
    if (user != directory.users.end() && user->second.extension == number)
      return &user->second;
  }
  return nullptr;
}

register_outcome registrar::apply_contacts(register_outcome out, const sip_message& request,
                                           const std::string& source, transport kind,
                                           bool authenticated, time_point now) {
  auto& table = bindings_[out.extension];
  std::erase_if(table, [&](const registration_binding& b) { return b.expires_at <= now; });

  bool wildcard = std::any_of(request.contacts.begin(), request.contacts.end(),
                              [](const sip_contact& c) { return c.wildcard; });
  if (wildcard) {
    // RFC 3261 10.3 step 6: "*" stands alone and only with Expires: 0.
    if (request.contacts.size() != 1 || request.expires != std::uint32_t{0}) {
      set(out, register_status::bad_request, 400, "Bad Request",
          "\"*\" needs Expires: 0 and no other contact");
    } else {
      table.clear();
      set(out, register_status::unregistered, 200, "OK", "all bindings removed");
    }
    if (table.empty())
      bindings_.erase(out.extension);
    return out;
  }

  auto requested = [&](const sip_contact& contact) -> std::uint32_t {
    if (contact.expires)
      return *contact.expires;
    if (request.expires)
      return *request.expires;
    return static_cast<std::uint32_t>(settings_.default_expires.count());
  };
  // All or nothing: a 423 leaves every binding as it was.
  for (const auto& contact : request.contacts) {
    auto interval = requested(contact);
    if (interval != 0 && seconds{interval} < settings_.min_expires) {
      set(out, register_status::interval_too_brief, 423, "Interval Too Brief",
          "requested " + std::to_string(interval) + " s");
      out.headers.emplace_back("Min-Expires", std::to_string(settings_.min_expires.count()));
      if (table.empty())
        bindings_.erase(out.extension);
      return out;
    }
  }

  bool removed_only = !request.contacts.empty();
  for (const auto& contact : request.contacts) {
    auto interval = requested(contact);
    auto existing = std::find_if(table.begin(), table.end(), [&](const registration_binding& b) {
      return b.contact == contact.uri.text;
    });
    if (interval == 0) {
      if (existing != table.end())
        table.erase(existing);
      continue;
    }
    removed_only = false;
    auto expires_at = now + std::min(seconds{interval}, settings_.max_expires);
    registration_binding fresh{.extension = out.extension,
                               .contact = contact.uri.text,
                               .expires_at = expires_at,
                               .source = source,
                               .kind = kind,
                               .call_id = request.call_id,
                               .cseq = request.cseq,
                               .user_agent = request.user_agent,
                               .authenticated = authenticated};
    if (existing != table.end()) {
      // RFC 3261 10.3 step 7: an older request of the same registration arrived late.
      if (existing->call_id == request.call_id && request.cseq <= existing->cseq)
        continue;
      *existing = std::move(fresh);
      continue;
    }
    if (table.size() >= settings_.max_bindings_per_extension) {
      auto soonest = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
        return a.expires_at < b.expires_at;
      });
      table.erase(soonest);
    }
    table.push_back(std::move(fresh));
  }
  if (removed_only)
    set(out, register_status::unregistered, 200, "OK", "bindings removed");
  else
    set(out, register_status::registered, 200, "OK",
        request.contacts.empty() ? "query" : "bindings updated");
  add_contact_headers(out, now);
  if (table.empty())
    bindings_.erase(out.extension);
  return out;
}

void registrar::add_contact_headers(register_outcome& out, time_point now) const {
  auto it = bindings_.find(out.extension);
  if (it == bindings_.end())
    return;
  out.headers.reserve(out.headers.size() + it->second.size());
  for (const auto& b : it->second) {
    auto remaining = std::chrono::ceil<seconds>(b.expires_at - now).count();
    std::string value;
    value.reserve(b.contact.size() + 24);
    value += '<';
    value += b.contact;
    value += ">;expires=";
    value += std::to_string(remaining);
    out.headers.emplace_back("Contact", std::move(value));
  }
}

std::vector<registration_binding> registrar::bindings(time_point now) const {
  std::vector<registration_binding> out;
  for (const auto& [_, table] : bindings_)
    for (const auto& b : table)
      if (b.expires_at > now)
        out.push_back(b);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.extension, a.contact) < std::tie(b.extension, b.contact);
  });
  return out;
}

std::vector<registration_binding> registrar::lookup(std::string_view extension,
                                                    time_point now) const {
  std::vector<registration_binding> out;
  auto it = bindings_.find(extension);
  if (it == bindings_.end())
    return out;
  for (const auto& b : it->second)
    if (b.expires_at > now)
      out.push_back(b);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.contact < b.contact; });
  return out;
}

std::vector<registration_binding> registrar::expire(time_point now) {
  std::vector<registration_binding> removed;
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto& table = it->second;
    for (const auto& b : table)
      if (b.expires_at <= now)
        removed.push_back(b);
    std::erase_if(table, [&](const registration_binding& b) { return b.expires_at <= now; });
    it = table.empty() ? bindings_.erase(it) : std::next(it);
  }
  std::sort(removed.begin(), removed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.extension, a.contact) < std::tie(b.extension, b.contact);
  });
  return removed;
}

} // namespace ward::telephony
