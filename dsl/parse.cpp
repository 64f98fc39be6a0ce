// parse(): .wf text -> ast::file. The only file that includes ANTLR.
#include "dsl/parse.hpp"

#include "dsl/parse_string.hpp"
#include "runtime/base/utf8.hpp"

#include "TroupeLexer.h"
#include "TroupeParser.h"
#include "antlr4-runtime.h"

#include <cmath>
#include <cstdlib>

namespace troupe::dsl {

namespace {

using troupe_grammar::TroupeLexer;
using troupe_grammar::TroupeParser;
using token_list = std::vector<std::unique_ptr<antlr4::Token>>;

source_pos token_begin(const antlr4::Token* t) {
  return {static_cast<uint32_t>(t->getLine()),
          static_cast<uint32_t>(t->getCharPositionInLine() + 1)};
}

source_range token_range(uint32_t file, const antlr4::Token* t) {
  auto b = token_begin(t);
  if (t->getType() == antlr4::Token::EOF)
    return {file, b, {b.line, b.col + 1}};
  return {file, b, advance_pos(b, t->getText())};
}

std::string describe_token(const antlr4::Token* t) {
  if (t->getType() == antlr4::Token::EOF)
    return "end of file";
  std::string text = t->getText();
  if (text.size() > 24)
    text = text.substr(0, 21) + "...";
  return "'" + text + "'";
}

std::string describe_type(const antlr4::dfa::Vocabulary& vocab, size_t type) {
  if (type == antlr4::Token::EOF)
    return "end of file";
  switch (type) {
    case TroupeLexer::IDENT: return "a name";
    case TroupeLexer::NUMBER: return "a number";
    case TroupeLexer::DURATION: return "a duration";
    case TroupeLexer::STRING:
    case TroupeLexer::SQ_STRING:
    case TroupeLexer::TRIPLE_STRING: return "a string";
    default: return vocab.getDisplayName(type);
  }
}

// Turns ANTLR's syntax errors into E001 diagnostics that name what was found
// and, when the set is small, what was expected.
class error_listener : public antlr4::BaseErrorListener {
public:
  error_listener(uint32_t file, diagnostics& diags) : file_(file), diags_(diags) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                   size_t line, size_t col, const std::string&,
                   std::exception_ptr) override {
    source_range range{file_, {uint32_t(line), uint32_t(col + 1)},
                       {uint32_t(line), uint32_t(col + 2)}};
    std::string found = "unexpected input";
    if (offending) {
      range = token_range(file_, offending);
      found = "unexpected " + describe_token(offending);
    }
    std::string expected;
    if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
      std::vector<std::string> names;
      try {
        for (auto t : parser->getExpectedTokens().toList()) {
          auto name = describe_type(parser->getVocabulary(), size_t(t));
          if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(name);
        }
      } catch (...) {
        names.clear();
      }
      if (!names.empty() && names.size() <= 6) {
        expected = "; expected ";
        for (size_t i = 0; i < names.size(); ++i)
          expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ")
                      + names[i];
      }
    }
    if (++count_ > 50)
      return; // One mistake can cascade; the first fifty say enough.
    diags_.add(diag_code::E001, range, found + expected);
  }

private:
  uint32_t file_;
  diagnostics& diags_;
  int count_ = 0;
};

bool is_open(const std::string& s) { return s == "(" || s == "[" || s == "{"; }
bool is_close(const std::string& s) { return s == ")" || s == "]" || s == "}"; }
bool is_operator(const std::string& text) {
  static const char* ops[] = {"+", "-", "*", "/", "==", "!=", "<", "<=", ">",
                              ">=", "??", ".", "and", "or", "not"};
  for (auto* op : ops)
    if (text == op)
      return true;
  return false;
}

