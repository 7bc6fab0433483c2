#include "telephony/sip_message.hpp"
#include "core/net_address.hpp"
#include "telephony/sip_digest.hpp"

#include <osipparser2/osip_parser.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace ward::telephony {
namespace {

// ---- osip plumbing -----------------------------------------------------------------------

// Under AddressSanitizer the arena fences every block with poisoned bytes, so an overflow
// inside osip is still caught although the memory no longer comes from malloc.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t arena_redzone = 16;
void poison(const void* start, std::size_t size) {
  ASAN_POISON_MEMORY_REGION(start, size);
}
void unpoison(const void* start, std::size_t size) {
  ASAN_UNPOISON_MEMORY_REGION(start, size);
}
#else
constexpr std::size_t arena_redzone = 0;
void poison(const void*, std::size_t) {}
void unpoison(const void*, std::size_t) {}
#endif

/// Bump allocator for everything osip allocates while one message is parsed; the whole
/// arena is released when the parse ends. osip frees what it allocates, except where it
/// does not: a multipart body whose part repeats Content-Type leaks the first one (found by
/// fuzzing), so every such message would cost the node memory for good. With the arena no
/// osip leak outlives a parse, and one parse costs a few bump allocations instead of ~130
/// malloc calls. Outside a parse the hooks defer to malloc, so other osip users are unaffected.
class osip_arena {
public:
  osip_arena() = default;
  osip_arena(const osip_arena&) = delete;
  osip_arena& operator=(const osip_arena&) = delete;
  ~osip_arena() {
    for (const auto& c : chunks_)
      unpoison(c.memory.get(), c.size);
  }

  bool active() const { return depth_ > 0; }
  void begin() { ++depth_; }
  void end() {
    if (--depth_ > 0)
      return;
    // Keep one standard chunk for the next parse on this thread; drop any overflow chunks.
    for (const auto& c : chunks_)
      unpoison(c.memory.get(), c.size);
    if (!chunks_.empty() && chunks_.front().size == chunk_size)
      chunks_.resize(1);
    else
      chunks_.clear();
    if (!chunks_.empty())
      poison(chunks_.front().memory.get(), chunks_.front().size);
    used_ = 0;
  }

  void* allocate(std::size_t size) {
    // osip never needs more than a few copies of a message; a larger request is a bug, and
    // refusing it keeps the size arithmetic below from overflowing.
    if (size > max_sip_message_size * 64)
      return nullptr;
    std::size_t need = header + (size + alignment - 1) / alignment * alignment + arena_redzone;
    if (chunks_.empty() || used_ + need > chunks_.back().size) {
      auto length = std::max(chunk_size, need);
      // No exception may cross osip's C frames: out of memory is a null osip copes with.
      std::unique_ptr<std::byte[]> memory(new (std::nothrow) std::byte[length]);
      if (!memory)
        return nullptr;
      poison(memory.get(), length);
      chunks_.push_back({std::move(memory), length});
      used_ = 0;
    }
    std::byte* block = chunks_.back().memory.get() + used_;
    used_ += need;
    unpoison(block, header + size);
    std::memcpy(block, &size, sizeof size);
    return block + header;
  }

  void* reallocate(void* old, std::size_t size) {
    std::size_t old_size = 0;
    std::memcpy(&old_size, static_cast<std::byte*>(old) - header, sizeof old_size);
    if (size <= old_size)
      return old;
    void* fresh = allocate(size);
    if (fresh != nullptr)
      std::memcpy(fresh, old, old_size);
    return fresh;
  }

  bool owns(const void* pointer) const {
    auto address = reinterpret_cast<std::uintptr_t>(pointer);
    for (const auto& c : chunks_) {
      auto start = reinterpret_cast<std::uintptr_t>(c.memory.get());
      if (address >= start && address < start + c.size)
        return true;
    }
    return false;
  }

private:
  struct chunk {
    std::unique_ptr<std::byte[]> memory;
    std::size_t size = 0;
  };
  /// Several times the largest message: osip copies the input and then every header.
  static constexpr std::size_t chunk_size = 256 * 1024;
  /// operator new[] aligns to 16; blocks keep that alignment and carry their size in front.
  static constexpr std::size_t alignment = 16;
  static constexpr std::size_t header = 16;

