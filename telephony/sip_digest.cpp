#include "telephony/sip_digest.hpp"

#include "core/enum_names.hpp"
#include "core/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <initializer_list>
#include <memory>

namespace ward::telephony {
namespace {

std::unexpected<error> refuse_authorization(const char* why) {
  return std::unexpected(error{errc::bad_authorization, why});
}

constexpr std::size_t raw_nonce_length = 32;
constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

std::string base64url_encode(std::span<const unsigned char, raw_nonce_length> in) {
  std::string out;
  out.reserve(nonce_authority::nonce_length);
  std::uint32_t bits = 0;
  int pending = 0;
  for (unsigned char byte : in) {
    bits = (bits << 8) | byte;
    pending += 8;
    while (pending >= 6) {
      pending -= 6;
      out += base64url_alphabet[(bits >> pending) & 0x3f];
    }
  }
  if (pending > 0)
    out += base64url_alphabet[(bits << (6 - pending)) & 0x3f];
  return out;
}

/// Decodes exactly one issued-nonce shape; the unused low bits of the last character must
/// be zero so that one nonce has exactly one spelling (no second spelling to replay).
std::optional<std::array<unsigned char, raw_nonce_length>> base64url_decode(std::string_view in) {
  if (in.size() != nonce_authority::nonce_length)
    return std::nullopt;
  std::array<unsigned char, raw_nonce_length> out{};
  std::uint32_t bits = 0;
  int pending = 0;
  std::size_t written = 0;
  for (char c : in) {
    int value = base64url_value(c);
    if (value < 0)
      return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      if (written == out.size())
        return std::nullopt;
      out[written++] = static_cast<unsigned char>((bits >> pending) & 0xff);
    }
  }
  if (written != out.size() || (bits & ((1u << pending) - 1)) != 0)
    return std::nullopt;
  return out;
}

std::int64_t read_be64(const unsigned char* p) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value = (value << 8) | p[i];
  return static_cast<std::int64_t>(value);
}

const EVP_MD* md_of(digest_algorithm algorithm) {
  return algorithm == digest_algorithm::sha256 ? EVP_sha256() : EVP_md5();
}

std::size_t hex_length(digest_algorithm algorithm) {
  return algorithm == digest_algorithm::sha256 ? 64 : 32;
}

struct md_ctx_free {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

/// Hex digest of the concatenated parts into `out` (at least 2 * EVP_MAX_MD_SIZE); returns
/// the hex length, 0 on failure. One context per thread: the hot path allocates nothing.
std::size_t hex_digest(const EVP_MD* md, std::initializer_list<std::string_view> parts, char* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    return 0;
  for (auto part : parts)
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1)
      return 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
    return 0;
  write_hex(std::span(digest, size), out);
  return 2 * size;
}

} // namespace

constexpr auto digest_algorithm_names = name_table(enum_name{digest_algorithm::md5, "MD5"},
                                                   enum_name{digest_algorithm::sha256, "SHA-256"});

std::string_view to_string(digest_algorithm algorithm) {
  return name_of(digest_algorithm_names, algorithm, "MD5");
}

std::optional<digest_algorithm> parse_digest_algorithm(std::string_view text) {
  return parse_name(digest_algorithm_names, text, iequals);
}

constexpr auto nonce_status_names =
    name_table(enum_name{nonce_status::valid, "valid"}, enum_name{nonce_status::stale, "stale"},
               enum_name{nonce_status::forged, "forged"});

std::string_view to_string(nonce_status status) {
  return name_of(nonce_status_names, status, "forged");
}

// ---- nonce_authority ---------------------------------------------------------------------

nonce_authority::nonce_authority(std::array<std::byte, 32> secret, std::string realm,
                                 std::chrono::seconds lifetime)
    : secret_(secret), realm_(std::move(realm)), lifetime_(lifetime) {}

std::array<unsigned char, 16>
nonce_authority::mac(std::span<const unsigned char, 16> stamp_and_random) const {
  // The realm is in the MAC so a nonce of one realm is no good in another that happens to
  // share the cluster secret.
  std::array<unsigned char, 16 + 256> input{};
  std::size_t length = 16;
  std::memcpy(input.data(), stamp_and_random.data(), 16);
  std::unique_ptr<unsigned char[]> long_input;
  const unsigned char* data = input.data();
  if (realm_.size() <= 256) {
    std::memcpy(input.data() + 16, realm_.data(), realm_.size());
    length += realm_.size();
  } else {
    long_input = std::make_unique<unsigned char[]>(16 + realm_.size());
    std::memcpy(long_input.get(), stamp_and_random.data(), 16);
    std::memcpy(long_input.get() + 16, realm_.data(), realm_.size());
    length += realm_.size();
    data = long_input.get();
  }
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int full_length = 0;
  std::array<unsigned char, 16> out{};
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), data, length, full,
           &full_length) == nullptr ||
      full_length < out.size()) {
    // No MAC means no nonce can verify: a fixed all-zero tag with a random key is never
    // produced by a working HMAC, and check() refuses it below.
    return out;
  }
  std::memcpy(out.data(), full, out.size());
  return out;
}