// Tokens after which a new expression starts at the same nesting level:
// expressions never contain them outside brackets.
bool resets_count(const antlr4::Token* t, const std::string& text) {
  if (text == ":" || text == "=" || text == ",")
    return true;
  switch (t->getType()) {
    case TroupeLexer::INPUT: case TroupeLexer::OUTPUT: case TroupeLexer::LLM:
    case TroupeLexer::TOOL: case TroupeLexer::PLAN: case TroupeLexer::CALL:
    case TroupeLexer::MODEL: case TroupeLexer::ROUTER: case TroupeLexer::WORKFLOW:
    case TroupeLexer::IMPORT:
      return true;
    default:
      return false;
  }
}

// Reports lexical errors and inputs nested too deeply to parse safely, and
// removes the error tokens. Returns false when parsing must not proceed.
bool scan_tokens(uint32_t file, token_list& tokens, diagnostics& diags) {
  bool ok = true;
  std::vector<int> ops_at_level{0};
  token_list kept;
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto* t = tokens[i].get();
    auto type = t->getType();
    // The text is kept in the token: otherwise every getText() converts it
    // back from the input stream's UTF-32.
    const auto text = t->getText();
    if (auto* c = dynamic_cast<antlr4::CommonToken*>(t))
      c->setText(text);
    if (type == TroupeLexer::BAD_CHAR) {
      std::string hint;
      if (text == ";")
        hint = "properties need no ';' separator";
      else if (text == "\\")
        hint = "backslash escapes are only valid inside strings";
      diags.add(diag_code::E004, token_range(file, t),
                "invalid character '" + text + "'", hint);
      ok = false;
      continue;
    }
    if (type == TroupeLexer::UNTERMINATED_STRING) {
      auto range = token_range(file, t);
      bool triple = !kept.empty() && kept.back()->getText() == "\"\""
                    && kept.back()->getStopIndex() + 1 == t->getStartIndex();
      if (triple)
        range.begin = token_begin(kept.back().get());
      diags.add(diag_code::E002, range,
                triple ? "unterminated multi-line string"
                       : "unterminated string",
                triple ? "close it with '\"\"\"'"
                       : "close the string on the same line, or use \"\"\" for "
                         "multi-line text");
      ok = false;
      continue;
    }
    if (type != TroupeLexer::STRING && type != TroupeLexer::SQ_STRING
        && type != TroupeLexer::TRIPLE_STRING) {
      if (is_open(text)) {
        ops_at_level.push_back(0);
        if (ops_at_level.size() > size_t(max_nesting) + 1) {
          diags.add(diag_code::E007, token_range(file, t),
                    "nesting deeper than " + std::to_string(max_nesting)
                      + " levels");
          ok = false;
          break;
        }
      } else if (is_close(text) && ops_at_level.size() > 1) {
        ops_at_level.pop_back();
      } else if (resets_count(t, text)) {
        ops_at_level.back() = 0; // A new expression starts here.
      } else if (is_operator(text) && ++ops_at_level.back() > max_operators_per_level) {
        diags.add(diag_code::E007, token_range(file, t),
                  "more than " + std::to_string(max_operators_per_level)
                    + " operators at one nesting level",
                  "split the expression into steps");
        ok = false;
        break;
      }
    }
    kept.push_back(std::move(tokens[i]));
  }
  tokens = std::move(kept);
  return ok;
}

// Builds AST nodes from a successful parse tree.
class builder {
public:
  builder(uint32_t file, diagnostics& diags) : file_(file), diags_(diags) {}

  bool failed() const { return failed_; }

  source_range range(antlr4::ParserRuleContext* ctx) const {
    auto b = token_begin(ctx->getStart());
    auto* stop = ctx->getStop() ? ctx->getStop() : ctx->getStart();
    auto e = stop->getType() == antlr4::Token::EOF ? token_begin(stop)
                                                   : advance_pos(token_begin(stop),
                                                             stop->getText());
    return {file_, b, e};
  }
  source_range range(antlr4::tree::TerminalNode* n) const {
    return token_range(file_, n->getSymbol());
  }