  std::vector<chunk> chunks_;
  std::size_t used_ = 0;
  int depth_ = 0;
};

thread_local osip_arena arena;

/// A digest uri is at most an Authorization header long; beyond that it is hostile.
constexpr std::size_t max_standalone_uri_length = 4096;

void* arena_malloc(std::size_t size) {
  return arena.active() ? arena.allocate(size) : std::malloc(size);
}

void* arena_realloc(void* pointer, std::size_t size) {
  if (pointer != nullptr && arena.owns(pointer))
    return arena.reallocate(pointer, size);
  if (pointer == nullptr && arena.active())
    return arena.allocate(size);
  return std::realloc(pointer, size);
}

void arena_free(void* pointer) {
  if (pointer != nullptr && !arena.owns(pointer))
    std::free(pointer);
}

/// Everything osip allocates within the scope is released when it ends: osip objects must
/// not outlive it (the parser copies what it keeps into std::string first).
class arena_scope {
public:
  arena_scope() { arena.begin(); }
  ~arena_scope() { arena.end(); }
  arena_scope(const arena_scope&) = delete;
  arena_scope& operator=(const arena_scope&) = delete;
};

void discard_trace(const char*, int, osip_trace_level_t, const char*, va_list) {}

/// parser_init() fills osip's process-wide header tables; parsing only reads them afterwards,
/// so one initialisation makes concurrent parsing safe. osip's trace writes every refusal to
/// stdout unless a trace function is installed: a scanner could otherwise fill the logs at
/// line rate. Refusals reach the audit trail as typed errors instead. The allocator hooks are
/// process-wide too; they route to the calling thread's arena only inside a parse.
void init_osip_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    osip_set_allocators(&arena_malloc, &arena_realloc, &arena_free);
    parser_init();
    osip_trace_initialize_func(OSIP_FATAL, &discard_trace);
    for (int level = TRACE_LEVEL0; level < END_TRACE_LEVEL; ++level)
      osip_trace_disable_level(static_cast<osip_trace_level_t>(level));
  });
}

/// Takes ownership of a string osip allocated.
std::string take_osip_string(char* text) {
  if (text == nullptr)
    return {};
  std::string out(text);
  osip_free(text);
  return out;
}

template <class Header, class ToStr>
std::optional<std::string> serialise(const Header* header, ToStr to_str) {
  char* text = nullptr;
  if (to_str(header, &text) != 0 || text == nullptr) {
    if (text != nullptr)
      osip_free(text);
    return std::nullopt;
  }
  return take_osip_string(text);
}

std::string_view view(const char* text) {
  return text == nullptr ? std::string_view{} : std::string_view(text);
}

/// Visits the elements of an osip list in order (osip_list_get is O(n) per call).
template <class T, class F> void for_each(const osip_list_t& list, F&& visit) {
  osip_list_iterator_t it;
  for (void* element = osip_list_get_first(&list, &it); osip_list_iterator_has_elem(it);
       element = osip_list_get_next(&it))
    visit(static_cast<T*>(element));
}

/// A generic parameter looked up by name (case-insensitive); `;lr` is present with an empty
/// value.
struct param_lookup {
  bool present = false;
  std::string_view value;
};

param_lookup find_param(const osip_list_t& params, std::string_view name) {
  param_lookup out;
  for_each<osip_generic_param_t>(params, [&](osip_generic_param_t* param) {
    if (out.present || param->gname == nullptr)
      return;
    std::string_view gname(param->gname);
    if (gname.size() == name.size() &&
        std::equal(gname.begin(), gname.end(), name.begin(),
                   [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
      out.present = true;
      out.value = view(param->gvalue);
    }
  });
  return out;
}

// ---- small validators --------------------------------------------------------------------

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

/// Decimal digits only (no sign, no space), saturating at `limit`; nullopt for anything else.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t limit) {
  if (text.empty())
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (limit - digit) / 10 ? limit : value * 10 + digit;
  }
  return value;
}