std::string nonce_authority::issue(time_point now, const random_source& random) const {
  std::array<unsigned char, raw_nonce_length> raw{};
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto stamp = static_cast<std::uint64_t>(seconds);
  for (int i = 0; i < 8; ++i)
    raw[static_cast<std::size_t>(i)] = static_cast<unsigned char>(stamp >> (56 - 8 * i));
  random(std::as_writable_bytes(std::span(raw).subspan(8, 8)));
  auto tag = mac(std::span<const unsigned char, 16>(raw.data(), 16));
  std::memcpy(raw.data() + 16, tag.data(), tag.size());
  return base64url_encode(raw);
}

nonce_status nonce_authority::check(std::string_view nonce, time_point now) const {
  auto raw = base64url_decode(nonce);
  if (!raw)
    return nonce_status::forged;
  auto expected = mac(std::span<const unsigned char, 16>(raw->data(), 16));
  static constexpr std::array<unsigned char, 16> zero{};
  if (CRYPTO_memcmp(expected.data(), raw->data() + 16, expected.size()) != 0 ||
      CRYPTO_memcmp(expected.data(), zero.data(), zero.size()) == 0)
    return nonce_status::forged;
  auto issued = read_be64(raw->data());
  auto current = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // A nonce from the future came from a node whose clock runs ahead: authentic, so stale
  // (the phone retries at once) rather than forged (which would count as an attack).
  if (issued > current + clock_skew.count())
    return nonce_status::stale;
  if (current - issued >= lifetime_.count())
    return nonce_status::stale;
  return nonce_status::valid;
}

std::optional<std::int64_t> nonce_issue_time(std::string_view nonce) {
  auto raw = base64url_decode(nonce);
  if (!raw)
    return std::nullopt;
  return read_be64(raw->data());
}

// ---- nonce_counter_window ----------------------------------------------------------------

nonce_counter_window::nonce_counter_window(std::size_t capacity)
    : ring_(std::max<std::size_t>(capacity, 1)),
      index_(std::bit_ceil(2 * std::max<std::size_t>(capacity, 1)), empty) {}

std::size_t nonce_counter_window::home(const std::array<unsigned char, 32>& key) const {
  // The tail of a nonce is its HMAC: uniformly distributed and not choosable by a client
  // (forged nonces never get here), so it hashes without a keyed hash function.
  std::uint64_t h = 0;
  std::memcpy(&h, key.data() + 16, sizeof h);
  return static_cast<std::size_t>(h) & (index_.size() - 1);
}

std::size_t nonce_counter_window::find(const std::array<unsigned char, 32>& key) const {
  auto mask = index_.size() - 1;
  for (auto i = home(key);; i = (i + 1) & mask) {
    if (index_[i] == empty)
      return index_.size();
    if (ring_[index_[i]].key == key)
      return i;
  }
}

