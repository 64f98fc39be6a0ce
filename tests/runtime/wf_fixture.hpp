#pragma once

#include "dsl/compile.hpp"
#include "runtime/eval.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

// A real workflow for the evaluator's and verifier's tests: `.wf` text run
// through the whole front end (dsl::compile_source), with the values its
// inputs and steps hold at run time.

namespace troupe::test {

class wf_fixture {
public:
  using result_t = base::result<runtime::value, runtime::eval_error>;

  /// Compiles `text`; the test fails (fatally) if it does not check.
  explicit wf_fixture(std::string text, const std::string& workflow = "t")
    : text_(std::move(text)), comp_(dsl::compile_source("fixture.wf", text_)) {
    if (!comp_->ok())
      throw std::runtime_error("fixture does not compile:\n" + comp_->report());
    wf_ = comp_->checked->graph().find_workflow(workflow);
    if (!wf_)
      throw std::runtime_error("no workflow " + workflow);
  }

  const dsl::ir::workflow& wf() const { return *wf_; }
  const std::string& text() const { return text_; }

  runtime::value inputs = runtime::value::object();
  std::map<std::string, runtime::value> steps;

  /// A scope over inputs and steps, with the loop variable if given.
  runtime::eval_scope scope(const runtime::value* loop_value = nullptr) const {
    return {wf_, &inputs, &steps, loop_value, nullptr};
  }

  const dsl::ir::step& step(const std::string& name) const {
    const auto* s = wf_->find_step(name);
    if (!s)
      throw std::runtime_error("no step " + name);
    return *s;
  }

  /// The expression of output `name`.
  const dsl::ast::expr& output(const std::string& name) const {
    for (const auto& o : wf_->outputs)
      if (o.name == name)
        return *o.value;
    throw std::runtime_error("no output " + name);
  }

  /// Output `name` evaluated over inputs and steps.
  result_t eval(const std::string& name) const {
    return runtime::evaluate(output(name), scope());
  }

  /// Where `snippet` first occurs in the text, after the first `after` if
  /// given (1-based; ASCII text, so bytes are code points).
  dsl::source_pos pos_of(const std::string& snippet, const std::string& after = "") const {
    const size_t from = text_.find(after);
    const size_t at = from == std::string::npos ? from : text_.find(snippet, from);
    if (at == std::string::npos)
      throw std::runtime_error("no '" + snippet + "' in the fixture");
    dsl::source_pos p{1, 1};
    for (size_t i = 0; i < at; ++i) {
      if (text_[i] == '\n') {
        ++p.line;
        p.col = 1;
      } else {
        ++p.col;
      }
    }
    return p;
  }

private:
  std::string text_;
  std::unique_ptr<dsl::compilation> comp_;
  const dsl::ir::workflow* wf_ = nullptr;
};

} // namespace troupe::test