/// A port: 1..65535; absent (empty) is 0.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty())
    return std::uint16_t{0};
  auto value = parse_decimal(text, 1u << 20);
  if (!value || *value == 0 || *value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

uri_scheme classify_scheme(std::string_view scheme) {
  if (iequals(scheme, "sip"))
    return uri_scheme::sip;
  if (iequals(scheme, "sips"))
    return uri_scheme::sips;
  if (iequals(scheme, "tel"))
    return uri_scheme::tel;
  return uri_scheme::other;
}

/// Display names come from osip with their quotes and quoted-pairs; callers want the text.
std::string unquote_display(std::string_view display) {
  if (display.size() < 2 || display.front() != '"' || display.back() != '"')
    return std::string(display);
  std::string out;
  out.reserve(display.size() - 2);
  auto inner = display.substr(1, display.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size())
      ++i;
    out += inner[i];
  }
  return out;
}

sip_parse_error fail(sip_parse_errc code, std::string detail) {
  return {code, std::move(detail)};
}

// ---- framing -----------------------------------------------------------------------------

/// Offset just past the empty line that ends the header section, or npos. Line ends are
/// CRLF, CR or LF as osip accepts them; the start line and folded lines are never empty.
std::size_t header_section_end(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\r' || text[i] == '\n')
      return i + ((text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1);
    auto eol = text.find_first_of("\r\n", i);
    if (eol == std::string_view::npos)
      return std::string_view::npos;
    i = eol + ((text[eol] == '\r' && eol + 1 < text.size() && text[eol + 1] == '\n') ? 2 : 1);
  }
  return std::string_view::npos;
}

std::string_view skip_leading_line_breaks(std::string_view text) {
  auto first = text.find_first_not_of("\r\n");
  return first == std::string_view::npos ? std::string_view{} : text.substr(first);
}

std::string_view first_line(std::string_view text) {
  return text.substr(0, std::min(text.find_first_of("\r\n"), text.size()));
}

// ---- conversion --------------------------------------------------------------------------

enum class uri_role : std::uint8_t { request_uri, header };

std::unexpected<error> refuse_uri(const char* why) {
  return std::unexpected(error{errc::bad_uri, why});
}

std::expected<sip_uri, error> convert_uri(const osip_uri_t* uri, std::string text, uri_role role) {
  if (uri == nullptr || uri->scheme == nullptr)
    return refuse_uri("URI without a scheme");
  // Escaped headers make a URI carry headers into the next request: a Request-URI must not
  // (RFC 4475 escruri) and neither the registrar nor the B2BUA follows them in a header URI,
  // so a phone asking for them (RFC 4475 regbadct and regescrt) gets a 400.
  if (osip_list_size(&uri->url_headers) > 0)
    return refuse_uri("URI with escaped headers");
  sip_uri out;
  out.scheme = classify_scheme(uri->scheme);
  out.user = view(uri->username);
  out.host = view(uri->host);
  auto port = parse_port(view(uri->port));
  if (!port)
    return refuse_uri("URI port out of range");
  out.port = *port;
  if ((out.scheme == uri_scheme::sip || out.scheme == uri_scheme::sips) && out.host.empty())
    return refuse_uri("sip URI without host");
  if (role == uri_role::header && text.empty()) {
    auto serialised = serialise(uri, osip_uri_to_str);
    if (!serialised)
      return refuse_uri("URI osip cannot print");
    text = std::move(*serialised);
  }
  out.text = std::move(text);
  return out;
}

