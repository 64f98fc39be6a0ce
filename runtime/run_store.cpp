#include "runtime/run_store.hpp"

#include "runtime/base/atomic_write.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;

constexpr const char* meta_name = "run.json";
constexpr const char* journal_name = "journal.jsonl";
constexpr const char* workspace_name = "workspace";
constexpr int meta_format = 1;
// Retries when a freshly drawn id is taken (same second, same 24 bits).
constexpr int id_attempts = 16;

run_store_error errno_error(const std::string& what, const fs::path& path,
                            int err) {
  return {what + " " + path.string() + ": " + std::strerror(err)};
}

// "YYYYMMDD-HHMMSS-" for `us` microseconds since the epoch, in UTC.
std::string id_time_prefix(std::int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S-", &utc);
  return buf;
}

std::string random_hex6() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06x",
                static_cast<unsigned>(gen() & 0xffffffu));
  return buf;
}

bool is_hex_digest(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

value meta_to_json(const run_meta& m) {
  return {{"format", meta_format},
          {"id", m.id},
          {"workflow_file", m.workflow_file.string()},
          {"workflow_name", m.workflow_name},
          {"inputs", m.inputs},
          {"source_sha256", m.source_sha256},
          {"troupe_version", m.troupe_version},
          {"created_us", m.created_us}};
}

// Writes `text` to `path` through a synced temporary file and a rename.
std::optional<run_store_error> write_file_atomically(const fs::path& path,
                                                     const std::string& text) {
  if (auto err = base::atomic_write(path, text))
    return run_store_error{err->to_string()};
  return std::nullopt;
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  // Durability only: the run exists either way; a failure here cannot be
  // acted on better than by the next write's error.
  (void)::fsync(fd);
  ::close(fd);
}

// The string field `name` of run.json object `j`, or an error naming it.
result<std::string, run_store_error> string_field(const value& j,
                                                  const char* name,
                                                  const fs::path& file) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return run_store_error{file.string() + ": field \"" + name
                           + "\" is missing or not a string"};
  return it->get<std::string>();
}

// Validates a parsed run.json against the directory name `id`.
result<run_meta, run_store_error> meta_from_json(const value& j,
                                                 const std::string& id,
                                                 const fs::path& file) {
  const auto bad = [&file](const std::string& what) {
    return run_store_error{file.string() + ": " + what};
  };
  if (!j.is_object())
    return bad("not a JSON object");
  if (!j.contains("format") || j["format"] != meta_format)
    return bad("unknown format (expected \"format\": 1)");
  run_meta m;
  for (auto [name, out] :
       {std::pair<const char*, std::string*>{"id", &m.id},
        {"workflow_name", &m.workflow_name},
        {"source_sha256", &m.source_sha256},
        {"troupe_version", &m.troupe_version}}) {
    auto s = string_field(j, name, file);
    if (!s)
      return s.error();
    *out = s.value();
  }
  auto wf = string_field(j, "workflow_file", file);
  if (!wf)
    return wf.error();
  m.workflow_file = wf.value();
  if (m.id != id)
    return bad("field \"id\" is \"" + m.id + "\" but the directory is \"" + id
               + "\"");
  if (!m.workflow_file.is_absolute())
    return bad("field \"workflow_file\" is not an absolute path");
  if (!is_hex_digest(m.source_sha256))
    return bad("field \"source_sha256\" is not 64 lower-case hex digits");
  if (!j.contains("inputs") || !j["inputs"].is_object())
    return bad("field \"inputs\" is missing or not an object");
  m.inputs = j["inputs"];
  if (!j.contains("created_us") || !j["created_us"].is_number_integer())
    return bad("field \"created_us\" is missing or not an integer");
  m.created_us = j["created_us"].get<std::int64_t>();
  return m;
}

// Why `id` cannot name a run directory, or "".
std::string id_problem(std::string_view id) {
  if (id.empty())
    return "is empty";
  if (id.find('/') != std::string_view::npos
      || id.find('\\') != std::string_view::npos)
    return "contains a path separator";
  if (id.find('\0') != std::string_view::npos)
    return "contains a NUL byte";
  if (id == "." || id == ".." || id.find("..") != std::string_view::npos)
    return "contains \"..\"";
  if (!is_run_id(id))
    return "is not of the form YYYYMMDD-HHMMSS-xxxxxx";
  return {};
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate; an empty digest
  // then fails is_hex_digest() wherever it is checked.
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(),
                 nullptr)
      != 1)
    return {};
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

