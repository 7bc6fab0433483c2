#include "media/srtp_session.hpp"

#include "core/enum_names.hpp"

#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <string.h>
#include <utility>

namespace ward::media {

namespace {

/// Packets may arrive this far out of order before they count as replays; libsrtp2's
/// default, made explicit so it does not move with the library.
constexpr unsigned long replay_window = 128;

/// SRTCP's E flag and 31-bit index, which precede the tag (RFC 3711 section 3.4).
constexpr std::size_t srtcp_index_length = 4;

/// srtp_init runs its self tests once per process; magic statics make the first call
/// thread-safe and let every later one return the stored outcome.
srtp_err_status_t initialise_library() {
  static const srtp_err_status_t status = srtp_init();
  return status;
}

} // namespace

constexpr auto media_errc_names = name_table(
    enum_name{media_errc::library_unavailable, "library_unavailable"},
    enum_name{media_errc::bad_key_length, "bad_key_length"},
    enum_name{media_errc::no_room, "no_room"}, enum_name{media_errc::malformed, "malformed"},
    enum_name{media_errc::auth_failed, "auth_failed"}, enum_name{media_errc::replay, "replay"},
    enum_name{media_errc::wrong_direction, "wrong_direction"},
    enum_name{media_errc::library_failure, "library_failure"});

std::string_view to_string(media_errc code) {
  return name_of(media_errc_names, code, "library_failure");
}

std::expected<srtp_session, media_error>
srtp_session::create(const suite_info& suite, std::span<const std::byte> master_key_and_salt,
                     srtp_options options, direction dir) {
  if (auto status = initialise_library(); status != srtp_err_status_ok)
    return std::unexpected(media_error{media_errc::library_unavailable, status});
  if (master_key_and_salt.size() != suite.key_and_salt_length() ||
      master_key_and_salt.size() > max_key_and_salt_length)
    return std::unexpected(media_error{media_errc::bad_key_length});

  srtp_policy_t policy{};
  apply_policy(suite, options, policy.rtp, policy.rtcp);
  policy.ssrc.type = dir == direction::inbound ? ssrc_any_inbound : ssrc_any_outbound;
  // libsrtp2 wants a mutable pointer but only reads the key while deriving session keys;
  // the copy is wiped as soon as srtp_create returns.
  std::array<unsigned char, max_key_and_salt_length> key{};
  std::memcpy(key.data(), master_key_and_salt.data(), master_key_and_salt.size());
  policy.key = key.data();
  policy.window_size = replay_window;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;

  srtp_t context = nullptr;
  auto status = srtp_create(&context, &policy);
  explicit_bzero(key.data(), key.size());
  if (status != srtp_err_status_ok)
    return std::unexpected(media_error{media_errc::library_failure, status});
  std::size_t rtp_overhead = options.rtp_authentication ? suite.rtp_tag_length : 0;
  std::size_t rtcp_overhead = srtcp_index_length + suite.rtcp_tag_length;
  return srtp_session(context, rtp_overhead, rtcp_overhead, dir);
}

srtp_session::srtp_session(srtp_session&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), rtp_overhead_(other.rtp_overhead_),
      rtcp_overhead_(other.rtcp_overhead_), direction_(other.direction_),
      counters_(other.counters_) {}

srtp_session& srtp_session::operator=(srtp_session&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr)
      srtp_dealloc(context_);
    context_ = std::exchange(other.context_, nullptr);
    rtp_overhead_ = other.rtp_overhead_;
    rtcp_overhead_ = other.rtcp_overhead_;
    direction_ = other.direction_;
    counters_ = other.counters_;
  }
  return *this;
}

srtp_session::~srtp_session() {
  // srtp_dealloc wipes the derived keys before freeing them.
  if (context_ != nullptr)
    srtp_dealloc(context_);
}

namespace {

/// Checks what libsrtp2 cannot: that the packet lies in the buffer and that `extra` more
/// bytes fit after it, since libsrtp2 writes the trailer without knowing the buffer's size.
/// Its documentation asks for SRTP_MAX_TRAILER_LEN of room, but sessions here never set an
/// MKI, so the trailer is exactly the tag (plus the SRTCP index for RTCP).
std::expected<int, media_error> checked_length(std::span<std::byte> buffer, std::size_t length,
                                               std::size_t extra) {
  if (length > buffer.size() || buffer.size() - length < extra)
    return std::unexpected(media_error{media_errc::no_room});
  if (length > static_cast<std::size_t>(INT_MAX) - extra)
    return std::unexpected(media_error{media_errc::no_room});
  return static_cast<int>(length);
}

} // namespace

std::expected<std::size_t, media_error> srtp_session::finish(int status, int length,
                                                             bool protecting) {
  switch (status) {
    case srtp_err_status_ok:
      if (protecting)
        ++counters_.protected_packets;
      else
        ++counters_.unprotected_packets;
      return static_cast<std::size_t>(length);
    case srtp_err_status_auth_fail:
      ++counters_.auth_failed;
      return std::unexpected(media_error{media_errc::auth_failed, status});
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      ++counters_.replayed;
      return std::unexpected(media_error{media_errc::replay, status});
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      ++counters_.malformed;
      return std::unexpected(media_error{media_errc::malformed, status});
    default:
      return std::unexpected(media_error{media_errc::library_failure, status});
  }
}

template <auto Transform>
std::expected<std::size_t, media_error>
srtp_session::transform(std::span<std::byte> buffer, std::size_t length, direction required,
                        std::size_t extra) {
  if (direction_ != required)
    return std::unexpected(media_error{media_errc::wrong_direction});
  auto checked = checked_length(buffer, length, extra);
  if (!checked)
    return std::unexpected(checked.error());
  int size = *checked;
  auto status = Transform(context_, buffer.data(), &size);
  return finish(status, size, required == direction::outbound);
}

std::expected<std::size_t, media_error> srtp_session::protect_rtp(std::span<std::byte> buffer,
                                                                  std::size_t length) {
  return transform<srtp_protect>(buffer, length, direction::outbound, rtp_overhead_);
}

std::expected<std::size_t, media_error> srtp_session::unprotect_rtp(std::span<std::byte> buffer,
                                                                    std::size_t length) {
  return transform<srtp_unprotect>(buffer, length, direction::inbound, 0);
}

std::expected<std::size_t, media_error> srtp_session::protect_rtcp(std::span<std::byte> buffer,
                                                                   std::size_t length) {
  return transform<srtp_protect_rtcp>(buffer, length, direction::outbound, rtcp_overhead_);
}

std::expected<std::size_t, media_error> srtp_session::unprotect_rtcp(std::span<std::byte> buffer,
                                                                     std::size_t length) {
  return transform<srtp_unprotect_rtcp>(buffer, length, direction::inbound, 0);
}

} // namespace ward::media