std::expected<sip_name_addr, sip_parse_error> convert_name_addr(const osip_from_t* header,
                                                                std::string_view name) {
  if (header == nullptr)
    return std::unexpected(fail(sip_parse_errc::missing_header, std::string(name)));
  if (header->url == nullptr)
    return std::unexpected(fail(sip_parse_errc::bad_header, std::string(name) + " without URI"));
  sip_name_addr out;
  auto value = serialise(header, osip_from_to_str);
  if (!value)
    return std::unexpected(fail(sip_parse_errc::bad_header, std::string(name)));
  out.value = std::move(*value);
  out.display = unquote_display(view(header->displayname));
  auto uri = convert_uri(header->url, {}, uri_role::header);
  if (!uri)
    return std::unexpected(
        fail(sip_parse_errc::bad_header, std::string(name) + ": " + uri.error().detail));
  out.uri = std::move(*uri);
  auto tag = find_param(header->gen_params, "tag");
  out.tag = tag.value;
  return out;
}

std::expected<sip_via, sip_parse_error> convert_via(const osip_via_t* via) {
  if (via == nullptr || via->host == nullptr || via->protocol == nullptr)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via without transport or host"));
  if (!iequals(view(via->version), "2.0"))
    return std::unexpected(fail(sip_parse_errc::unsupported_version, "Via is not SIP/2.0"));
  sip_via out;
  auto value = serialise(via, osip_via_to_str);
  if (!value)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via osip cannot print"));
  out.value = std::move(*value);
  out.transport = via->protocol;
  out.host = via->host;
  auto port = parse_port(view(via->port));
  if (!port || out.host.empty() || out.transport.empty())
    return std::unexpected(fail(sip_parse_errc::bad_header, "Via sent-by out of range"));
  out.port = *port;
  for_each<osip_generic_param_t>(via->via_params, [&](osip_generic_param_t* param) {
    if (param->gname == nullptr)
      return;
    sip_param p{param->gname, std::nullopt};
    if (param->gvalue != nullptr)
      p.value = param->gvalue;
    if (iequals(p.name, "branch") && out.branch.empty())
      out.branch = p.value.value_or("");
    else if (iequals(p.name, "rport"))
      out.rport = true;
    else if (iequals(p.name, "received") && out.received.empty())
      out.received = p.value.value_or("");
    out.params.push_back(std::move(p));
  });
  return out;
}

std::expected<sip_contact, sip_parse_error> convert_contact(const osip_contact_t* contact) {
  sip_contact out;
  if (contact->url == nullptr) {
    // osip files "*" (and, sloppily, anything starting with "*") as a display name.
    if (view(contact->displayname) == "*" && osip_list_size(&contact->gen_params) == 0) {
      out.wildcard = true;
      return out;
    }
    return std::unexpected(fail(sip_parse_errc::bad_header, "Contact without URI"));
  }
  auto uri = convert_uri(contact->url, {}, uri_role::header);
  if (!uri)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Contact: " + uri.error().detail));
  out.uri = std::move(*uri);
  auto expires = find_param(contact->gen_params, "expires");
  if (expires.present) {
    // RFC 3261 20.19 bounds expiry at 2^32-1; larger values saturate (RFC 4475 scalarlg
    // allows treating them as the default, and the registrar caps them anyway).
    auto seconds = parse_decimal(expires.value, std::numeric_limits<std::uint32_t>::max());
    if (!seconds)
      return std::unexpected(fail(sip_parse_errc::bad_header, "Contact expires is not a number"));
    out.expires = static_cast<std::uint32_t>(*seconds);
  }
  return out;
}