  ast::file build_file(TroupeParser::FileContext* ctx) {
    ast::file f;
    f.file_id = file_;
    for (auto* item : ctx->item()) {
      if (auto* i = item->importDecl()) f.items.push_back(build_import(i));
      else if (auto* m = item->modelDecl()) f.items.push_back(build_model(m));
      else if (auto* r = item->routerDecl()) f.items.push_back(build_router(r));
      else if (auto* w = item->workflowDecl()) f.items.push_back(build_workflow(w));
    }
    f.end = token_range(file_, ctx->EOF()->getSymbol());
    return f;
  }

  ast::expr_ptr build_expr(TroupeParser::ExprContext* ctx);

private:
  ast::import_decl build_import(TroupeParser::ImportDeclContext* ctx) {
    ast::import_decl d;
    d.registry = ctx->REGISTRY() != nullptr;
    auto s = build_string(ctx->str());
    d.path = s.plain_text();
    d.raw = s.raw;
    d.path_range = range(ctx->str());
    d.range = range(ctx);
    if (!s.is_plain()) {
      diags_.add(diag_code::E034, d.path_range,
                 "an import path cannot contain interpolation");
      failed_ = true;
    }
    return d;
  }

  ast::model_decl build_model(TroupeParser::ModelDeclContext* ctx) {
    return {ctx->IDENT()->getText(), range(ctx->IDENT()), range(ctx),
            build_block(ctx->block())};
  }

  ast::router_decl build_router(TroupeParser::RouterDeclContext* ctx) {
    return {range(ctx), build_block(ctx->block())};
  }

  ast::workflow_decl build_workflow(TroupeParser::WorkflowDeclContext* ctx) {
    ast::workflow_decl w;
    w.name = ctx->IDENT()->getText();
    w.name_range = range(ctx->IDENT());
    w.range = range(ctx);
    for (auto* m : ctx->member()) {
      if (auto* in = m->inputDecl()) {
        ast::input_decl d;
        d.name = in->IDENT()->getText();
        d.name_range = range(in->IDENT());
        d.range = range(in);
        d.type = build_type(in->typeRef());
        if (in->expr())
          d.default_value = build_expr(in->expr());
        w.members.emplace_back(std::move(d));
      } else if (auto* out = m->outputDecl()) {
        ast::output_decl d;
        d.name = out->IDENT()->getText();
        d.name_range = range(out->IDENT());
        d.range = range(out);
        d.type = build_type(out->typeRef());
        d.value = build_expr(out->expr());
        w.members.emplace_back(std::move(d));
      } else if (auto* s = m->stepDecl()) {
        w.members.emplace_back(build_step(s));
      } else if (auto* r = m->routerDecl()) {
        w.members.emplace_back(build_router(r));
      }
    }
    return w;
  }

  ast::step_decl build_step(TroupeParser::StepDeclContext* ctx) {
    ast::step_decl s;
    auto* k = ctx->stepKind();
    s.kind = k->LLM() ? ast::step_kind::llm
             : k->TOOL() ? ast::step_kind::tool
             : k->PLAN() ? ast::step_kind::plan
                         : ast::step_kind::call;
    s.name = ctx->IDENT()->getText();
    s.name_range = range(ctx->IDENT());
    s.range = range(ctx);
    if (auto* f = ctx->forClause())
      s.each = ast::for_clause{f->IDENT()->getText(), range(f->IDENT()),
                               build_expr(f->expr())};
    s.body = build_block(ctx->block());
    return s;
  }

  ast::type_ref build_type(TroupeParser::TypeRefContext* ctx) {
    ast::type_ref t;
    t.name = ctx->IDENT()->getText();
    t.range = range(ctx);
    if (ctx->typeRef())
      t.element = std::make_shared<ast::type_ref>(build_type(ctx->typeRef()));
    return t;
  }

