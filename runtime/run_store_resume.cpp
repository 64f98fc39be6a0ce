// resume_state(): what a journal says a resumed run can reuse.

#include "runtime/run_store.hpp"

#include "runtime/run_events.hpp"

#include <set>

namespace troupe::runtime {

namespace {

// The error for event `i` (line i + 1 of the journal): `what` follows the
// event's name.
journal_error event_error(const std::filesystem::path& journal, std::size_t i,
                          const value& event, const std::string& what) {
  const std::string where = journal.empty()
                              ? "journal event " + std::to_string(i + 1)
                              : journal.string() + ":" + std::to_string(i + 1);
  auto name = event.is_object() ? event.find("event") : event.end();
  return {journal, i + 1,
          where + ": "
            + (name != event.end() && name->is_string() ? name->get<std::string>() + " event "
                                                        : std::string("event "))
            + what};
}

// What is wrong with the key fields of a step event, or "".
std::string key_problem(const std::string& step, std::int64_t index) {
  if (step.empty())
    return "has no non-empty string \"step\"";
  if (index < -1)
    return "has an \"index\" that is not an integer >= -1";
  return {};
}

// The events a resume reads; any other is ignored, so a journal may hold
// events this version does not know.
bool read_by_resume(const value& e) {
  static const std::set<std::string> names = {"step_finished", "step_skipped", "run_started",
                                              "run_finished"};
  auto it = e.find("event");
  return it != e.end() && it->is_string() && names.count(it->get<std::string>()) > 0;
}

} // namespace

std::string task_key(std::string_view step, std::int64_t index) {
  std::string key{step};
  if (index >= 0)
    key += "[" + std::to_string(index) + "]";
  return key;
}

result<run_progress, journal_error>
resume_state(const std::vector<value>& events,
             const std::filesystem::path& journal) {
  run_progress progress;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const value& e = events[i];
    if (!e.is_object() || !e.contains("event") || !e["event"].is_string())
      return journal_error{journal, i + 1,
                           (journal.empty() ? std::string{"journal"}
                                            : journal.string())
                             + ": event " + std::to_string(i + 1)
                             + " has no string \"event\""};
    if (!read_by_resume(e))
      continue;
    auto read = run_event_read(e);
    if (!read)
      return event_error(journal, i, e, read.error());
    const auto& ev = read.value();
    if (const auto* f = std::get_if<ev_step_finished>(&ev)) {
      if (auto problem = key_problem(f->step, f->index); !problem.empty())
        return event_error(journal, i, e, problem);
      if (f->verified == false)
        continue;
      progress.done[task_key(f->step, f->index)] = f->output;
    } else if (const auto* n = std::get_if<ev_step_note>(&ev)) {
      if (auto problem = key_problem(n->step, n->index); !problem.empty())
        return event_error(journal, i, e, problem);
      progress.skipped.insert(task_key(n->step, n->index));
    } else if (std::holds_alternative<ev_run_started>(ev)) {
      progress.finished_status.reset();
    } else if (const auto* r = std::get_if<ev_run_finished>(&ev)) {
      if (r->status.empty())
        return event_error(journal, i, e, "has no string \"status\"");
      progress.finished_status = r->status;
    }
  }
  for (const auto& [key, output] : progress.done)
    progress.skipped.erase(key);
  return progress;
}

} // namespace troupe::runtime