/// Max-Forwards, Expires, User-Agent and Priority are not among the headers osip parses; they sit
/// in its list of other headers with lower-cased names.
std::optional<sip_parse_error> read_other_headers(const osip_message_t& message, sip_message& out) {
  std::optional<sip_parse_error> error;
  bool max_forwards_seen = false;
  bool user_agent_seen = false;
  for_each<osip_header_t>(message.headers, [&](osip_header_t* header) {
    if (error || header->hname == nullptr)
      return;
    std::string_view name(header->hname);
    std::string_view value = view(header->hvalue);
    if (name == "max-forwards") {
      auto hops = parse_decimal(value, 1000);
      if (max_forwards_seen || !hops || *hops > 255)
        error = fail(sip_parse_errc::bad_header, "Max-Forwards not a single number up to 255");
      else
        out.max_forwards = static_cast<std::uint32_t>(*hops);
      max_forwards_seen = true;
    } else if (name == "expires") {
      auto seconds = parse_decimal(value, std::numeric_limits<std::uint32_t>::max());
      if (out.expires || !seconds)
        error = fail(sip_parse_errc::bad_header, "Expires not a single number");
      else
        out.expires = static_cast<std::uint32_t>(*seconds);
    } else if (name == "user-agent" && !user_agent_seen) {
      out.user_agent = value;
      user_agent_seen = true;
    } else if (name == "priority" && out.priority.empty()) {
      out.priority = value;
      std::ranges::transform(out.priority, out.priority.begin(),
                             [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
  });
  return error;
}

} // namespace

std::string_view to_string(sip_parse_errc code) {
  switch (code) {
    case sip_parse_errc::empty:
      return "empty";
    case sip_parse_errc::too_large:
      return "too_large";
    case sip_parse_errc::incomplete:
      return "incomplete";
    case sip_parse_errc::embedded_nul:
      return "embedded_nul";
    case sip_parse_errc::escaped_nul:
      return "escaped_nul";
    case sip_parse_errc::syntax:
      return "syntax";
    case sip_parse_errc::unsupported_version:
      return "unsupported_version";
    case sip_parse_errc::bad_request_uri:
      return "bad_request_uri";
    case sip_parse_errc::bad_status_code:
      return "bad_status_code";
    case sip_parse_errc::missing_header:
      return "missing_header";
    case sip_parse_errc::bad_header:
      return "bad_header";
    case sip_parse_errc::cseq_mismatch:
      return "cseq_mismatch";
    case sip_parse_errc::bad_content_length:
      return "bad_content_length";
    case sip_parse_errc::body_truncated:
      return "body_truncated";
  }
  return "syntax";
}

std::string_view to_string(transport kind) {
  switch (kind) {
    case transport::udp:
      return "udp";
    case transport::tcp:
      return "tcp";
    case transport::tls:
      return "tls";
    case transport::line:
      return "line";
  }
  return "udp";
}

std::string_view to_string(uri_scheme scheme) {
  switch (scheme) {
    case uri_scheme::sip:
      return "sip";
    case uri_scheme::sips:
      return "sips";
    case uri_scheme::tel:
      return "tel";
    case uri_scheme::other:
      return "other";
  }
  return "other";
}

std::expected<sip_message, sip_parse_error> parse_sip_message(std::string_view data) {
  if (data.size() > max_sip_message_size)
    return std::unexpected(fail(sip_parse_errc::too_large, std::to_string(data.size()) + " bytes"));
  auto text = skip_leading_line_breaks(data);
  if (text.empty())
    return std::unexpected(fail(sip_parse_errc::empty, {}));
  auto body_start = header_section_end(text);
  if (body_start == std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::incomplete, "no empty line after the headers"));
  auto headers = text.substr(0, body_start);
  if (headers.find('\0') != std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::embedded_nul, {}));
  if (headers.find("%00") != std::string_view::npos)
    return std::unexpected(fail(sip_parse_errc::escaped_nul, {}));

  init_osip_once();
  // osip's objects live in the arena and vanish with it; nothing below keeps a pointer.
  arena_scope scope;
  osip_message_t* parsed = nullptr;
  if (osip_message_init(&parsed) != 0)
    return std::unexpected(fail(sip_parse_errc::syntax, "osip out of memory"));
  if (int rc = osip_message_parse(parsed, text.data(), text.size()); rc != 0)
    return std::unexpected(fail(sip_parse_errc::syntax, "osip error " + std::to_string(rc)));
  const osip_message_t& m = *parsed;

  sip_message out;
  // osip only logs a version other than 2.0 (RFC 4475 badvers); SIP-Version is
  // case-insensitive (RFC 3261 7.1).
  if (!iequals(view(m.sip_version), "SIP/2.0"))
    return std::unexpected(
        fail(sip_parse_errc::unsupported_version, std::string(view(m.sip_version))));
  out.is_request = m.sip_method != nullptr;
  if (out.is_request) {
    out.method = m.sip_method;
    // osip accepted "METHOD SP Request-URI SP SIP/2.0": the URI text is what lies between the
    // two spaces, byte for byte what the client hashed into its digest uri.
    auto line = first_line(text);
    auto first_space = line.find(' ');
    auto second_space = line.find(' ', first_space + 1);
    if (first_space == std::string_view::npos || second_space == std::string_view::npos)
      return std::unexpected(fail(sip_parse_errc::syntax, "request line"));
    auto uri = convert_uri(
        m.req_uri, std::string(line.substr(first_space + 1, second_space - first_space - 1)),
        uri_role::request_uri);
    if (!uri)
      return std::unexpected(fail(sip_parse_errc::bad_request_uri, uri.error().detail));
    out.request_uri = std::move(*uri);
  } else {
    // osip reads the code with sscanf("%d"): 4294967301 (RFC 4475 bigcode) wraps to 5.
    if (m.status_code < 100 || m.status_code > 699)
      return std::unexpected(fail(sip_parse_errc::bad_status_code, std::to_string(m.status_code)));
    out.status_code = m.status_code;
    out.reason = view(m.reason_phrase);
  }

  if (osip_list_size(&m.vias) == 0)
    return std::unexpected(fail(sip_parse_errc::missing_header, "Via"));
  out.vias.reserve(static_cast<std::size_t>(osip_list_size(&m.vias)));
  std::optional<sip_parse_error> error;
  for_each<osip_via_t>(m.vias, [&](osip_via_t* via) {
    if (error)
      return;
    auto converted = convert_via(via);
    if (!converted)
      error = std::move(converted.error());
    else
      out.vias.push_back(std::move(*converted));
  });
  if (error)
    return std::unexpected(std::move(*error));

  auto from = convert_name_addr(m.from, "From");
  if (!from)
    return std::unexpected(std::move(from.error()));
  out.from = std::move(*from);
  auto to = convert_name_addr(m.to, "To");
  if (!to)
    return std::unexpected(std::move(to.error()));
  out.to = std::move(*to);

  if (m.call_id == nullptr || m.call_id->number == nullptr || *m.call_id->number == '\0')
    return std::unexpected(fail(sip_parse_errc::missing_header, "Call-ID"));
  auto call_id = serialise(m.call_id, osip_call_id_to_str);
  if (!call_id)
    return std::unexpected(fail(sip_parse_errc::bad_header, "Call-ID"));
  out.call_id = std::move(*call_id);

  if (m.cseq == nullptr || m.cseq->number == nullptr || m.cseq->method == nullptr)
    return std::unexpected(fail(sip_parse_errc::missing_header, "CSeq"));
  // RFC 3261 8.1.1.5: the sequence number is below 2^31 (RFC 4475 scalarlg sends 2^65).
  auto cseq = parse_decimal(m.cseq->number, std::uint64_t{1} << 32);
  if (!cseq || *cseq >= (std::uint64_t{1} << 31))
    return std::unexpected(fail(sip_parse_errc::bad_header, "CSeq number out of range"));
  out.cseq = static_cast<std::uint32_t>(*cseq);
  out.cseq_method = m.cseq->method;
  if (out.is_request && out.cseq_method != out.method)
    return std::unexpected(
        fail(sip_parse_errc::cseq_mismatch, out.cseq_method + " vs " + out.method));

  if (auto bad = read_other_headers(m, out))
    return std::unexpected(std::move(*bad));

  out.contacts.reserve(static_cast<std::size_t>(osip_list_size(&m.contacts)));
  for_each<osip_contact_t>(m.contacts, [&](osip_contact_t* contact) {
    if (error)
      return;
    auto converted = convert_contact(contact);
    if (!converted)
      error = std::move(converted.error());
    else
      out.contacts.push_back(std::move(*converted));
  });
  if (error)
    return std::unexpected(std::move(*error));

  for_each<osip_authorization_t>(m.authorizations, [&](osip_authorization_t* authorization) {
    if (auto value = serialise(authorization, osip_authorization_to_str))
      out.authorizations.push_back(std::move(*value));
  });
  for_each<osip_proxy_authorization_t>(
      m.proxy_authorizations, [&](osip_proxy_authorization_t* authorization) {
        if (auto value = serialise(authorization, osip_authorization_to_str))
          out.proxy_authorizations.push_back(std::move(*value));
      });

  if (m.content_type != nullptr)
    if (auto value = serialise(m.content_type, osip_content_type_to_str))
      out.content_type = std::move(*value);

  auto available = text.size() - body_start;
  std::size_t body_length = available;
  if (m.content_length != nullptr && m.content_length->value != nullptr) {
    auto declared =
        parse_decimal(m.content_length->value, std::numeric_limits<std::uint32_t>::max());
    if (!declared)
      return std::unexpected(fail(sip_parse_errc::bad_content_length, m.content_length->value));
    if (*declared > available)
      return std::unexpected(
          fail(sip_parse_errc::body_truncated, std::to_string(*declared) + " declared, " +
                                                   std::to_string(available) + " received"));
    body_length = static_cast<std::size_t>(*declared);
  }
  out.body.assign(text.substr(body_start, body_length));
  return out;
}