void nonce_counter_window::erase_index(std::size_t position) {
  // Backward-shift deletion keeps linear probing free of tombstones.
  auto mask = index_.size() - 1;
  auto hole = position;
  for (auto next = (hole + 1) & mask; index_[next] != empty; next = (next + 1) & mask) {
    auto want = home(ring_[index_[next]].key);
    // Move `next` into the hole when its home is not in the cyclic range (hole, next].
    bool in_range = hole <= next ? (want > hole && want <= next) : (want > hole || want <= next);
    if (!in_range) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = empty;
}

bool nonce_counter_window::accept(std::string_view nonce, std::uint32_t nc) {
  auto raw = base64url_decode(nonce);
  if (!raw || nc == 0)
    return false;
  auto position = find(*raw);
  if (position != index_.size()) {
    auto& entry = ring_[index_[position]];
    if (nc <= entry.nc)
      return false;
    entry.nc = nc;
    return true;
  }
  auto issued = read_be64(raw->data());
  if (issued <= evicted_through_)
    return false;
  auto& victim = ring_[next_];
  if (victim.used) {
    evicted_through_ = std::max(evicted_through_, victim.issued);
    erase_index(find(victim.key));
    --size_;
    if (issued <= evicted_through_) {
      victim.used = false;
      return false;
    }
  }
  victim = {*raw, issued, nc, true};
  auto mask = index_.size() - 1;
  auto i = home(*raw);
  while (index_[i] != empty)
    i = (i + 1) & mask;
  index_[i] = static_cast<std::uint32_t>(next_);
  next_ = (next_ + 1) % ring_.size();
  ++size_;
  return true;
}

std::optional<std::uint32_t> parse_nonce_count(std::string_view nc) {
  std::array<unsigned char, 4> bytes{};
  if (!from_hex(nc, bytes))
    return std::nullopt;
  std::uint32_t value = 0;
  for (unsigned char b : bytes)
    value = (value << 8) | b;
  return value;
}

// ---- response ----------------------------------------------------------------------------

bool verify_response(const digest_credentials& credentials, std::string_view method,
                     std::string_view ha1_hex) {
  auto length = hex_length(credentials.algorithm);
  if (ha1_hex.size() != length || credentials.response.size() != length)
    return false;
  bool with_qop = !credentials.qop.empty();
  if (with_qop && (credentials.qop != "auth" || !parse_nonce_count(credentials.nc) ||
                   credentials.cnonce.empty()))
    return false;
  const EVP_MD* md = md_of(credentials.algorithm);
  char ha1[2 * EVP_MAX_MD_SIZE];
  for (std::size_t i = 0; i < length; ++i) {
    if (!is_hex_digit(ha1_hex[i]))
      return false;
    ha1[i] = lower(ha1_hex[i]);
  }
  char ha2[2 * EVP_MAX_MD_SIZE];
  if (hex_digest(md, {method, ":", credentials.uri}, ha2) != length)
    return false;
  std::string_view ha1_view(ha1, length), ha2_view(ha2, length);
  char expected[2 * EVP_MAX_MD_SIZE];
  std::size_t produced =
      with_qop ? hex_digest(md,
                            {ha1_view, ":", credentials.nonce, ":", credentials.nc, ":",
                             credentials.cnonce, ":", credentials.qop, ":", ha2_view},
                            expected)
               : hex_digest(md, {ha1_view, ":", credentials.nonce, ":", ha2_view}, expected);
  if (produced != length)
    return false;
  // RFC 7616 asks for lowercase hex; some phones send uppercase, which is the same value.
  char presented[2 * EVP_MAX_MD_SIZE];
  for (std::size_t i = 0; i < length; ++i)
    presented[i] = lower(credentials.response[i]);
  return CRYPTO_memcmp(expected, presented, length) == 0;
}

namespace {

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

} // namespace

std::string make_challenge(std::string_view realm, std::string_view nonce,
                           digest_algorithm algorithm, bool stale) {
  std::string out;
  out.reserve(realm.size() + nonce.size() + 80);
  out += "Digest realm=";
  append_quoted(out, realm);
  out += ", nonce=";
  append_quoted(out, nonce);
  out += ", algorithm=";
  out += to_string(algorithm);
  out += ", qop=\"auth\"";
  if (stale)
    out += ", stale=true";
  return out;
}

// ---- Authorization parser ----------------------------------------------------------------

bool is_sip_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return false;
  }
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

/// Parameters a credential may carry at most once; unknown ones are remembered by name.
enum class known_param : std::uint8_t {
  username,
  realm,
  nonce,
  uri,
  response,
  algorithm,
  cnonce,
  opaque,
  qop,
  nc,
  other,
};

known_param classify(std::string_view name) {
  static constexpr std::pair<std::string_view, known_param> names[] = {
      {"username", known_param::username}, {"realm", known_param::realm},
      {"nonce", known_param::nonce},       {"uri", known_param::uri},
      {"response", known_param::response}, {"algorithm", known_param::algorithm},
      {"cnonce", known_param::cnonce},     {"opaque", known_param::opaque},
      {"qop", known_param::qop},           {"nc", known_param::nc},
  };
  for (const auto& [text, param] : names)
    if (iequals(name, text))
      return param;
  return known_param::other;
}

/// Where each known parameter's value goes, in known_param's order. The algorithm has no
/// string of its own: it is parsed once every parameter has been read.
constexpr std::array<std::string digest_credentials::*,
                     static_cast<std::size_t>(known_param::other)>
    credential_fields{
        &digest_credentials::username, &digest_credentials::realm,    &digest_credentials::nonce,
        &digest_credentials::uri,      &digest_credentials::response, nullptr,
        &digest_credentials::cnonce,   &digest_credentials::opaque,   &digest_credentials::qop,
        &digest_credentials::nc,
    };
