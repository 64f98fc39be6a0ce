#include "runtime/run_events.hpp"

#include <type_traits>
#include <utility>

namespace troupe::runtime {

namespace {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// Writes each field into `out`, the key fields under `prefix`.
struct field_writer {
  value& out;
  const std::string& prefix;

  template <class T>
  void operator()(const char* name, const T& x) const {
    if constexpr (is_optional<T>::value) {
      if (x)
        (*this)(name, *x);
    } else if constexpr (std::is_same_v<T, std::string>) {
      const bool keyed = !prefix.empty() && (std::string_view(name) == "key"
                                             || std::string_view(name) == "step");
      out[name] = keyed ? prefix + x : x;
    } else {
      out[name] = x;
    }
  }
};

// What a JSON value must be to read into T, and the reading.
template <class T>
bool read_field(const value& v, T& x, const char*& expected) {
  if constexpr (std::is_same_v<T, value>) {
    x = v;
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    expected = "a string";
    if (!v.is_string())
      return false;
    x = v.get<std::string>();
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    expected = "a boolean";
    if (!v.is_boolean())
      return false;
    x = v.get<bool>();
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    expected = std::is_unsigned_v<T> ? "an integer >= 0" : "an integer";
    if (!v.is_number_integer() || (std::is_unsigned_v<T> && v.get<int64_t>() < 0))
      return false;
    x = v.get<T>();
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    expected = "a number";
    if (!v.is_number())
      return false;
    x = v.get<T>();
    return true;
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>, "unsupported field type");
    expected = "a list of strings";
    if (!v.is_array())
      return false;
    for (const auto& s : v)
      if (!s.is_string())
        return false;
    x = v.get<std::vector<std::string>>();
    return true;
  }
}

// Reads each present field of `in`; the first field of the wrong type
// leaves its phrase in `problem`.
struct field_reader {
  const value& in;
  std::string& problem;

  template <class T>
  void operator()(const char* name, T& x) const {
    if (!problem.empty())
      return;
    auto it = in.find(name);
    if (it == in.end() || (is_optional<T>::value && it->is_null()))
      return;
    const char* expected = "";
    bool ok;
    if constexpr (is_optional<T>::value) {
      typename T::value_type inner{};
      ok = read_field(*it, inner, expected);
      if (ok)
        x = std::move(inner);
    } else {
      ok = read_field(*it, x, expected);
    }
    if (!ok)
      problem = std::string("has a field \"") + name + "\" that is not " + expected;
  }
};

const char* note_name(ev_step_note::kind_t k) {
  switch (k) {
    case ev_step_note::skipped: return "step_skipped";
    case ev_step_note::reused: return "step_reused";
    case ev_step_note::empty: return "step_empty";
  }
  return "step_note";
}

template <class E>
std::string name_of(const E& e) {
  if constexpr (std::is_same_v<E, ev_step_note>)
    return note_name(e.kind);
  else if constexpr (std::is_same_v<E, ev_run_started> || std::is_same_v<E, ev_run_finished>)
    return e.nested ? std::string("plan_") + E::name : E::name;
  else
    return E::name;
}

// Reads an event of type E from `in` (whose name has been matched).
template <class E>
result<run_event, std::string> read_as(const value& in, E e = {}) {
  std::string problem;
  e.fields(field_reader{in, problem});
  if (!problem.empty())
    return problem;
  return run_event{std::move(e)};
}

// Every value of E that name_of() tells apart: the kinds of a step note,
// a run's start or end nested or not, else one.
template <class E>
std::vector<E> presets() {
  if constexpr (std::is_same_v<E, ev_step_note>) {
    std::vector<E> out(3);
    out[0].kind = ev_step_note::skipped;
    out[1].kind = ev_step_note::reused;
    out[2].kind = ev_step_note::empty;
    return out;
  } else if constexpr (std::is_same_v<E, ev_run_started> || std::is_same_v<E, ev_run_finished>) {
    std::vector<E> out(2);
    out[1].nested = true;
    return out;
  } else {
    return std::vector<E>(1);
  }
}

// Reads `in` as the alternative of run_event written under `name`, found
// from the variant's own list: a new event needs no entry here.
template <size_t... I>
std::optional<result<run_event, std::string>> read_named(const std::string& name, const value& in,
                                                         std::index_sequence<I...>) {
  std::optional<result<run_event, std::string>> out;
  auto try_one = [&](auto preset_list) {
    for (auto& e : preset_list)
      if (!out && name_of(e) == name)
        out = read_as(in, std::move(e));
  };
  (try_one(presets<std::variant_alternative_t<I, run_event>>()), ...);
  return out;
}

} // namespace

std::string run_event_name(const run_event& e) {
  return std::visit([](const auto& x) { return name_of(x); }, e);
}

bool run_event_durable(const run_event& e) {
  return std::holds_alternative<ev_run_started>(e) || std::holds_alternative<ev_step_failed>(e)
         || std::holds_alternative<ev_run_finished>(e);
}

std::string run_event_line(run_event e, int64_t ts, const std::string& key_prefix) {
  value out = value::object();
  std::visit(
    [&](auto& x) {
      out["event"] = name_of(x);
      x.fields(field_writer{out, key_prefix});
    },
    e);
  out["ts"] = ts;
  return value_to_json(out);
}

result<run_event, std::string> run_event_read(const value& event) {
  auto name_it = event.find("event");
  if (!event.is_object() || name_it == event.end() || !name_it->is_string())
    return std::string("has no string \"event\"");
  auto read = read_named(name_it->get_ref<const std::string&>(), event,
                         std::make_index_sequence<std::variant_size_v<run_event>>{});
  if (!read)
    return std::string("is not an event troupe writes");
  return std::move(*read);
}

int64_t run_event_ts(const value& event) {
  auto it = event.find("ts");
  return it != event.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

} // namespace troupe::runtime
