#include "media/media_policy.hpp"

#include "core/enum_names.hpp"

#include <algorithm>

namespace ward::media {

constexpr auto media_security_names =
    name_table(enum_name{media_security::disabled, "disabled"},
               enum_name{media_security::best_effort, "best_effort"},
               enum_name{media_security::enforce, "enforce"});

std::string_view to_string(media_security security) {
  return name_of(media_security_names, security, "disabled");
}

std::optional<media_security> parse_media_security(std::string_view text) {
  return parse_name(media_security_names, text);
}

constexpr auto transport_profile_names =
    name_table(enum_name{transport_profile::rtp_avp, "RTP/AVP"},
               enum_name{transport_profile::rtp_avpf, "RTP/AVPF"},
               enum_name{transport_profile::rtp_savp, "RTP/SAVP"},
               enum_name{transport_profile::rtp_savpf, "RTP/SAVPF"});

std::string_view to_string(transport_profile profile) {
  return name_of(transport_profile_names, profile, "RTP/AVP");
}

std::optional<transport_profile> parse_transport_profile(std::string_view text) {
  return parse_name(transport_profile_names, text);
}

bool is_secure(transport_profile profile) {
  return profile == transport_profile::rtp_savp || profile == transport_profile::rtp_savpf;
}

std::string_view to_string(media_transport transport) {
  return transport == media_transport::srtp ? "srtp" : "rtp";
}

constexpr auto refusal_reason_names =
    name_table(enum_name{refusal_reason::srtp_required, "srtp_required"},
               enum_name{refusal_reason::insecure_signalling, "insecure_signalling"},
               enum_name{refusal_reason::srtp_not_allowed, "srtp_not_allowed"},
               enum_name{refusal_reason::no_acceptable_crypto, "no_acceptable_crypto"});

std::string_view to_string(refusal_reason reason) {
  return name_of(refusal_reason_names, reason, "srtp_required");
}

std::expected<offer_plan, refusal> offer_for(media_security policy, bool signalling_secure,
                                             bool emergency) {
  switch (policy) {
    case media_security::disabled:
      return offer_plan{};
    case media_security::best_effort:
      return offer_plan{.include_crypto = signalling_secure};
    case media_security::enforce:
      if (!emergency) {
        if (!signalling_secure)
          return std::unexpected(refusal{.reason = refusal_reason::insecure_signalling});
        return offer_plan{.profile = transport_profile::rtp_savp, .include_crypto = true};
      }
      return offer_plan{.include_crypto = signalling_secure, .emergency_exception = true};
  }
  return offer_plan{};
}

std::vector<crypto_attribute> make_offer_crypto(const srtp_options& options,
                                                const random_source& random) {
  std::vector<crypto_attribute> offered;
  std::uint32_t tag = 1;
  for (const auto& suite : all_suites())
    offered.push_back(make_crypto(tag++, suite, options, random));
  return offered;
}

namespace {

/// Whether Ward's sessions can use `attribute`: no MKI (sessions are keyed without one), and
/// at least one RTP protection, since a line turning both off protects nothing.
bool usable(const crypto_attribute& attribute) {
  return !attribute.mki &&
         (attribute.options.rtp_encryption || attribute.options.rtp_authentication);
}

struct crypto_choice {
  std::optional<crypto_attribute> first_usable;
  std::uint32_t skipped = 0;
};

crypto_choice choose_crypto(std::span<const std::string_view> lines, const srtp_profile& profile) {
  crypto_choice choice;
  for (auto line : lines) {
    auto parsed = parse_crypto(line);
    if (!parsed || !usable(*parsed) || !satisfies(*parsed, profile))
      ++choice.skipped;
    else if (!choice.first_usable)
      choice.first_usable = *parsed;
  }
  return choice;
}

std::unexpected<refusal> refuse(refusal_reason reason) {
  return std::unexpected(refusal{.reason = reason});
}

} // namespace

std::expected<answer_decision, refusal> answer_for(media_security policy,
                                                   const received_offer& offer, bool emergency,
                                                   bool signalling_secure,
                                                   const srtp_profile& profile) {
  auto choice = choose_crypto(offer.crypto_lines, profile);
  // Keys that crossed insecure signalling are known to anyone on the path: SRTP with them
  // would only look secure.
  bool srtp_possible = signalling_secure && choice.first_usable.has_value();
  bool rtp_possible = !is_secure(offer.profile);

  answer_decision decision{.profile = offer.profile, .skipped_crypto_lines = choice.skipped};
  auto use_srtp = [&](bool exception) {
    decision.transport = media_transport::srtp;
    decision.accepted = choice.first_usable;
    decision.emergency_exception = exception;
    return decision;
  };
  auto use_rtp = [&](bool exception) {
    decision.transport = media_transport::rtp;
    decision.emergency_exception = exception;
    return decision;
  };
  auto no_srtp_reason = [&] {
    return signalling_secure ? refusal_reason::no_acceptable_crypto
                             : refusal_reason::insecure_signalling;
  };

  switch (policy) {
    case media_security::disabled:
      if (rtp_possible)
        return use_rtp(false);
      if (emergency && srtp_possible)
        return use_srtp(true);
      return refuse(emergency ? no_srtp_reason() : refusal_reason::srtp_not_allowed);
    case media_security::best_effort:
      if (srtp_possible)
        return use_srtp(false);
      if (rtp_possible)
        return use_rtp(false);
      return refuse(no_srtp_reason());
    case media_security::enforce:
      if (srtp_possible)
        return use_srtp(false);
      if (emergency && rtp_possible)
        return use_rtp(true);
      if (rtp_possible && offer.crypto_lines.empty())
        return refuse(refusal_reason::srtp_required);
      return refuse(no_srtp_reason());
  }
  return refuse(refusal_reason::srtp_required);
}

std::expected<answer_decision, refusal> accept_answer(media_security policy, const offer_plan& plan,
                                                      std::span<const crypto_attribute> offered,
                                                      const received_offer& answer) {
  answer_decision decision{.profile = answer.profile,
                           .emergency_exception = plan.emergency_exception};
  if (answer.crypto_lines.empty()) {
    if (is_secure(plan.profile) || is_secure(answer.profile))
      return refuse(refusal_reason::no_acceptable_crypto);
    if (policy == media_security::enforce && !plan.emergency_exception)
      return refuse(refusal_reason::srtp_required);
    return decision;
  }
  // Crypto in an answer to an offer without any is a far end inventing keys: not taken.
  if (!plan.include_crypto || answer.crypto_lines.size() != 1)
    return refuse(refusal_reason::no_acceptable_crypto);
  auto parsed = parse_crypto(answer.crypto_lines.front());
  if (!parsed || !usable(*parsed))
    return refuse(refusal_reason::no_acceptable_crypto);
  // RTP encryption and authentication must be as offered. UNENCRYPTED_SRTCP may be left out
  // of an answer (common phone stacks do): each direction keeps the SRTCP encryption its own
  // key declares, which libsrtp applies per session.
  auto matches = [&](const crypto_attribute& ours) {
    return ours.tag == parsed->tag && ours.suite == parsed->suite &&
           ours.options.rtp_encryption == parsed->options.rtp_encryption &&
           ours.options.rtp_authentication == parsed->options.rtp_authentication;
  };
  if (std::ranges::none_of(offered, matches))
    return refuse(refusal_reason::no_acceptable_crypto);
  decision.transport = media_transport::srtp;
  decision.accepted = *parsed;
  return decision;
}

crypto_attribute make_answer_crypto(const crypto_attribute& accepted, const random_source& random) {
  return make_crypto(accepted.tag, *accepted.suite, accepted.options, random);
}

} // namespace ward::media
