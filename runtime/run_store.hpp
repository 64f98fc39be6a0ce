#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"
#include "runtime/journal.hpp"
#include "runtime/value.hpp"

// Where runs live on disk. Each run is a directory under the store's root
// (default .troupe/runs), named by its id:
//   <root>/<id>/run.json        what was run (run_meta), written once
//   <root>/<id>/journal.jsonl   what happened (journal.hpp), appended
//   <root>/<id>/workspace/      the tools' confined workspace
// and resume_state() turns a journal back into what a resumed run may skip.

namespace troupe::runtime {

using base::result;

/// What a new run is made from.
struct run_request {
  std::filesystem::path workflow_file; ///< The main .wf file; made absolute.
  std::string workflow_name;
  value inputs = value::object(); ///< Bound inputs; must be an object.
  std::string source_text;        ///< The main .wf file's text, hashed.
  std::string troupe_version;     ///< The caller's version string.
};

/// A run's run.json.
/// Invariants (for one returned by create_run or open_run): `id` has the
/// form YYYYMMDD-HHMMSS-xxxxxx and names the run's directory;
/// `workflow_file` is absolute; `inputs` is an object; `source_sha256` is
/// 64 lower-case hex digits.
struct run_meta {
  std::string id;
  std::filesystem::path workflow_file;
  std::string workflow_name;
  value inputs = value::object();
  std::string source_sha256; ///< SHA-256 of the main .wf source text.
  std::string troupe_version;
  std::int64_t created_us = 0; ///< Microseconds since the Unix epoch.
};

/// A run's directory and the paths in it.
struct run_handle {
  run_meta meta;
  std::filesystem::path dir;       ///< <root>/<id>
  std::filesystem::path meta_file; ///< dir/run.json
  std::filesystem::path journal;   ///< dir/journal.jsonl (may not exist yet)
  std::filesystem::path workspace; ///< dir/workspace
};

/// One run found by list_runs(): its meta, or why it could not be read.
struct run_listing {
  std::string id;
  std::optional<run_meta> meta;
  std::string error; ///< Set exactly when `meta` is empty.
};

/// Why a run could not be created, found or read: a message only, naming
/// the paths involved (for a missing run, where it looked) and the cause.
using run_store_error = base::error;

/// Lower-case hex SHA-256 of `bytes` (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

/// True when `id` has the form of a run id: YYYYMMDD-HHMMSS- and six
/// lower-case hex digits.
bool is_run_id(std::string_view id);

/// The runs under one root directory. Holds no open files; several
/// run_store objects (and processes) may share a root: ids are claimed
/// with mkdir(2), which fails when the directory exists.
class run_store {
public:
  /// The default root, relative to the current directory.
  static constexpr const char* default_root = ".troupe/runs";

  /// A store rooted at `root`, made absolute against the current directory
  /// now, so a later chdir() does not move it. The root is created by the
  /// first create_run().
  explicit run_store(const std::filesystem::path& root = default_root);

  const std::filesystem::path& root() const {
    return root_;
  }

  /// Makes a new run: a fresh id (UTC creation time to the second, then
  /// six random hex digits; retried when taken), its directory with an
  /// empty workspace/, and run.json written atomically (temporary file,
  /// fsync, rename). Returns run_store_error naming the path and cause
  /// when the root cannot be created or written, or when `inputs` is not
  /// an object; nothing is left behind then.
  result<run_handle, run_store_error> create_run(const run_request& request);

  /// Reads and validates the run.json of run `id`. A malformed id (empty,
  /// with a path separator, "." or "..", or not of the run id form), a
  /// run that does not exist, and a run.json that is unreadable, not
  /// JSON, or missing or mistyping a field are each a run_store_error
  /// saying which, with the path looked at.
  result<run_handle, run_store_error> open_run(std::string_view id) const;

  /// Every run under the root, oldest first (ids sort by creation time to
  /// the second; runs created within the same second sort by their
  /// random part). Directories whose names are not run ids are ignored;
  /// a run whose run.json is bad is listed with its error. A root that
  /// does not exist yet has no runs; one that cannot be read is an error.
  result<std::vector<run_listing>, run_store_error> list_runs() const;

  /// The paths of run `id` (not checked for existence).
  run_handle paths_of(const std::string& id) const;

private:
  std::filesystem::path root_;
};

/// The key of one step instance in the journal and in resume state:
/// `step` for a step outside `for`, `step[index]` for element `index`
/// (from 0) of a `for` step. `step` is the step's path as the scheduler
/// names it (call steps' names joined with '/', e.g. "cats[1]/s"), so the
/// key is the same string as runtime::task::key (workflow_run.hpp).
std::string task_key(std::string_view step, std::int64_t index);

/// What a journal says a resumed run can reuse.
struct run_progress {
  /// task_key -> output of its last step_finished event whose "verified"
  /// is not false (absent counts as verified: steps without a verify
  /// policy). These tasks do not run again.
  std::map<std::string, value> done;
  /// Task keys with a step_skipped event and no counted step_finished.
  std::set<std::string> skipped;
  /// "status" of the last run_finished event that no run_started follows
  /// (a run_started after it means the run was resumed and has not
  /// finished since); empty when there is none.
  std::optional<std::string> finished_status;
};

/// Computes run_progress from `events` (as read_journal() returns them).
/// Reads step_finished ("step" string, "index" integer >= -1 or absent
/// for -1, "output" any or absent for null, "verified"), step_skipped
/// ("step", "index"), run_started and run_finished ("status" string);
/// other events are ignored. A read event missing one of those fields, or
/// with the wrong type, is a journal_error naming `journal` and the line
/// (event i is line i + 1 of a journal read by read_journal()).
result<run_progress, journal_error>
resume_state(const std::vector<value>& events,
             const std::filesystem::path& journal = {});

} // namespace troupe::runtime
