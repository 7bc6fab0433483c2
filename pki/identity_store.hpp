#pragma once

#include "core/enum_names.hpp"
#include "core/random.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <filesystem>
#include <string>

namespace ward::pki {

/// How the node came by the identity it holds now.
enum class identity_origin {
  /// Read back from the data directory, intact.
  loaded,
  /// No identity existed: first start.
  created_first_start,
  /// An identity existed but was unusable (deleted, corrupt, mismatched, expired or for
  /// another hostname) and was replaced by a new self-signed one (SPEC PKI-11).
  recreated,
};

inline constexpr auto identity_origin_names =
    name_table(enum_name{identity_origin::loaded, "loaded"},
               enum_name{identity_origin::created_first_start, "created_first_start"},
               enum_name{identity_origin::recreated, "recreated"});

constexpr std::string_view to_string(identity_origin origin) {
  return name_of(identity_origin_names, origin);
}

struct node_identity {
  private_key key;
  certificate cert;
  identity_origin origin;
  /// Why an existing identity was replaced; empty unless origin is `recreated`.
  std::string replaced_because;
};

/// Key size of the identity a node creates for itself.
inline constexpr int node_identity_key_bits = 2048;

/// The node's identity files in `directory`: `identity.key` (PEM, mode 0600) and
/// `identity.pem`. A node always has an identity: whatever is missing or unusable is
/// replaced by a fresh self-signed one, and the unusable files are kept beside it with a
/// `.damaged` suffix for inspection.
class identity_store {
public:
  explicit identity_store(std::filesystem::path directory) : directory_(std::move(directory)) {}

  std::expected<node_identity, error> load_or_create(const std::string& hostname, time_point now,
                                                     const random_source& random) const;

  std::filesystem::path key_path() const { return directory_ / "identity.key"; }
  std::filesystem::path certificate_path() const { return directory_ / "identity.pem"; }

private:
  std::filesystem::path directory_;
};

/// Writes `content` to `path` atomically (temporary file, fsync, rename) with `mode`.
std::expected<void, error> write_file_atomically(const std::filesystem::path& path,
                                                 std::string_view content, unsigned mode);

} // namespace ward::pki