static_assert(credential_fields[static_cast<std::size_t>(known_param::algorithm)] == nullptr &&
                  credential_fields.back() == &digest_credentials::nc,
              "credential_fields follows known_param");

constexpr std::size_t max_params = 32;

class auth_param_reader {
public:
  explicit auth_param_reader(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_]))
      ++pos_;
  }
  bool at_end() const { return pos_ == text_.size(); }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    auto start = pos_;
    while (pos_ < text_.size() && is_sip_token_char(text_[pos_]))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }
  /// quoted-string per RFC 3261: qdtext is printable ASCII, space, tab or UTF-8 bytes;
  /// quoted-pair escapes any ASCII byte but NUL, CR and LF.
  std::expected<std::string, error> quoted() {
    std::string out;
    ++pos_; // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      auto u = static_cast<unsigned char>(c);
      if (c == '"')
        return out;
      if (c == '\\') {
        if (pos_ == text_.size())
          break;
        auto escaped = static_cast<unsigned char>(text_[pos_++]);
        if (escaped == 0 || escaped == '\r' || escaped == '\n' || escaped >= 0x80)
          return refuse_authorization("invalid escape in quoted string");
        out += static_cast<char>(escaped);
        continue;
      }
      if ((u < 0x20 && c != '\t') || u == 0x7f)
        return refuse_authorization("control character in quoted string");
      out += c;
    }
    return refuse_authorization("unterminated quoted string");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

} // namespace

std::expected<digest_credentials, error> parse_authorization(std::string_view header_value) {
  if (header_value.size() > max_authorization_length)
    return refuse_authorization("authorization header too long");
  auth_param_reader in(header_value);
  in.skip_space();
  auto scheme = in.token();
  if (!iequals(scheme, "Digest"))
    return refuse_authorization("scheme is not Digest");
  if (!is_space(in.peek()))
    return refuse_authorization("missing space after scheme");
  in.skip_space();

  digest_credentials out;
  std::uint32_t seen = 0;
  std::array<std::string_view, max_params> other_names{};
  std::size_t others = 0;
  std::size_t count = 0;
  std::optional<std::string> algorithm;
  for (;;) {
    if (++count > max_params)
      return refuse_authorization("too many parameters");
    auto name = in.token();
    if (name.empty())
      return refuse_authorization("expected a parameter name");
    in.skip_space();
    if (!in.consume('='))
      return refuse_authorization("expected '=' after parameter name");
    in.skip_space();
    std::string value;
    if (in.peek() == '"') {
      auto quoted = in.quoted();
      if (!quoted)
        return std::unexpected(quoted.error());
      value = std::move(*quoted);
    } else {
      auto bare = in.token();
      if (bare.empty())
        return refuse_authorization("expected a token or quoted string value");
      value = bare;
    }
    auto param = classify(name);
    if (param == known_param::other) {
      for (std::size_t i = 0; i < others; ++i)
        if (iequals(other_names[i], name))
          return refuse_authorization("duplicate parameter");
      other_names[others++] = name;
    } else {
      auto bit = 1u << static_cast<unsigned>(param);
      if (seen & bit)
        return refuse_authorization("duplicate parameter");
      seen |= bit;
      if (param == known_param::algorithm)
        algorithm = std::move(value);
      else
        out.*credential_fields[static_cast<std::size_t>(param)] = std::move(value);
    }
    in.skip_space();
    if (in.at_end())
      break;
    if (!in.consume(','))
      return refuse_authorization("expected ',' between parameters");
    in.skip_space();
  }

  constexpr auto required = (1u << static_cast<unsigned>(known_param::username)) |
                            (1u << static_cast<unsigned>(known_param::realm)) |
                            (1u << static_cast<unsigned>(known_param::nonce)) |
                            (1u << static_cast<unsigned>(known_param::uri)) |
                            (1u << static_cast<unsigned>(known_param::response));
  if ((seen & required) != required)
    return refuse_authorization("missing username, realm, nonce, uri or response");
  if (out.username.empty() || out.nonce.empty() || out.uri.empty())
    return refuse_authorization("empty username, nonce or uri");
  if (algorithm) {
    auto parsed = parse_digest_algorithm(*algorithm);
    if (!parsed)
      return refuse_authorization("unsupported algorithm");
    out.algorithm = *parsed;
  }
  if (seen & (1u << static_cast<unsigned>(known_param::qop))) {
    if (out.qop != "auth")
      return refuse_authorization("unsupported qop");
    if (!parse_nonce_count(out.nc) || out.cnonce.empty())
      return refuse_authorization("qop=auth needs nc (8 hex digits) and cnonce");
  } else if (!out.nc.empty() || !out.cnonce.empty()) {
    return refuse_authorization("nc or cnonce without qop");
  }
  if (out.response.size() != hex_length(out.algorithm) ||
      !std::all_of(out.response.begin(), out.response.end(), is_hex_digit))
    return refuse_authorization("response is not a digest of the algorithm");
  return out;
}