  ast::block build_block(TroupeParser::BlockContext* ctx) {
    ast::block b;
    b.range = range(ctx);
    for (auto* e : ctx->entry()) {
      ast::entry en;
      en.range = range(e);
      if (auto* v = dynamic_cast<TroupeParser::ValueEntryContext*>(e)) {
        en.name = v->propName()->getText();
        en.name_range = range(v->propName());
        en.value = build_value(v->value());
      } else if (auto* bl = dynamic_cast<TroupeParser::BlockEntryContext*>(e)) {
        en.name = bl->propName()->getText();
        en.name_range = range(bl->propName());
        en.nested = std::make_shared<ast::block>(build_block(bl->block()));
      } else if (auto* fl = dynamic_cast<TroupeParser::FlagEntryContext*>(e)) {
        en.name = fl->propName()->getText();
        en.name_range = range(fl->propName());
      }
      b.entries.push_back(std::move(en));
    }
    return b;
  }

  ast::expr_ptr build_value(TroupeParser::ValueContext* ctx) {
    if (auto* p = dynamic_cast<TroupeParser::PlainValueContext*>(ctx))
      return build_expr(p->expr());
    auto e = std::make_shared<ast::expr>();
    e->range = range(ctx);
    if (auto* r = dynamic_cast<TroupeParser::RangeValueContext*>(ctx)) {
      e->kind = ast::expr_kind::range;
      e->args = {build_expr(r->expr(0)), build_expr(r->expr(1))};
    } else if (auto* a = dynamic_cast<TroupeParser::AgreeValueContext*>(ctx)) {
      e->kind = ast::expr_kind::agree;
      e->args = {build_expr(a->expr(0)), build_expr(a->expr(1))};
    }
    return e;
  }

  ast::template_string build_string(TroupeParser::StrContext* ctx);
  double parse_number(const std::string& text, source_range r);

  uint32_t file_;
  diagnostics& diags_;
  bool failed_ = false;
};

double builder::parse_number(const std::string& text, source_range r) {
  double v = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(v)) {
    diags_.add(diag_code::E008, r, "number '" + text + "' is out of range");
    failed_ = true;
    return 0;
  }
  return v;
}