bool is_run_id(std::string_view id) {
  if (id.size() != 22 || id[8] != '-' || id[15] != '-')
    return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 15)
      continue;
    const bool digit = c >= '0' && c <= '9';
    if (i < 15 ? !digit : !(digit || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

run_store::run_store(const fs::path& root) {
  std::error_code ec;
  root_ = fs::absolute(root, ec);
  if (ec)
    root_ = root;
  root_ = root_.lexically_normal();
}

run_handle run_store::paths_of(const std::string& id) const {
  run_handle h;
  h.dir = root_ / id;
  h.meta_file = h.dir / meta_name;
  h.journal = h.dir / journal_name;
  h.workspace = h.dir / workspace_name;
  return h;
}

result<run_handle, run_store_error>
run_store::create_run(const run_request& request) {
  if (!request.inputs.is_object())
    return run_store_error{"run inputs must be a JSON object, not "
                           + std::string{request.inputs.type_name()}};
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec)
    return run_store_error{"cannot create run store directory "
                           + root_.string() + ": " + ec.message()};
  run_meta meta;
  meta.created_us = journal_now_us();
  meta.workflow_file = fs::absolute(request.workflow_file, ec).lexically_normal();
  if (ec)
    meta.workflow_file = request.workflow_file;
  meta.workflow_name = request.workflow_name;
  meta.inputs = request.inputs;
  meta.source_sha256 = sha256_hex(request.source_text);
  meta.troupe_version = request.troupe_version;
  run_handle h;
  for (int attempt = 0;; ++attempt) {
    meta.id = id_time_prefix(meta.created_us) + random_hex6();
    h = paths_of(meta.id);
    if (::mkdir(h.dir.c_str(), 0755) == 0)
      break;
    if (errno != EEXIST || attempt + 1 == id_attempts)
      return errno_error("cannot create run directory", h.dir, errno);
  }
  h.meta = meta;
  std::optional<run_store_error> err;
  if (::mkdir(h.workspace.c_str(), 0755) != 0)
    err = errno_error("cannot create workspace", h.workspace, errno);
  if (!err)
    err = write_file_atomically(h.meta_file, meta_to_json(meta).dump(2) + "\n");
  if (err) {
    fs::remove_all(h.dir, ec);
    return *err;
  }
  sync_dir(h.dir);
  sync_dir(root_);
  return h;
}

result<run_handle, run_store_error>
run_store::open_run(std::string_view id) const {
  if (auto problem = id_problem(id); !problem.empty())
    return run_store_error{"invalid run id '" + std::string{id} + "': it "
                           + problem + "; run ids are the directory names in "
                           + root_.string()};
  run_handle h = paths_of(std::string{id});
  std::error_code ec;
  if (!fs::is_directory(h.dir, ec))
    return run_store_error{"run '" + std::string{id}
                           + "' not found: looked for " + h.dir.string()};
  std::ifstream in{h.meta_file, std::ios::binary};
  if (!in)
    return run_store_error{"run '" + std::string{id} + "' has no readable "
                           + h.meta_file.string()};
  std::stringstream text;
  text << in.rdbuf();
  const value j = value::parse(text.str(), nullptr, false);
  if (j.is_discarded())
    return run_store_error{h.meta_file.string() + ": not valid JSON"};
  auto meta = meta_from_json(j, std::string{id}, h.meta_file);
  if (!meta)
    return meta.error();
  h.meta = std::move(meta).value();
  return h;
}

result<std::vector<run_listing>, run_store_error> run_store::list_runs() const {
  std::vector<run_listing> runs;
  std::error_code ec;
  if (!fs::exists(root_, ec))
    return runs;
  fs::directory_iterator it{root_, ec};
  if (ec)
    return run_store_error{"cannot list runs in " + root_.string() + ": "
                           + ec.message()};
  for (; it != fs::directory_iterator{}; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_run_id(name) || !it->is_directory(ec))
      continue;
    run_listing entry{name, std::nullopt, {}};
    auto opened = open_run(name);
    if (opened)
      entry.meta = std::move(opened).value().meta;
    else
      entry.error = opened.error().message;
    runs.push_back(std::move(entry));
  }
  if (ec)
    return run_store_error{"cannot list runs in " + root_.string() + ": "
                           + ec.message()};
  std::sort(runs.begin(), runs.end(),
            [](const run_listing& a, const run_listing& b) {
              return a.id < b.id;
            });
  return runs;
}

} // namespace troupe::runtime