namespace {

/// The auth-params of a challenge, names lower-cased and quotes removed; a malformed list
/// gives what was read before the damage.
std::vector<std::pair<std::string, std::string>> challenge_params(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t at = 0;
  auto skip_space = [&] {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == ','))
      ++at;
  };
  while (true) {
    skip_space();
    const auto equals = text.find('=', at);
    if (equals == std::string_view::npos)
      break;
    std::string name;
    for (char c : text.substr(at, equals - at))
      if (c != ' ' && c != '\t')
        name += lower(c);
    at = equals + 1;
    std::string value;
    if (at < text.size() && text[at] == '"') {
      ++at;
      while (at < text.size() && text[at] != '"') {
        if (text[at] == '\\' && at + 1 < text.size())
          ++at;
        value += text[at++];
      }
      if (at >= text.size())
        break;
      ++at;
    } else {
      while (at < text.size() && text[at] != ',')
        value += text[at++];
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.pop_back();
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

} // namespace

std::optional<digest_challenge> parse_challenge(std::string_view value) {
  if (value.size() < 7 || value.size() > max_authorization_length)
    return std::nullopt;
  std::string scheme;
  for (char c : value.substr(0, 6))
    scheme += lower(c);
  if (scheme != "digest" || (value[6] != ' ' && value[6] != '\t'))
    return std::nullopt;
  digest_challenge challenge;
  bool qop_offered = false;
  for (auto& [name, text] : challenge_params(value.substr(7))) {
    if (name == "realm") {
      challenge.realm = std::move(text);
    } else if (name == "nonce") {
      challenge.nonce = std::move(text);
    } else if (name == "opaque") {
      challenge.opaque = std::move(text);
    } else if (name == "algorithm") {
      auto algorithm = parse_digest_algorithm(text);
      if (!algorithm)
        return std::nullopt;
      challenge.algorithm = *algorithm;
    } else if (name == "qop") {
      qop_offered = true;
      std::string_view options = text;
      while (!options.empty()) {
        const auto comma = options.find(',');
        auto option = options.substr(0, comma);
        while (!option.empty() && option.front() == ' ')
          option.remove_prefix(1);
        while (!option.empty() && option.back() == ' ')
          option.remove_suffix(1);
        if (option == "auth")
          challenge.qop_auth = true;
        if (comma == std::string_view::npos)
          break;
        options.remove_prefix(comma + 1);
      }
    }
  }
  if (challenge.realm.empty() || challenge.nonce.empty() || (qop_offered && !challenge.qop_auth))
    return std::nullopt;
  return challenge;
}

std::string answer_challenge(const digest_challenge& challenge, std::string_view username,
                             std::string_view password, std::string_view method,
                             std::string_view uri, std::string_view cnonce) {
  const EVP_MD* md = md_of(challenge.algorithm);
  char ha1[2 * EVP_MAX_MD_SIZE];
  char ha2[2 * EVP_MAX_MD_SIZE];
  char response[2 * EVP_MAX_MD_SIZE];
  const auto length = hex_digest(md, {username, ":", challenge.realm, ":", password}, ha1);
  hex_digest(md, {method, ":", uri}, ha2);
  const std::string_view ha1_view(ha1, length), ha2_view(ha2, length);
  constexpr std::string_view nc = "00000001";
  const auto produced =
      challenge.qop_auth
          ? hex_digest(
                md,
                {ha1_view, ":", challenge.nonce, ":", nc, ":", cnonce, ":", "auth", ":", ha2_view},
                response)
          : hex_digest(md, {ha1_view, ":", challenge.nonce, ":", ha2_view}, response);
  std::string value = "Digest username=";
  append_quoted(value, username);
  value += ",realm=";
  append_quoted(value, challenge.realm);
  value += ",nonce=";
  append_quoted(value, challenge.nonce);
  value += ",uri=";
  append_quoted(value, uri);
  value += ",response=";
  append_quoted(value, std::string_view(response, produced));
  value += ",algorithm=";
  value += to_string(challenge.algorithm);
  if (challenge.qop_auth) {
    value += ",qop=auth,nc=";
    value += nc;
    value += ",cnonce=";
    append_quoted(value, cnonce);
  }
  if (!challenge.opaque.empty()) {
    value += ",opaque=";
    append_quoted(value, challenge.opaque);
  }
  return value;
}

} // namespace ward::telephony