std::expected<sip_uri, error> parse_uri(std::string_view text) {
  if (text.empty() || text.size() > max_standalone_uri_length)
    return refuse_uri("URI empty or too long");
  if (text.find('\0') != std::string_view::npos || text.find("%00") != std::string_view::npos)
    return refuse_uri("URI with a NUL");
  init_osip_once();
  arena_scope scope;
  osip_uri_t* uri = nullptr;
  if (osip_uri_init(&uri) != 0)
    return refuse_uri("osip out of memory");
  std::string terminated(text);
  if (osip_uri_parse(uri, terminated.c_str()) != 0)
    return refuse_uri("osip refused the URI");
  return convert_uri(uri, std::move(terminated), uri_role::request_uri);
}

std::optional<std::string_view> first_line_method(std::string_view datagram) {
  auto line = first_line(skip_leading_line_breaks(datagram));
  auto space = line.find(' ');
  if (space == 0 || space == std::string_view::npos)
    return std::nullopt;
  auto method = line.substr(0, space);
  if (!std::all_of(method.begin(), method.end(), is_sip_token_char))
    return std::nullopt;
  constexpr std::string_view version = " SIP/2.0";
  if (line.size() < space + version.size() + 1 ||
      !iequals(line.substr(line.size() - version.size()), version))
    return std::nullopt;
  return method;
}

