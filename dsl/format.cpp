#include "dsl/format.hpp"

#include "dsl/lexicon.hpp"

#include <algorithm>

namespace troupe::dsl {

namespace {

int precedence(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::range:
    case ast::expr_kind::agree: return 1;
    case ast::expr_kind::unary: return e.op == "not" ? 5 : 9;
    case ast::expr_kind::binary:
      if (e.op == "??") return 2;
      if (e.op == "or") return 3;
      if (e.op == "and") return 4;
      if (e.op == "*" || e.op == "/") return 8;
      if (e.op == "+" || e.op == "-") return 7;
      return 6; // comparisons
    default: return 10;
  }
}

std::string print_expr(const ast::expr& e, bool decoded);

std::string wrap(const ast::expr& e, bool decoded, bool parens) {
  auto s = print_expr(e, decoded);
  return parens ? "(" + s + ")" : s;
}

// A string by value: literal text escaped, interpolations in canonical form.
std::string decoded_string(const ast::template_string& t) {
  std::string out = "\"";
  for (const auto& p : t.parts) {
    if (p.value) {
      out += "{{" + print_expr(*p.value, true) + "}}";
      continue;
    }
    out += escape_string(p.literal, string_braces::literal);
  }
  return out + "\"";
}

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Re-indents a multi-line triple-quoted string to `indent` without changing
// its decoded value (see the dedent rule in parse.cpp).
std::string reindent_triple(const std::string& raw, const std::string& indent) {
  std::string body = raw.substr(3, raw.size() - 6);
  std::vector<std::string> lines;
  size_t begin = 0;
  while (true) {
    size_t nl = body.find('\n', begin);
    std::string l = body.substr(begin, nl == std::string::npos ? nl : nl - begin);
    if (!l.empty() && l.back() == '\r')
      l.pop_back();
    lines.push_back(l);
    if (nl == std::string::npos)
      break;
    begin = nl + 1;
  }
  if (lines.size() < 2)
    return raw;
  if (blank(lines.front()))
    lines.erase(lines.begin());
  if (lines.size() > 1 && blank(lines.back()))
    lines.pop_back();
  size_t common = std::string::npos;
  for (const auto& l : lines)
    if (!blank(l))
      common = std::min(common, l.find_first_not_of(" \t"));
  std::string out = "\"\"\"\n";
  for (const auto& l : lines)
    out += blank(l) ? "\n" : indent + "  " + l.substr(common) + "\n";
  return out + indent + "\"\"\"";
}

class formatter {
public:
  formatter(const ast::file& f, const source_file& src) : f_(f), src_(src) {}

  std::string run() {
    const ast::item* prev = nullptr;
    for (const auto& item : f_.items) {
      auto r = item_range(item);
      bool imports = prev && std::holds_alternative<ast::import_decl>(*prev)
                     && std::holds_alternative<ast::import_decl>(item);
      if (prev && !imports)
        out_ += "\n";
      else if (prev && blank_before(first_line(r.begin)))
        out_ += "\n";
      lead(r.begin, "", prev != nullptr);
      print_item(item);
      prev = &item;
    }
    comments_before({UINT32_MAX, 0}, "", !f_.items.empty());
    return out_;
  }

private:
  static source_range item_range(const ast::item& item) {
    return std::visit([](const auto& d) { return d.range; }, item);
  }
  static source_range member_range(const ast::member& m) {
    return std::visit([](const auto& d) { return d.range; }, m);
  }

  // The first line of the thing at `pos`, counting leading comments.
  uint32_t first_line(source_pos pos) const {
    uint32_t line = pos.line;
    for (size_t i = next_comment_; i < f_.comments.size(); ++i) {
      if (!(f_.comments[i].range.begin < pos))
        break;
      line = std::min(line, f_.comments[i].range.begin.line);
      break;
    }
    return line;
  }

  bool blank_before(uint32_t line) const {
    return line > 1 && blank(src_.line_text(line - 1));
  }

