#include "cli/parse.hpp"

#include "cli/errors.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace ward::cli {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::uint32_t port_of(const std::string& key, const std::string& text) {
  bool digits =
      !text.empty() && text.size() <= 5 && std::all_of(text.begin(), text.end(), is_digit);
  auto value = digits ? std::stoul(text) : 0;
  if (!digits || value > 65535)
    throw usage_error(key + " takes a port number, got '" + text + "'");
  return static_cast<std::uint32_t>(value);
}

std::string trimmed(const std::string& item) {
  auto first = item.find_first_not_of(' ');
  return first == std::string::npos ? std::string{}
                                    : item.substr(first, item.find_last_not_of(' ') - first + 1);
}

/// Fills a UserAgentList or a NumberList from comma-separated entries; blank clears it.
template <class List> void fill_list(const std::string& key, const std::string& text, List* out) {
  out->Clear();
  if (trimmed(text).empty())
    return;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    auto item = trimmed(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (item.empty())
      throw usage_error(key + " has an empty entry in '" + text +
                        "'; entries are comma-separated, and " + key + "= clears the list");
    out->add_entries(item);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
}

void apply_sip_setting(admin::v1::SipSettings& request, const std::string& key,
                       const std::string& value) {
  using settings = admin::v1::SipSettings;
  static const std::map<std::string, void (settings::*)(bool), std::less<>> switches = {
      {"auto_create", &settings::set_auto_create},
      {"strict_sips", &settings::set_strict_sips},
      {"remote_workers", &settings::set_remote_workers},
      {"direct_media", &settings::set_direct_media}};
  static const std::map<std::string, void (settings::*)(std::uint32_t), std::less<>> ports = {
      {"rtp_port_min", &settings::set_rtp_port_min}, {"rtp_port_max", &settings::set_rtp_port_max}};
  if (auto on_off = switches.find(key); on_off != switches.end())
    (request.*on_off->second)(parse_switch(value, key));
  else if (auto port = ports.find(key); port != ports.end())
    (request.*port->second)(port_of(key, value));
  else if (key == "user_agent_allow")
    fill_list(key, value, request.mutable_user_agent_allow());
  else if (key == "user_agent_block")
    fill_list(key, value, request.mutable_user_agent_block());
  else if (key == "emergency_numbers")
    fill_list(key, value, request.mutable_emergency_numbers());
  else if (key == "emergency_extension")
    request.set_emergency_extension(value);
  else
    throw usage_error("unknown setting '" + key + "'; keys are " + sip_setting_keys);
}

} // namespace

std::string choices(std::span<const std::string_view> values) {
  std::string out;
  for (auto value : values)
    out.append(out.empty() ? "" : " | ").append(value);
  return out;
}

std::int64_t parse_date(const std::string& text) {
  std::tm parts{};
  std::istringstream in(text);
  in >> std::get_time(&parts, "%Y-%m-%d");
  if (in.fail())
    throw usage_error("dates are YYYY-MM-DD, got '" + text + "'");
  return static_cast<std::int64_t>(timegm(&parts));
}

bool parse_switch(const std::string& text, const std::string& option) {
  if (text == "on" || text == "true" || text == "yes")
    return true;
  if (text == "off" || text == "false" || text == "no")
    return false;
  throw usage_error(option + " takes on or off, got '" + text + "'");
}

std::string media_level_of(const std::string& text, const std::string& what, bool system_allowed) {
  if (std::ranges::find(media_level_names, text) != std::end(media_level_names) ||
      (system_allowed && text == "system"))
    return text;
  throw usage_error(what + " takes disabled, best_effort" +
                    (system_allowed ? ", enforce or system" : " or enforce") + ", got '" + text +
                    "'");
}

const std::string& checked_node_name(const std::string& node) {
  bool valid =
      !node.empty() && node.size() <= 63 && std::all_of(node.begin(), node.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
      });
  if (!valid)
    throw usage_error("a node name is 1 to 63 of a-z 0-9 -, got '" + node + "'");
  return node;
}

const std::string& checked_extension_number(const std::string& number) {
  if (number.empty() || !std::all_of(number.begin(), number.end(), is_digit))
    throw usage_error("an extension number is digits, got '" + number + "'");
  return number;
}

admin::v1::SipSettings sip_settings_of(const std::vector<std::string>& assignments) {
  admin::v1::SipSettings request;
  std::set<std::string> seen;
  for (const auto& assignment : assignments) {
    auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0)
      throw usage_error("expected key=value, got '" + assignment + "'; keys are " +
                        sip_setting_keys);
    auto key = assignment.substr(0, equals);
    if (!seen.insert(key).second)
      throw usage_error(key + " is given twice");
    apply_sip_setting(request, key, assignment.substr(equals + 1));
  }
  return request;
}

} // namespace ward::cli