namespace {

/// True when both are IP literals of the same address, whatever their spelling.
bool same_ip(std::string_view a, std::string_view b) {
  auto a_address = parse_ip_address(a);
  auto b_address = parse_ip_address(b);
  return a_address && b_address && *a_address == *b_address;
}

void append_clean(std::string& out, std::string_view text) {
  for (char c : text)
    if (c != '\r' && c != '\n')
      out += c;
}

void append_top_via(std::string& out, const sip_via& via, std::string_view received_address,
                    std::uint16_t received_port) {
  // RFC 3261 18.2.1: received= when the sent-by is a name or another address; RFC 3581: with
  // rport the received parameter is always added and rport gets the source port.
  bool add_received =
      !received_address.empty() && (via.rport || !same_ip(via.host, received_address));
  bool fill_rport = via.rport && !received_address.empty() && received_port != 0;
  bool stale_received = !via.received.empty();
  if (!add_received && !fill_rport && !stale_received) {
    out += via.value;
    return;
  }
  out += "SIP/2.0/";
  out += via.transport;
  out += ' ';
  bool ipv6 = via.host.find(':') != std::string::npos;
  if (ipv6)
    out += '[';
  out += via.host;
  if (ipv6)
    out += ']';
  if (via.port != 0) {
    out += ':';
    out += std::to_string(via.port);
  }
  for (const auto& param : via.params) {
    // A received parameter in a request is the client's invention; only ours goes back.
    if (iequals(param.name, "received"))
      continue;
    out += ';';
    out += param.name;
    if (iequals(param.name, "rport") && fill_rport) {
      out += '=';
      out += std::to_string(received_port);
    } else if (param.value) {
      out += '=';
      out += *param.value;
    }
  }
  if (add_received) {
    out += ";received=";
    append_clean(out, received_address);
  }
}

} // namespace