  // Prints pending comments that start before `pos`, each on its own line.
  // Returns whether it printed any.
  bool comments_before(source_pos pos, const std::string& indent, bool not_first) {
    bool first = true;
    while (next_comment_ < f_.comments.size()
           && f_.comments[next_comment_].range.begin < pos) {
      const auto& c = f_.comments[next_comment_++];
      if ((!first || not_first) && blank_before(c.range.begin.line) && !out_.empty()
          && out_.compare(out_.size() - 2, 2, "\n\n") != 0)
        out_ += "\n";
      out_ += indent + c.text + "\n";
      first = false;
    }
    return !first;
  }

  // Leading comments of the construct at `pos`, keeping a blank line that
  // separated them from it.
  void lead(source_pos pos, const std::string& indent, bool not_first) {
    if (comments_before(pos, indent, not_first) && blank_before(pos.line))
      out_ += "\n";
  }

  // Appends a comment that sat on the same source line as the end of the
  // construct just printed.
  void trailing_comment(uint32_t line) {
    if (next_comment_ < f_.comments.size()
        && f_.comments[next_comment_].range.begin.line == line) {
      out_.pop_back(); // the newline
      out_ += "  " + f_.comments[next_comment_++].text + "\n";
    }
  }

  void print_item(const ast::item& item) {
    if (auto* i = std::get_if<ast::import_decl>(&item)) {
      out_ += std::string("import ") + (i->registry ? "registry " : "") + i->raw + "\n";
      trailing_comment(i->range.end.line);
    } else if (auto* m = std::get_if<ast::model_decl>(&item)) {
      out_ += "model " + m->name + " ";
      print_block(m->body, "");
    } else if (auto* r = std::get_if<ast::router_decl>(&item)) {
      out_ += "router ";
      print_block(r->body, "");
    } else if (auto* w = std::get_if<ast::workflow_decl>(&item)) {
      print_workflow(*w);
    }
  }

  void print_workflow(const ast::workflow_decl& w) {
    out_ += "workflow " + w.name + " {\n";
    bool first = true;
    for (const auto& m : w.members) {
      auto r = member_range(m);
      if (!first && blank_before(first_line(r.begin)))
        out_ += "\n";
      lead(r.begin, "  ", !first);
      print_member(m, "  ");
      first = false;
    }
    comments_before(w.range.end, "  ", !first);
    out_ += "}\n";
    trailing_comment(w.range.end.line);
  }

  void print_member(const ast::member& m, const std::string& ind) {
    if (auto* in = std::get_if<ast::input_decl>(&m)) {
      out_ += ind + "input " + in->name + ": " + type_str(in->type);
      if (in->default_value)
        out_ += " = " + value_str(*in->default_value, ind);
      out_ += "\n";
      trailing_comment(in->range.end.line);
    } else if (auto* o = std::get_if<ast::output_decl>(&m)) {
      out_ += ind + "output " + o->name + ": " + type_str(o->type) + " = "
              + value_str(*o->value, ind) + "\n";
      trailing_comment(o->range.end.line);
    } else if (auto* s = std::get_if<ast::step_decl>(&m)) {
      out_ += ind + ast::to_string(s->kind) + " " + s->name + " ";
      if (s->each)
        out_ += "for " + s->each->var + " in " + value_str(*s->each->list, ind) + " ";
      print_block(s->body, ind);
    } else if (auto* r = std::get_if<ast::router_decl>(&m)) {
      out_ += ind + "router ";
      print_block(r->body, ind);
    }
  }

