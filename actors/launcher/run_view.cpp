#include "actors/launcher/run_view.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace troupe::launcher {

run_view::run_view(bool json, bool explain, std::string run_id)
  : json_(json), explain_(explain), live_(::isatty(2) == 1), run_id_(std::move(run_id)) {}

void run_view::on_event(const std::string& text) {
  if (json_)
    std::cout << text << "\n" << std::flush;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  auto read = runtime::run_event_read(parsed);
  if (!read)
    return;
  std::visit([this](const auto& e) { show(e); }, read.value());
}

void run_view::show(const runtime::ev_route& e) { decisions_.push_back(e.explain); }

void run_view::show(const runtime::ev_step_started& e) {
  set(e.key, "running", (e.model.empty() ? "" : e.model + " ") + "on " + e.node
                          + (e.attempt > 1 ? " (attempt " + std::to_string(e.attempt) + ")" : ""));
}

void run_view::show(const runtime::ev_attempt_failed& e) { set(e.key, "retry", e.phase + ": " + e.error); }

void run_view::show(const runtime::ev_step_finished& e) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.0f ms", e.elapsed_ms);
  set(e.key, "done", (e.model ? *e.model + ", " : std::string()) + ms);
}

void run_view::show(const runtime::ev_step_failed& e) { set(e.key, "failed", e.error); }

void run_view::show(const runtime::ev_step_note& e) {
  if (e.kind == runtime::ev_step_note::skipped)
    set(e.key, "skipped", "condition false");
  else if (e.kind == runtime::ev_step_note::reused)
    set(e.key, "reused", "from the journal");
}

void run_view::set(const std::string& key, std::string state, std::string detail) {
  if (key.empty())
    return;
  auto it = index_.find(key);
  if (it == index_.end()) {
    index_[key] = lines_.size();
    lines_.push_back({key, std::move(state), std::move(detail)});
  } else {
    lines_[it->second].state = std::move(state);
    lines_[it->second].detail = std::move(detail);
  }
  redraw();
}

void run_view::redraw() {
  if (!live_ || json_)
    return;
  std::string out;
  if (drawn_ > 0)
    out += "\x1b[" + std::to_string(drawn_) + "A";
  for (const auto& l : lines_) {
    std::string text = "  " + l.state + std::string(l.state.size() < 8 ? 8 - l.state.size() : 1, ' ')
                       + l.key + "  " + l.detail;
    if (text.size() > 150)
      text = text.substr(0, 147) + "...";
    out += "\x1b[2K" + text + "\n";
  }
  drawn_ = lines_.size();
  std::cerr << out << std::flush;
}

void run_view::finish(const actors::run_summary& s) {
  if (explain_)
    for (const auto& d : decisions_)
      std::cerr << "route: " << d << "\n";
  if (s.ok) {
    if (!json_) {
      auto out = nlohmann::json::parse(s.outputs_json, nullptr, false);
      std::cout << (out.is_discarded() ? s.outputs_json : out.dump(2)) << "\n";
    }
  } else {
    std::cerr << "troupe run: the run failed:\n";
    for (const auto& f : s.failures)
      std::cerr << "  " << f << "\n";
    std::cerr << "finish it with: troupe run --resume " << run_id_ << "\n";
  }
  std::cerr << "run " << run_id_ << ", journal " << s.journal_path << "\n";
}

} // namespace troupe::launcher