ast::expr_ptr builder::build_expr(TroupeParser::ExprContext* ctx) {
  using P = TroupeParser;
  auto e = std::make_shared<ast::expr>();
  e->range = range(ctx);
  auto binary = [&](const std::string& op, P::ExprContext* l, P::ExprContext* r) {
    e->kind = ast::expr_kind::binary;
    e->op = op;
    e->args = {build_expr(l), build_expr(r)};
  };
  if (auto* c = dynamic_cast<P::FieldExprContext*>(ctx)) {
    e->kind = ast::expr_kind::field;
    e->text = c->IDENT()->getText();
    e->args = {build_expr(c->expr())};
  } else if (auto* c = dynamic_cast<P::IndexExprContext*>(ctx)) {
    e->kind = ast::expr_kind::index;
    e->args = {build_expr(c->expr(0)), build_expr(c->expr(1))};
  } else if (auto* c = dynamic_cast<P::NegExprContext*>(ctx)) {
    e->kind = ast::expr_kind::unary;
    e->op = "-";
    e->args = {build_expr(c->expr())};
  } else if (auto* c = dynamic_cast<P::NotExprContext*>(ctx)) {
    e->kind = ast::expr_kind::unary;
    e->op = "not";
    e->args = {build_expr(c->expr())};
  } else if (auto* c = dynamic_cast<P::MulExprContext*>(ctx)) {
    binary(c->op->getText(), c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::AddExprContext*>(ctx)) {
    binary(c->op->getText(), c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::CmpExprContext*>(ctx)) {
    binary(c->op->getText(), c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::AndExprContext*>(ctx)) {
    binary("and", c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::OrExprContext*>(ctx)) {
    binary("or", c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::CoalesceExprContext*>(ctx)) {
    binary("??", c->expr(0), c->expr(1));
  } else if (auto* c = dynamic_cast<P::CallExprContext*>(ctx)) {
    e->kind = ast::expr_kind::call;
    e->text = c->IDENT()->getText();
    for (auto* a : c->arg()) {
      e->args.push_back(build_expr(a->expr()));
      e->arg_names.push_back(a->propName() ? a->propName()->getText() : "");
      e->arg_name_ranges.push_back(a->propName() ? range(a->propName()) : source_range{});
    }
  } else if (auto* c = dynamic_cast<P::ListExprContext*>(ctx)) {
    e->kind = ast::expr_kind::list;
    for (auto* x : c->expr())
      e->args.push_back(build_expr(x));
  } else if (auto* c = dynamic_cast<P::ParenExprContext*>(ctx)) {
    return build_expr(c->expr());
  } else if (auto* c = dynamic_cast<P::NumberExprContext*>(ctx)) {
    e->kind = ast::expr_kind::number;
    e->text = c->getText();
    e->number = parse_number(e->text, e->range);
  } else if (auto* c = dynamic_cast<P::DurationExprContext*>(ctx)) {
    e->kind = ast::expr_kind::duration;
    e->text = c->getText();
    auto unit_at = e->text.find_first_not_of("0123456789.");
    auto unit = e->text.substr(unit_at);
    double scale = unit == "ms" ? 1 : unit == "s" ? 1e3 : unit == "m" ? 6e4 : 3.6e6;
    e->number = parse_number(e->text.substr(0, unit_at), e->range) * scale;
  } else if (auto* c = dynamic_cast<P::StringExprContext*>(ctx)) {
    e->kind = ast::expr_kind::string;
    e->str = build_string(c->str());
  } else if (auto* c = dynamic_cast<P::BoolExprContext*>(ctx)) {
    e->kind = ast::expr_kind::boolean;
    e->boolean = c->KW_TRUE() != nullptr;
  } else if (dynamic_cast<P::NullExprContext*>(ctx)) {
    e->kind = ast::expr_kind::null;
  } else if (auto* c = dynamic_cast<P::NameExprContext*>(ctx)) {
    e->kind = ast::expr_kind::name;
    e->text = c->IDENT()->getText();
  }
  return e;
}

std::optional<ast::expr_ptr> parse_interpolation(uint32_t file,
                                                 const std::string& text,
                                                 source_pos at,
                                                 diagnostics& diags);

ast::template_string builder::build_string(TroupeParser::StrContext* ctx) {
  ast::template_string s;
  auto sub_parse = [this](const std::string& text, source_pos at) -> ast::expr_ptr {
    auto e = parse_interpolation(file_, text, at, diags_);
    return e ? *e : nullptr;
  };
  if (!decode_string(file_, ctx->getText(), token_begin(ctx->getStart()), diags_,
                     sub_parse, s))
    failed_ = true;
  return s;
}

// Runs lexer and parser over `text` from entry rule `Rule`; positions start
// at `at`. Returns the tree, or null after reporting errors.
struct parse_run {
  antlr4::ANTLRInputStream input;
  TroupeLexer lexer;
  token_list tokens;
  std::unique_ptr<antlr4::ListTokenSource> source;
  std::unique_ptr<antlr4::CommonTokenStream> stream;
  std::unique_ptr<TroupeParser> parser;
  std::unique_ptr<error_listener> listener;

  parse_run(uint32_t file, const std::string& text, source_pos at,
            diagnostics& diags, bool& ok)
    : input(text), lexer(&input) {
    lexer.removeErrorListeners();
    lexer.setLine(at.line);
    lexer.setCharPositionInLine(at.col - 1);
    tokens = lexer.getAllTokens();
    ok = scan_tokens(file, tokens, diags);
    comments_from(tokens);
    if (tokens.empty()) {
      // ListTokenSource refuses an empty list; an empty input is just EOF.
      auto eof = std::make_unique<antlr4::CommonToken>(antlr4::Token::EOF);
      eof->setLine(at.line);
      eof->setCharPositionInLine(at.col - 1);
      eof->setText("<EOF>");
      tokens.push_back(std::move(eof));
    }
    source = std::make_unique<antlr4::ListTokenSource>(std::move(tokens));
    stream = std::make_unique<antlr4::CommonTokenStream>(source.get());
    parser = std::make_unique<TroupeParser>(stream.get());
    parser->removeErrorListeners();
    listener = std::make_unique<error_listener>(file, diags);
    parser->addErrorListener(listener.get());
  }

  void comments_from(const token_list& toks) {
    for (const auto& t : toks)
      if (t->getType() == TroupeLexer::COMMENT)
        comments.push_back(t.get());
  }

  std::vector<const antlr4::Token*> comments;
};

// Runs entry rule `rule` in two stages. SLL prediction that stops at the
// first problem is several times faster than full LL, and when it succeeds
// its tree is the one LL would build; on any problem the input is parsed
// again with LL prediction and the error listener, so every diagnostic is
// the one a single LL parse gives.
template <class Rule>
auto parse_two_stage(parse_run& run, Rule rule) {
  auto& p = *run.parser;
  auto* sim = p.getInterpreter<antlr4::atn::ParserATNSimulator>();
  p.removeErrorListeners();
  p.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  sim->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  try {
    return rule(p);
  } catch (const antlr4::ParseCancellationException&) {
  }
  p.reset();
  p.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
  sim->setPredictionMode(antlr4::atn::PredictionMode::LL);
  p.addErrorListener(run.listener.get());
  return rule(p);
}

std::optional<ast::expr_ptr> parse_interpolation(uint32_t file,
                                                 const std::string& text,
                                                 source_pos at,
                                                 diagnostics& diags) {
  size_t before = diags.error_count();
  bool ok = false;
  parse_run run(file, text, at, diags, ok);
  if (!ok)
    return std::nullopt;
  auto* tree = parse_two_stage(run, [](TroupeParser& p) { return p.exprOnly(); });
  if (diags.error_count() != before)
    return std::nullopt;
  builder b(file, diags);
  auto e = b.build_expr(tree->expr());
  if (b.failed())
    return std::nullopt;
  return e;
}

} // namespace

std::optional<ast::file> parse(const source_manager& sm, uint32_t file_id,
                               diagnostics& diags) {
  const auto& f = sm.file(file_id);
  size_t bad = base::utf8_invalid_at(f.text);
  if (bad != std::string_view::npos) {
    auto pos = advance_pos({1, 1}, std::string_view(f.text).substr(0, bad));
    diags.add(diag_code::E005, {file_id, pos, {pos.line, pos.col + 1}},
              "the file is not valid UTF-8 (bad byte at offset "
                + std::to_string(bad) + ")",
              "save the file as UTF-8");
    return std::nullopt;
  }
  if (size_t nul = f.text.find('\0'); nul != std::string::npos) {
    auto pos = advance_pos({1, 1}, std::string_view(f.text).substr(0, nul));
    diags.add(diag_code::E004, {file_id, pos, {pos.line, pos.col + 1}},
              "invalid character: NUL byte at offset " + std::to_string(nul),
              "is this a binary file?");
    return std::nullopt;
  }
  try {
    size_t before = diags.error_count();
    bool ok = false;
    parse_run run(file_id, f.text, {1, 1}, diags, ok);
    if (!ok)
      return std::nullopt;
    auto* tree = parse_two_stage(run, [](TroupeParser& p) { return p.file(); });
    if (diags.error_count() != before)
      return std::nullopt;
    builder b(file_id, diags);
    auto result = b.build_file(tree);
    if (b.failed())
      return std::nullopt;
    for (const auto* t : run.comments)
      result.comments.push_back({token_range(file_id, t), t->getText()});
    return result;
  } catch (...) {
    // ANTLR reports through the listener; this guards against the runtime
    // failing (it throws more than std::exception) on input it never expects.
    diags.add(diag_code::E001, {file_id, {1, 1}, {1, 2}}, "the parser failed on this file");
    return std::nullopt;
  }
}

} // namespace troupe::dsl