  void print_block(const ast::block& b, const std::string& ind) {
    if (b.entries.empty() && !has_comment_before(b.range.end)) {
      out_ += "{}\n";
      trailing_comment(b.range.end.line);
      return;
    }
    out_ += "{\n";
    std::string inner = ind + "  ";
    bool first = true;
    for (const auto& e : b.entries) {
      if (!first && blank_before(first_line(e.range.begin)))
        out_ += "\n";
      lead(e.range.begin, inner, !first);
      out_ += inner + e.name;
      if (e.value) {
        out_ += ": " + value_str(*e.value, inner) + "\n";
        trailing_comment(e.range.end.line);
      } else if (e.nested) {
        out_ += " ";
        print_block(*e.nested, inner);
      } else {
        out_ += "\n";
        trailing_comment(e.range.end.line);
      }
      first = false;
    }
    comments_before(b.range.end, inner, !first);
    out_ += ind + "}\n";
    trailing_comment(b.range.end.line);
  }

  bool has_comment_before(source_pos pos) const {
    return next_comment_ < f_.comments.size()
           && f_.comments[next_comment_].range.begin < pos;
  }

  static std::string type_str(const ast::type_ref& t) {
    return t.element ? t.name + "<" + type_str(*t.element) + ">" : t.name;
  }

  // Values at statement level: multi-line strings are re-indented.
  std::string value_str(const ast::expr& e, const std::string& ind) {
    if (e.kind == ast::expr_kind::string && e.str.raw.rfind("\"\"\"", 0) == 0)
      return reindent_triple(e.str.raw, ind);
    return expr_to_source(e);
  }

  const ast::file& f_;
  const source_file& src_;
  std::string out_;
  size_t next_comment_ = 0;
};

std::string print_expr(const ast::expr& e, bool decoded) {
  int p = precedence(e);
  switch (e.kind) {
    case ast::expr_kind::number:
    case ast::expr_kind::duration:
    case ast::expr_kind::name: return e.text;
    case ast::expr_kind::string: return decoded ? decoded_string(e.str) : e.str.raw;
    case ast::expr_kind::boolean: return e.boolean ? "true" : "false";
    case ast::expr_kind::null: return "null";
    case ast::expr_kind::list: {
      std::string s = "[";
      for (size_t i = 0; i < e.args.size(); ++i)
        s += (i ? ", " : "") + print_expr(*e.args[i], decoded);
      return s + "]";
    }
    case ast::expr_kind::field:
      return wrap(*e.args[0], decoded, precedence(*e.args[0]) < 10) + "." + e.text;
    case ast::expr_kind::index:
      return wrap(*e.args[0], decoded, precedence(*e.args[0]) < 10) + "["
             + print_expr(*e.args[1], decoded) + "]";
    case ast::expr_kind::call: {
      std::string s = e.text + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        s += i ? ", " : "";
        if (!e.arg_names[i].empty())
          s += e.arg_names[i] + ": ";
        s += print_expr(*e.args[i], decoded);
      }
      return s + ")";
    }
    case ast::expr_kind::unary: {
      bool parens = precedence(*e.args[0]) < p;
      return e.op == "not" ? "not " + wrap(*e.args[0], decoded, parens)
                           : "-" + wrap(*e.args[0], decoded, parens);
    }
    case ast::expr_kind::binary: {
      bool right_assoc = e.op == "??";
      int lp = precedence(*e.args[0]), rp = precedence(*e.args[1]);
      bool lparen = right_assoc ? lp <= p : lp < p;
      bool rparen = right_assoc ? rp < p : rp <= p;
      return wrap(*e.args[0], decoded, lparen) + " " + e.op + " " + wrap(*e.args[1], decoded, rparen);
    }
    case ast::expr_kind::range:
      return print_expr(*e.args[0], decoded) + ".." + print_expr(*e.args[1], decoded);
    case ast::expr_kind::agree:
      return print_expr(*e.args[0], decoded) + " of " + print_expr(*e.args[1], decoded);
  }
  return "";
}

} // namespace

std::string expr_to_source(const ast::expr& e) { return print_expr(e, false); }

std::string expr_to_ir(const ast::expr& e) { return print_expr(e, true); }

std::string format_file(const ast::file& file, const source_file& src) {
  return formatter(file, src).run();
}

} // namespace troupe::dsl
