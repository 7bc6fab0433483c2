#include "pki/identity_store.hpp"

#include "pki/certificate_builder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace ward::pki {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

/// Why the stored identity cannot be used, or nothing when it can.
std::optional<std::string> unusable_reason(const std::optional<std::string>& key_pem,
                                           const std::optional<std::string>& cert_pem,
                                           const std::string& hostname, time_point now,
                                           std::optional<node_identity>& usable) {
  if (!key_pem)
    return "identity key missing";
  if (!cert_pem)
    return "identity certificate missing";
  auto key = private_key::from_pem(*key_pem);
  if (!key)
    return "identity key unreadable: " + key.error().detail;
  auto cert = certificate::from_pem(*cert_pem);
  if (!cert)
    return "identity certificate unreadable: " + cert.error().detail;
  if (!cert->matches(*key))
    return "identity certificate does not match the identity key";
  if (!cert->is_valid_at(now))
    return "identity certificate is outside its validity period";
  // Only a self-signed identity follows the hostname here; a CA-issued one is renewed by
  // the CA (SPEC PKI-2).
  if (cert->is_self_signed() && cert->subject_common_name() != hostname)
    return "identity certificate is for '" + cert->subject_common_name() + "', not '" + hostname +
           "'";
  usable = node_identity{*key, *cert, identity_origin::loaded, {}};
  return std::nullopt;
}

void keep_as_damaged(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    std::filesystem::rename(path, path.string() + ".damaged", ec);
}

} // namespace

std::expected<void, error> write_file_atomically(const std::filesystem::path& path,
                                                 std::string_view content, unsigned mode) {
  auto temporary = path.string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return std::unexpected(
        error{errc::io_error, "cannot create " + temporary + ": " + std::strerror(errno)});
  // The mode given to open() is filtered by the umask; a key file must be 0600 whatever
  // the umask says.
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t written = 0;
  while (ok && written < content.size()) {
    auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    ok = n > 0;
    if (ok)
      written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return std::unexpected(error{errc::io_error, "cannot write " + path.string() + ": " +
                                                     std::strerror(ok ? errno : saved_errno)});
  }
  return {};
}

std::expected<node_identity, error>
identity_store::load_or_create(const std::string& hostname, time_point now,
                               const random_source& random) const {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec)
    return std::unexpected(
        error{errc::io_error, "cannot create " + directory_.string() + ": " + ec.message()});

  auto key_pem = read_file(key_path());
  auto cert_pem = read_file(certificate_path());
  std::optional<node_identity> existing;
  auto reason = unusable_reason(key_pem, cert_pem, hostname, now, existing);
  if (!reason)
    return std::move(*existing);

  bool first_start = !key_pem && !cert_pem;
  if (!first_start) {
    keep_as_damaged(key_path());
    keep_as_damaged(certificate_path());
  }

  auto key = private_key::generate_rsa(node_identity_key_bits);
  if (!key)
    return std::unexpected(key.error());
  auto cert = make_self_signed_identity(*key, hostname, now, random);
  if (!cert)
    return std::unexpected(cert.error());
  auto new_key_pem = key->to_pem();
  auto new_cert_pem = cert->to_pem();
  if (!new_key_pem)
    return std::unexpected(new_key_pem.error());
  if (!new_cert_pem)
    return std::unexpected(new_cert_pem.error());
  // Key first: a crash between the two writes leaves a mismatch, which the next start
  // detects and repairs.
  if (auto written = write_file_atomically(key_path(), *new_key_pem, 0600); !written)
    return std::unexpected(written.error());
  if (auto written = write_file_atomically(certificate_path(), *new_cert_pem, 0644); !written)
    return std::unexpected(written.error());
  return node_identity{
      *key, *cert, first_start ? identity_origin::created_first_start : identity_origin::recreated,
      first_start ? std::string{} : *reason};
}

} // namespace ward::pki
