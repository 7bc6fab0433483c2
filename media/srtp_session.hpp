#pragma once

#include "media/srtp_suites.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

// libsrtp2's session context, kept out of this header like the policy type.
struct srtp_ctx_t_;

namespace ward::media {

enum class media_errc : std::uint8_t {
  /// srtp_init failed: the library's self tests did not pass.
  library_unavailable,
  /// The key material does not match the suite's master key and salt length.
  bad_key_length,
  /// The buffer cannot hold the packet plus its authentication tag.
  no_room,
  /// Not an RTP/RTCP packet libsrtp2 can process (too short, bad header).
  malformed,
  /// The packet failed authentication (MED-5): dropped.
  auth_failed,
  /// The packet index was already seen or is older than the replay window (MED-5): dropped.
  replay,
  /// protect on an inbound session or unprotect on an outbound one.
  wrong_direction,
  /// Any other libsrtp2 failure.
  library_failure,
};

std::string_view to_string(media_errc code);

/// A failure on the packet path. It carries no text so that failing packets, which an
/// attacker can send at line rate, allocate nothing.
struct media_error {
  media_errc code;
  /// libsrtp2's srtp_err_status_t, for logs.
  int library_status = 0;
};

/// Whether a session protects what Ward sends or unprotects what it receives. libsrtp2 keeps
/// the two apart so one key can never encrypt both ways (RFC 3711 section 9.1).
enum class direction : std::uint8_t { inbound, outbound };

/// What one session did, for metrics and the authentication-failure alarm (MED-5). Plain
/// integers: a session belongs to one media worker.
struct srtp_counters {
  std::uint64_t protected_packets = 0;
  std::uint64_t unprotected_packets = 0;
  std::uint64_t auth_failed = 0;
  std::uint64_t replayed = 0;
  std::uint64_t malformed = 0;
};

/// One direction of SRTP and SRTCP for one leg, owning a libsrtp2 session. Every SSRC of the
/// direction shares the key; libsrtp2 allocates a stream the first time an SSRC appears
/// (inbound: only once its first packet authenticates), never per packet.
class srtp_session {
public:
  /// A session for `suite` keyed with the master key followed by the master salt, as they
  /// travel in an SDES inline key.
  static std::expected<srtp_session, media_error>
  create(const suite_info& suite, std::span<const std::byte> master_key_and_salt,
         srtp_options options, direction dir);

  srtp_session(srtp_session&& other) noexcept;
  srtp_session& operator=(srtp_session&& other) noexcept;
  srtp_session(const srtp_session&) = delete;
  srtp_session& operator=(const srtp_session&) = delete;
  ~srtp_session();

  /// Protects the RTP packet of `length` bytes at the start of `buffer` in place and returns
  /// the SRTP length. `buffer` must have room for rtp_overhead() more bytes and should be
  /// 4-byte aligned (libsrtp2 reads header words directly).
  std::expected<std::size_t, media_error> protect_rtp(std::span<std::byte> buffer,
                                                      std::size_t length);
  /// Checks and decrypts the SRTP packet in place and returns the RTP length.
  std::expected<std::size_t, media_error> unprotect_rtp(std::span<std::byte> buffer,
                                                        std::size_t length);
  /// As protect_rtp for RTCP; the overhead is rtcp_overhead().
  std::expected<std::size_t, media_error> protect_rtcp(std::span<std::byte> buffer,
                                                       std::size_t length);
  std::expected<std::size_t, media_error> unprotect_rtcp(std::span<std::byte> buffer,
                                                         std::size_t length);

  /// Bytes protect_rtp adds: the authentication tag (none with authentication off).
  std::size_t rtp_overhead() const { return rtp_overhead_; }
  /// Bytes protect_rtcp adds: the E flag and SRTCP index, then the tag.
  std::size_t rtcp_overhead() const { return rtcp_overhead_; }
  const srtp_counters& counters() const { return counters_; }
  direction session_direction() const { return direction_; }

private:
  srtp_session(srtp_ctx_t_* context, std::size_t rtp_overhead, std::size_t rtcp_overhead,
               direction dir)
      : context_(context), rtp_overhead_(rtp_overhead), rtcp_overhead_(rtcp_overhead),
        direction_(dir) {}

  /// Maps a libsrtp2 status onto the counters and the result.
  std::expected<std::size_t, media_error> finish(int status, int length, bool protecting);
  /// What the four packet calls share: the direction and room checks, then `Transform` (the
  /// libsrtp2 call) and finish(). A template argument rather than a function pointer, so
  /// the packet path still calls libsrtp2 directly. Defined and instantiated in the .cpp.
  template <auto Transform>
  std::expected<std::size_t, media_error> transform(std::span<std::byte> buffer, std::size_t length,
                                                    direction required, std::size_t extra);

  srtp_ctx_t_* context_ = nullptr;
  std::size_t rtp_overhead_ = 0;
  std::size_t rtcp_overhead_ = 0;
  direction direction_ = direction::inbound;
  srtp_counters counters_;
};

} // namespace ward::media
