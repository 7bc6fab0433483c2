#include "pki/trust_store.hpp"

#include "core/hex.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>

namespace ward::pki {
namespace {

constexpr std::string_view serial_header = "# Ward trusted certificate store, format 1";
constexpr std::string_view default_marker = "# entry: default";
constexpr std::string_view added_marker = "# entry: added";
constexpr std::string_view pem_begin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view pem_end = "-----END CERTIFICATE-----";
constexpr std::string_view rejected_suffix = ".rejected";
/// A certificate is a few kilobytes; anything far larger dropped in a directory is not
/// one, and reading it whole would let a stray file exhaust memory at start.
constexpr std::uintmax_t max_drop_file_size = 1024 * 1024;

/// Upper-case hex without separators, or empty when `text` is not a hex fingerprint.
std::string normalize_fingerprint(std::string_view text) {
  std::string hex;
  hex.reserve(text.size());
  for (char c : text) {
    if (c == ':' || c == ' ')
      continue;
    if (!is_hex_digit(c))
      return {};
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return hex;
}

std::string fingerprint_of(const certificate& cert) {
  return normalize_fingerprint(cert.sha256_fingerprint());
}

std::size_t count_occurrences(std::string_view text, std::string_view what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

/// The one certificate a dropped file holds, PEM or DER, or why there is none.
std::expected<certificate, std::string> parse_dropped(std::string_view content) {
  if (content.empty())
    return std::unexpected("empty file");
  if (content.find("-----BEGIN") != std::string_view::npos) {
    auto count = count_occurrences(content, pem_begin);
    if (count == 0)
      return std::unexpected("PEM file without a certificate");
    if (count > 1)
      return std::unexpected("PEM file with " + std::to_string(count) +
                             " certificates; one file per certificate");
    auto cert = certificate::from_pem(content);
    if (!cert)
      return std::unexpected(cert.error().detail);
    return *cert;
  }
  auto cert = certificate::from_der(content);
  if (!cert)
    return std::unexpected("neither PEM nor DER certificate");
  // d2i stops at the end of the first structure; trailing bytes mean the file is
  // something else that merely starts like a certificate.
  auto der = cert->to_der();
  if (!der || der->size() != content.size())
    return std::unexpected("DER certificate followed by unexpected bytes");
  return *cert;
}

std::expected<std::string, std::string> read_dropped(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec)
    return std::unexpected("cannot read: " + ec.message());
  if (size > max_drop_file_size)
    return std::unexpected("file too large for a certificate");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::unexpected("cannot open");
  std::string content{std::istreambuf_iterator<char>(in), {}};
  if (in.bad())
    return std::unexpected("cannot read");
  return content;
}

/// Regular files waiting in `dir`, in name order so that processing is reproducible.
/// Hidden files are left alone: they are partial uploads (rsync, editors) or markers.
std::vector<std::filesystem::path> waiting_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code status_ec;
    // symlink_status: a link dropped in the directory is not followed to whatever file it
    // points at.
    if (!std::filesystem::is_regular_file(it->symlink_status(status_ec)))
      continue;
    auto name = it->path().filename().string();
    if (name.starts_with('.') || name.ends_with(rejected_suffix))
      continue;
    files.push_back(it->path());
  }
  std::ranges::sort(files);
  return files;
}

void consume(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::remove(file, ec);
}

void reject(const std::filesystem::path& file, std::string reason,
            trust_store::drop_report& report) {
  std::error_code ec;
  std::filesystem::rename(file, file.string() + std::string(rejected_suffix), ec);
  if (ec)
    reason += " (could not rename to " + std::string(rejected_suffix) + ": " + ec.message() + ")";
  report.rejected.emplace_back(file.filename().string(), std::move(reason));
}

/// Applies `apply` to the certificate of every file waiting in `dir`: a file that cannot be
/// read or parsed, or that `apply` refuses, is renamed `.rejected`; the others are removed
/// and named in `done`. Adding and deleting differ only in `apply`.
template <class Apply>
void process_dropped(const std::filesystem::path& dir, trust_store::drop_report& report,
                     std::vector<std::string>& done, Apply apply) {
  for (const auto& file : waiting_files(dir)) {
    auto content = read_dropped(file);
    if (!content) {
      reject(file, content.error(), report);
      continue;
    }
    auto cert = parse_dropped(*content);
    if (!cert) {
      reject(file, cert.error(), report);
      continue;
    }
    if (auto applied = apply(*cert); !applied) {
      reject(file, applied.error(), report);
      continue;
    }
    done.push_back(file.filename().string());
    consume(file);
  }
}

trust_store_error format_error(std::string detail) {
  return {trust_store_errc::wrong_format, std::move(detail)};
}

} // namespace

trust_store trust_store::with_defaults() {
  trust_store store;
  for (auto pem : default_trusted_pems()) {
    // The embedded certificates are checked by the unit tests; one that failed to parse
    // would simply be missing rather than stop the node.
    if (auto cert = certificate::from_pem(pem))
      (void)store.insert(*cert, true);
  }
  return store;
}

