// resume_state(): what a journal says a resumed run can reuse.

#include "runtime/run_store.hpp"

namespace troupe::runtime {

namespace {

// Builds the error for event `i` (line i + 1 of the journal).
journal_error event_error(const std::filesystem::path& journal, std::size_t i,
                          const value& event, const std::string& what) {
  const std::string where = journal.empty()
                              ? "journal event " + std::to_string(i + 1)
                              : journal.string() + ":" + std::to_string(i + 1);
  return {journal, i + 1,
          where + ": " + event["event"].get<std::string>() + " event " + what};
}

// Sets `key` to the task key of a step_finished or step_skipped event;
// returns what is wrong with the event instead, or "".
std::string key_of(const value& event, std::string& key) {
  const auto step = event.find("step");
  if (step == event.end() || !step->is_string() || step->empty())
    return "has no non-empty string \"step\"";
  std::int64_t index = -1;
  if (const auto it = event.find("index"); it != event.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < -1)
      return "has an \"index\" that is not an integer >= -1";
    index = it->get<std::int64_t>();
  }
  key = task_key(step->get<std::string>(), index);
  return {};
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
    const std::string& kind = e["event"].get_ref<const std::string&>();
    if (kind == "step_finished" || kind == "step_skipped") {
      std::string key;
      if (auto problem = key_of(e, key); !problem.empty())
        return event_error(journal, i, e, problem);
      if (kind == "step_skipped") {
        progress.skipped.insert(key);
        continue;
      }
      const auto verified = e.find("verified");
      if (verified != e.end() && *verified == false)
        continue;
      const auto output = e.find("output");
      progress.done[key] = output == e.end() ? value{} : *output;
    } else if (kind == "run_started") {
      progress.finished_status.reset();
    } else if (kind == "run_finished") {
      const auto status = e.find("status");
      if (status == e.end() || !status->is_string())
        return event_error(journal, i, e, "has no string \"status\"");
      progress.finished_status = status->get<std::string>();
    }
  }
  for (const auto& [key, output] : progress.done)
    progress.skipped.erase(key);
  return progress;
}

} // namespace troupe::runtime