std::string build_response(const sip_message& request, int code, std::string_view reason,
                           const std::vector<std::pair<std::string, std::string>>& extra_headers,
                           std::string_view to_tag, std::string_view received_address,
                           std::uint16_t received_port, std::string_view content_type,
                           std::string_view body) {
  std::string out;
  std::size_t estimate = 128 + reason.size() + request.from.value.size() + request.to.value.size() +
                         request.call_id.size() + to_tag.size();
  for (const auto& via : request.vias)
    estimate += via.value.size() + 48;
  for (const auto& [name, value] : extra_headers)
    estimate += name.size() + value.size() + 4;
  out.reserve(estimate);

  out += "SIP/2.0 ";
  out += std::to_string(std::clamp(code, 100, 699));
  out += ' ';
  append_clean(out, reason);
  out += "\r\n";
  bool top = true;
  for (const auto& via : request.vias) {
    out += "Via: ";
    if (top)
      append_top_via(out, via, received_address, received_port);
    else
      out += via.value;
    out += "\r\n";
    top = false;
  }
  out += "From: ";
  out += request.from.value;
  out += "\r\nTo: ";
  out += request.to.value;
  if (request.to.tag.empty() && !to_tag.empty()) {
    out += ";tag=";
    append_clean(out, to_tag);
  }
  out += "\r\nCall-ID: ";
  out += request.call_id;
  out += "\r\nCSeq: ";
  out += std::to_string(request.cseq);
  out += ' ';
  out += request.cseq_method;
  out += "\r\n";
  for (const auto& [name, value] : extra_headers) {
    append_clean(out, name);
    out += ": ";
    append_clean(out, value);
    out += "\r\n";
  }
  out += "Server: Ward\r\n";
  if (!body.empty()) {
    out += "Content-Type: ";
    append_clean(out, content_type);
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::string build_request(const sip_request_fields& fields) {
  std::string out;
  out.reserve(512 + fields.body.size());
  auto header = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    append_clean(out, value);
    out += "\r\n";
  };
  append_clean(out, fields.method);
  out += ' ';
  append_clean(out, fields.request_uri);
  out += " SIP/2.0\r\n";
  header("Via", fields.via);
  header("Max-Forwards", std::to_string(fields.max_forwards));
  header("From", fields.from);
  header("To", fields.to);
  header("Call-ID", fields.call_id);
  header("CSeq", std::to_string(fields.cseq) + " " + fields.method);
  if (!fields.contact.empty())
    header("Contact", fields.contact);
  for (const auto& [name, value] : fields.extra_headers)
    header(name, value);
  out += "User-Agent: Ward\r\n";
  if (!fields.body.empty())
    header("Content-Type", fields.content_type);
  header("Content-Length", std::to_string(fields.body.size()));
  out += "\r\n";
  out += fields.body;
  return out;
}

} // namespace ward::telephony