std::expected<void, trust_store_error> trust_store::add(const certificate& cert) {
  return insert(cert, false);
}

std::expected<void, trust_store_error> trust_store::insert(const certificate& cert,
                                                           bool is_default) {
  if (!cert.native())
    return std::unexpected(format_error("no certificate"));
  auto fingerprint = fingerprint_of(cert);
  if (fingerprint.empty())
    return std::unexpected(format_error("cannot fingerprint the certificate"));
  if (find(fingerprint) >= 0)
    return std::unexpected(
        trust_store_error{trust_store_errc::duplicate,
                          "already in the trusted certificate store: " + cert.subject()});
  if (entries_.size() >= capacity)
    return std::unexpected(
        trust_store_error{trust_store_errc::full, "the trusted certificate store holds " +
                                                      std::to_string(capacity) + " certificates"});
  entries_.push_back({cert, is_default});
  fingerprints_.push_back(std::move(fingerprint));
  return {};
}

std::ptrdiff_t trust_store::find(std::string_view normalized_fingerprint) const {
  if (normalized_fingerprint.empty())
    return -1;
  auto it = std::ranges::find(fingerprints_, normalized_fingerprint);
  return it == fingerprints_.end() ? -1 : it - fingerprints_.begin();
}

bool trust_store::remove(std::string_view sha256_fingerprint) {
  auto index = find(normalize_fingerprint(sha256_fingerprint));
  if (index < 0)
    return false;
  entries_.erase(entries_.begin() + index);
  fingerprints_.erase(fingerprints_.begin() + index);
  return true;
}

bool trust_store::contains_exact(const certificate& cert) const {
  if (!cert.native())
    return false;
  auto index = find(fingerprint_of(cert));
  if (index < 0)
    return false;
  // Equal SHA-256 fingerprints already mean equal DER; comparing the bytes keeps the
  // pinning check exact without relying on that.
  auto ours = entries_[static_cast<std::size_t>(index)].cert.to_der();
  auto theirs = cert.to_der();
  return ours && theirs && *ours == *theirs;
}

std::vector<certificate> trust_store::certificates() const {
  std::vector<certificate> certs;
  certs.reserve(entries_.size());
  for (const auto& entry : entries_)
    certs.push_back(entry.cert);
  return certs;
}

trust_store::drop_report
trust_store::process_drop_directories(const std::filesystem::path& add_dir,
                                      const std::filesystem::path& delete_dir) {
  drop_report report;
  process_dropped(delete_dir, report, report.removed,
                  [this](const certificate& cert) -> std::expected<void, std::string> {
                    if (!remove(fingerprint_of(cert)))
                      return std::unexpected("not in the trusted certificate store: " +
                                             cert.subject());
                    return {};
                  });
  process_dropped(add_dir, report, report.added,
                  [this](const certificate& cert) -> std::expected<void, std::string> {
                    if (auto added = add(cert); !added)
                      return std::unexpected(added.error().detail);
                    return {};
                  });
  return report;
}

std::string trust_store::serialize() const {
  std::string text(serial_header);
  text += '\n';
  for (const auto& entry : entries_) {
    auto pem = entry.cert.to_pem();
    if (!pem)
      continue;
    text += entry.is_default ? default_marker : added_marker;
    text += '\n';
    text += *pem;
  }
  return text;
}

std::expected<trust_store, trust_store_error> trust_store::deserialize(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (line.ends_with('\r'))
      line.remove_suffix(1);
    lines.push_back(line);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  std::size_t at = 0;
  auto skip_blank = [&] {
    while (at < lines.size() && lines[at].empty())
      ++at;
  };
  skip_blank();
  if (at == lines.size() || lines[at] != serial_header)
    return std::unexpected(format_error("not a serialized trusted certificate store"));
  ++at;

  trust_store store;
  for (skip_blank(); at < lines.size(); skip_blank()) {
    auto where = "line " + std::to_string(at + 1) + ": ";
    bool is_default = lines[at] == default_marker;
    if (!is_default && lines[at] != added_marker)
      return std::unexpected(format_error(where + "expected an entry marker"));
    if (++at == lines.size() || lines[at] != pem_begin)
      return std::unexpected(format_error(where + "entry without a certificate"));
    std::string pem;
    for (; at < lines.size(); ++at) {
      pem += lines[at];
      pem += '\n';
      if (lines[at] == pem_end)
        break;
    }
    if (at == lines.size())
      return std::unexpected(format_error(where + "certificate not terminated"));
    ++at;
    auto cert = certificate::from_pem(pem);
    if (!cert)
      return std::unexpected(format_error(where + cert.error().detail));
    if (auto inserted = store.insert(*cert, is_default); !inserted)
      return std::unexpected(format_error(where + inserted.error().detail));
  }
  return store;
}

} // namespace ward::pki
