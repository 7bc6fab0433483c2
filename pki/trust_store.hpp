#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"
#include "pki/certificate.hpp"

#include <cstddef>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::pki {

/// The guide's default trusted certificates (ch. 21) as PEM texts, one per certificate, in
/// file-name order. Generated at build time from pki/default_tcs/*.pem (default_tcs.cmake).
std::span<const std::string_view> default_trusted_pems();

/// Why the Trusted Certificate Store refused something.
enum class trust_store_errc {
  /// The certificate is already in the store (same SHA-256 fingerprint).
  duplicate,
  /// The store holds `trust_store::capacity` certificates already.
  full,
  /// The input is not a certificate, or not a serialized store.
  wrong_format,
};

inline constexpr auto trust_store_errc_names = name_table(
    enum_name{trust_store_errc::duplicate, "duplicate"}, enum_name{trust_store_errc::full, "full"},
    enum_name{trust_store_errc::wrong_format, "wrong_format"});

constexpr std::string_view to_string(trust_store_errc code) {
  return name_of(trust_store_errc_names, code);
}

using trust_store_error = typed_error<trust_store_errc>;

struct trust_entry {
  certificate cert;
  /// Part of the default content (guide ch. 21) rather than added by an administrator.
  bool is_default;
};

/// A node's Trusted Certificate Store (SPEC PKI-7): the trust anchors for received
/// certificate checks at Medium and above, and the pinned certificates for High.
/// Certificates are kept whatever their dates: the guide ships expired ones, and the expiry
/// alarms (SPEC PKI-10) are what flags them.
class trust_store {
public:
  /// The spec asks for at least 64 entries.
  static constexpr std::size_t capacity = 256;

  /// A store holding the default content, as after first start or a security reset.
  static trust_store with_defaults();

  /// Adds `cert` as an administrator's entry. Refuses a certificate already present and
  /// a full store.
  std::expected<void, trust_store_error> add(const certificate& cert);
  /// Removes the certificate with this SHA-256 fingerprint (hex, any case, colons
  /// optional). False when none matches.
  bool remove(std::string_view sha256_fingerprint);

  const std::vector<trust_entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  /// Whether exactly this certificate (same DER encoding) is in the store: the pinning
  /// check of level High.
  bool contains_exact(const certificate& cert) const;
  std::vector<certificate> certificates() const;

  struct drop_report {
    /// File names of the certificates added from the add directory.
    std::vector<std::string> added;
    /// File names from the delete directory whose certificates were removed.
    std::vector<std::string> removed;
    /// File name and reason, for every file renamed `<name>.rejected`.
    std::vector<std::pair<std::string, std::string>> rejected;
  };

  /// Processes the drop directories (`certificates/tcs/add` and `certificates/tcs/delete`,
  /// at start). Each regular file holds one certificate, PEM or DER. Files in `delete_dir`
  /// name certificates to remove, by content; files in `add_dir` are added. The delete
  /// directory goes first, so that an administrator can make room in a full store with
  /// one drop. A processed file is deleted; a file that cannot be used (unreadable, not one
  /// certificate, a duplicate, a store full, nothing to delete) is renamed
  /// `<name>.rejected` so that it is not tried again at every start and the administrator
  /// sees why. Missing directories are not an error.
  drop_report process_drop_directories(const std::filesystem::path& add_dir,
                                       const std::filesystem::path& delete_dir);

  /// The store as text for persistence: a PEM bundle in which each certificate is preceded
  /// by a `# entry: default` or `# entry: added` line, so it stays readable by openssl.
  std::string serialize() const;
  /// Reads back what `serialize` wrote. Anything else, including duplicates or more than
  /// `capacity` entries, is refused as a whole rather than half-loaded.
  static std::expected<trust_store, trust_store_error> deserialize(std::string_view text);

private:
  std::expected<void, trust_store_error> insert(const certificate& cert, bool is_default);
  std::ptrdiff_t find(std::string_view normalized_fingerprint) const;

  std::vector<trust_entry> entries_;
  /// SHA-256 fingerprints of `entries_`, upper-case hex without colons, same order.
  std::vector<std::string> fingerprints_;
};

} // namespace ward::pki
