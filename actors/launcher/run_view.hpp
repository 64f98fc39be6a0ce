#pragma once

#include "actors/messages.hpp"
#include "runtime/run_events.hpp"

#include <map>
#include <string>
#include <vector>

namespace troupe::launcher {

/// What `troupe run` shows while a run goes and when it ends. On a terminal,
/// stderr carries one line per step, rewritten in place as its state
/// changes (running on a model and node, retrying, done with its time,
/// failed, skipped, reused). With `json`, stdout carries every run event as
/// one JSON line instead; without, stdout gets only the final outputs as
/// JSON. With `explain`, the routing decisions are printed to stderr at the
/// end, one line each with their scores.
class run_view {
public:
  run_view(bool json, bool explain, std::string run_id);

  /// One run event (a journal line, JSON text).
  void on_event(const std::string& json);

  /// Prints the outputs (stdout) or the failures (stderr) and how to
  /// resume a failed run.
  void finish(const actors::run_summary& summary);

private:
  struct line {
    std::string key;
    std::string state;
    std::string detail;
  };
  // What each event changes on screen; events it does not show fall to the
  // template.
  void show(const runtime::ev_route& e);
  void show(const runtime::ev_step_started& e);
  void show(const runtime::ev_attempt_failed& e);
  void show(const runtime::ev_step_finished& e);
  void show(const runtime::ev_step_failed& e);
  void show(const runtime::ev_step_note& e);
  template <class Event>
  void show(const Event&) {}
  void set(const std::string& key, std::string state, std::string detail);
  void redraw();

  bool json_;
  bool explain_;
  bool live_; ///< stderr is a terminal.
  std::string run_id_;
  std::vector<line> lines_;
  std::map<std::string, size_t> index_;
  size_t drawn_ = 0;
  std::vector<std::string> decisions_;
};

} // namespace troupe::launcher
