// run_tool for every built-in tool but http_get (see http_client_test.cpp),
// on real files in temp dirs and real programs.

#include "runtime/base/utf8.hpp"
#include "runtime/tools.hpp"
#include "tests/runtime/test_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

class tools_test : public ::testing::Test {
protected:
  void SetUp() override {
    ctx.workspace = scratch.path() / "ws";
    fs::create_directories(ctx.workspace);
  }

  result<value, tool_error> run(const std::string& name, const value& args) {
    return run_tool(name, args, ctx);
  }

  // The message of the error `name` gives for `args`; fails the test when
  // the call succeeds.
  std::string error_of(const std::string& name, const value& args) {
    auto r = run(name, args);
    EXPECT_FALSE(r.ok()) << name << " " << args << " gave " << (r.ok() ? r.value() : value());
    if (r.ok())
      return {};
    EXPECT_EQ(r.error().tool, name);
    return r.error().message;
  }

  test::temp_dir scratch;
  tool_context ctx;
};

// Evaluates `haystack` once (it may run a tool).
#define EXPECT_HAS(haystack, needle)                                   \
  do {                                                                 \
    const std::string hay_ = (haystack);                               \
    EXPECT_NE(hay_.find(needle), std::string::npos) << "in: " << hay_; \
  } while (0)

// ---- the dispatcher ----

TEST_F(tools_test, ChecksArgumentsAgainstTheToolTable) {
  EXPECT_HAS(error_of("no_such_tool", value::object()), "unknown tool 'no_such_tool'");
  EXPECT_HAS(error_of("template", value::array()), "arguments must be an object");
  EXPECT_HAS(error_of("template", value::object()), "missing argument 'text'");
  EXPECT_HAS(error_of("template", {{"text", "x"}, {"extra", 1}}), "unknown argument 'extra'");
  EXPECT_HAS(error_of("template", {{"text", 3}}), "argument 'text' must be text, got number");
  EXPECT_HAS(error_of("chunk_text", {{"text", nullptr}, {"size", 3}}), "must be text, got null");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", "3"}}), "must be number");
}

TEST_F(tools_test, TemplateReturnsItsText) {
  auto r = run("template", {{"text", "already interpolated ✓"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "already interpolated ✓");
}

// ---- chunk_text ----

std::vector<std::string> chunks_of(const value& v) {
  return v.get<std::vector<std::string>>();
}

TEST_F(tools_test, ChunkTextBreaksAfterWhitespace) {
  auto r = run("chunk_text", {{"text", "the quick brown fox jumps"}, {"size", 10}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(chunks_of(r.value()),
            (std::vector<std::string>{"the quick ", "brown fox ", "jumps"}));
}

TEST_F(tools_test, ChunkTextCutsHardWithoutWhitespace) {
  auto r = run("chunk_text", {{"text", "abcdefghij"}, {"size", 4}, {"overlap", 1}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(chunks_of(r.value()), (std::vector<std::string>{"abcd", "defg", "ghij"}));
  auto empty = run("chunk_text", {{"text", ""}, {"size", 4}});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value(), value::array());
}

TEST_F(tools_test, ChunkTextKeepsUtf8AndItsInvariants) {
  // Two- to four-byte sequences and spaces, long enough for many chunks.
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "é🙂 日本語 x ";
  for (const int size : {1, 2, 3, 5, 8, 13}) {
    for (const int overlap : {0, size / 2, size - 1}) {
      auto r = run("chunk_text", {{"text", text}, {"size", size}, {"overlap", overlap}});
      ASSERT_TRUE(r.ok()) << r.error().message;
      const auto chunks = chunks_of(r.value());
      std::string rebuilt;
      for (size_t i = 0; i < chunks.size(); ++i) {
        const std::string& c = chunks[i];
        ASSERT_EQ(base::utf8_invalid_at(c), std::string::npos) << "size " << size;
        ASSERT_LE(base::utf8_length(c), static_cast<size_t>(size));
        ASSERT_FALSE(c.empty());
        if (i == 0) {
          rebuilt = c;
          continue;
        }
        // Each chunk starts with the last `overlap` code points of the
        // previous one; what follows continues the text.
        std::string prefix = c;
        size_t cps = 0, cut = 0;
        while (cut < prefix.size() && cps < static_cast<size_t>(overlap)) {
          ++cut;
          while (cut < prefix.size() && (static_cast<unsigned char>(prefix[cut]) & 0xC0) == 0x80)
            ++cut;
          ++cps;
        }
        ASSERT_GE(rebuilt.size(), cut);
        ASSERT_EQ(rebuilt.substr(rebuilt.size() - cut), c.substr(0, cut));
        rebuilt += c.substr(cut);
      }
      EXPECT_EQ(rebuilt, text) << "size " << size << " overlap " << overlap;
    }
  }
}

TEST_F(tools_test, ChunkTextRefusesBadSizes) {
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", 0}}), "size must be at least 1");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", -2}}), "size must be at least 1");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", 3}, {"overlap", 3}}),
             "overlap must be at least 0 and less than size");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", 3}, {"overlap", -1}}),
             "overlap must be");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", 2.5}}), "whole number");
  EXPECT_HAS(error_of("chunk_text", {{"text", "abc"}, {"size", 1e300}}), "whole number");
}

// ---- json_parse, json_get ----

TEST_F(tools_test, JsonParseReturnsTheDocument) {
  auto r = run("json_parse", {{"text", R"({"a": [1, 2, {"b": "ü"}]})"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), value::parse(R"({"a": [1, 2, {"b": "ü"}]})"));
}

TEST_F(tools_test, JsonParseErrorsCarryLineAndColumn) {
  EXPECT_HAS(error_of("json_parse", {{"text", "{\n  \"a\": [1,,2]\n}"}}), "line 2, column 11");
  EXPECT_HAS(error_of("json_parse", {{"text", ""}}), "line 1, column 1");
  // The message quotes the bad input, made printable.
  const std::string bad_utf8 = error_of("json_parse", {{"text", "[\"a\xff\"]"}});
  EXPECT_HAS(bad_utf8, "line 1");
  EXPECT_EQ(base::utf8_invalid_at(bad_utf8), std::string::npos) << bad_utf8;
  EXPECT_HAS(error_of("json_parse", {{"text", std::string(100000, '[')}}),
             "nests deeper than 1000 levels");
}

TEST_F(tools_test, JsonGetFollowsPointers) {
  const value doc = value::parse(R"({"a": {"b": [10, 20, {"c~d": true, "e/f": null}]}})");
  const std::pair<const char*, value> cases[] = {
    {"", doc},
    {"/a/b/1", 20},
    {"/a/b/2/c~0d", true},
    {"/a/b/2/e~1f", nullptr},
  };
  for (const auto& [pointer, expected] : cases) {
    auto r = run("json_get", {{"doc", doc}, {"pointer", pointer}});
    ASSERT_TRUE(r.ok()) << pointer << ": " << r.error().message;
    EXPECT_EQ(r.value(), expected) << pointer;
  }
}

TEST_F(tools_test, JsonGetErrors) {
  const value doc = value::parse(R"({"a": {"b": [10, 20]}, "n": 5})");
  for (const char* missing :
       {"/x", "/a/b/2", "/a/b/-", "/a/b/01", "/n/deeper", "/a/b/99999999999999999999999"}) {
    EXPECT_HAS(error_of("json_get", {{"doc", doc}, {"pointer", missing}}),
               "no value at pointer '" + std::string{missing} + "'");
  }
  for (const char* malformed : {"a/b", "/a~2", "/~"})
    EXPECT_HAS(error_of("json_get", {{"doc", doc}, {"pointer", malformed}}),
               "malformed JSON pointer '" + std::string{malformed} + "'");
}

// ---- regex_extract ----

TEST_F(tools_test, RegexExtractReturnsMatchesOrGroupOne) {
  const std::string text = "id=12, ID=7; id=300";
  auto whole = run("regex_extract", {{"text", text}, {"pattern", "[0-9]+"}});
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole.value(), value({"12", "7", "300"}));
  auto group = run("regex_extract", {{"text", text}, {"pattern", "id=([0-9]+)"}});
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group.value(), value({"12", "300"}));
  auto icase = run("regex_extract", {{"text", text}, {"pattern", "(?i)id=([0-9]+)"}});
  ASSERT_TRUE(icase.ok());
  EXPECT_EQ(icase.value(), value({"12", "7", "300"}));
  auto optional_group = run("regex_extract", {{"text", "a ab"}, {"pattern", "a(b)?"}});
  ASSERT_TRUE(optional_group.ok());
  EXPECT_EQ(optional_group.value(), value({"", "b"}));
  auto none = run("regex_extract", {{"text", "abc"}, {"pattern", "[0-9]"}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), value::array());
}

TEST_F(tools_test, RegexExtractRefusesInvalidPatterns) {
  EXPECT_HAS(error_of("regex_extract", {{"text", "x"}, {"pattern", "([a-"}}),
             "invalid regex '([a-'");
  EXPECT_HAS(error_of("regex_extract", {{"text", "x"}, {"pattern", "(?i)(("}}), "invalid regex");
}

TEST_F(tools_test, RegexExtractSurvivesLongMatches) {
  // One match of 300 000 characters: deep recursion in std::regex, which
  // would overflow an ordinary 8 MiB thread stack.
  const std::string text = "<" + std::string(300000, 'a') + ">";
  auto r = run("regex_extract", {{"text", text}, {"pattern", "<((a|b)*)>"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0].get<std::string>().size(), 300000u);
  EXPECT_HAS(error_of("regex_extract", {{"text", std::string(600000, 'a')}, {"pattern", "a"}}),
             "takes at most");
}

TEST_F(tools_test, RegexExtractRefusesMatchesThatSplitCharacters) {
  EXPECT_HAS(error_of("regex_extract", {{"text", "é"}, {"pattern", "(.)"}}), "not valid UTF-8");
}

// ---- read_file, write_file ----

TEST_F(tools_test, WriteThenReadRoundTrips) {
  auto w = run("write_file", {{"path", "./notes//day1.txt"}, {"content", "line 1\nline 2 ✓\n"}});
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w.value(), "notes/day1.txt");
  EXPECT_EQ(test::read_bytes(ctx.workspace / "notes" / "day1.txt").size(),
            std::string{"line 1\nline 2 ✓\n"}.size());
  auto r = run("read_file", {{"path", "notes/day1.txt"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "line 1\nline 2 ✓\n");
}

TEST_F(tools_test, WriteReplacesAtomicallyAndKeepsTheMode) {
  const fs::path target = ctx.workspace / "out.txt";
  test::write_text(target, "old");
  ::chmod(target.c_str(), 0640);
  auto w = run("write_file", {{"path", "out.txt"}, {"content", "new"}});
  ASSERT_TRUE(w.ok()) << w.error().message;
  auto r = run("read_file", {{"path", "out.txt"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "new");
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // No temporary file is left beside it.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(ctx.workspace))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"out.txt"});
}

TEST_F(tools_test, FileToolsStayInTheWorkspace) {
  const fs::path outside = scratch.path() / "outside";
  fs::create_directories(outside);
  test::write_text(outside / "secret.txt", "secret");
  fs::create_directory_symlink(outside, ctx.workspace / "escape");
  for (const char* path : {"../outside/secret.txt", "/etc/passwd", "escape/secret.txt", ""}) {
    EXPECT_FALSE(run("read_file", {{"path", path}}).ok()) << path;
    EXPECT_FALSE(run("write_file", {{"path", path}, {"content", "x"}}).ok()) << path;
  }
  EXPECT_HAS(error_of("write_file", {{"path", "escape/new.txt"}, {"content", "x"}}),
             "leaves the workspace through a symlink");
  EXPECT_FALSE(fs::exists(outside / "new.txt"));
  EXPECT_EQ(test::read_bytes(outside / "secret.txt").size(), 6u);
}

TEST_F(tools_test, ReadFileErrors) {
  EXPECT_HAS(error_of("read_file", {{"path", "absent.txt"}}), "cannot open 'absent.txt'");
  fs::create_directories(ctx.workspace / "dir");
  EXPECT_HAS(error_of("read_file", {{"path", "dir"}}), "not a regular file");
  ASSERT_EQ(::mkfifo((ctx.workspace / "fifo").c_str(), 0600), 0);
  EXPECT_HAS(error_of("read_file", {{"path", "fifo"}}), "not a regular file");
  test::write_bytes(ctx.workspace / "bin", {'\xff', '\xfe', 'a'});
  EXPECT_HAS(error_of("read_file", {{"path", "bin"}}), "not valid UTF-8");
  test::write_text(ctx.workspace / "big.txt", std::string(2000, 'x'));
  ctx.file_max_bytes = 1000;
  EXPECT_HAS(error_of("read_file", {{"path", "big.txt"}}), "over the limit of 1000");
}

TEST_F(tools_test, WriteFileErrors) {
  fs::create_directories(ctx.workspace / "dir");
  EXPECT_HAS(error_of("write_file", {{"path", "dir"}, {"content", "x"}}), "is a directory");
  test::write_text(ctx.workspace / "plain", "x");
  EXPECT_HAS(error_of("write_file", {{"path", "plain/child.txt"}, {"content", "x"}}),
             "cannot create the directories");
}

// ---- shell ----

class tools_shell : public tools_test {
protected:
  void SetUp() override {
    tools_test::SetUp();
    ctx.shell.enabled = true;
    ctx.shell.allow = {"echo", "printf", "cat", "sleep", "false", "env", "pwd",
                       "no-such-program-troupe"};
    ctx.shell.timeout_ms = 10000;
  }

  std::string output(const std::string& command) {
    auto r = run("shell", {{"command", command}});
    EXPECT_TRUE(r.ok()) << command << ": " << r.error().message;
    return r.ok() ? r.value().get<std::string>() : std::string{};
  }
};

TEST_F(tools_shell, RefusedUnlessEnabled) {
  ctx.shell.enabled = false;
  EXPECT_HAS(error_of("shell", {{"command", "echo hi"}}), "shell tool is disabled");
}

TEST_F(tools_shell, RunsAllowlistedPrograms) {
  EXPECT_EQ(output("echo hello"), "hello\n");
  EXPECT_EQ(output("printf '%s|' 'a b' \"c \\\"d\\\"\" e'f'g ''"), "a b|c \"d\"|efg||");
  EXPECT_EQ(output("printf '%s' $HOME*|;"), "$HOME*|;"); // No shell expands anything.
}

TEST_F(tools_shell, RunsInTheWorkspace) {
  test::write_text(ctx.workspace / "note.txt", "from the workspace");
  EXPECT_EQ(output("cat note.txt"), "from the workspace");
  EXPECT_EQ(output("pwd"), fs::canonical(ctx.workspace).string() + "\n");
}

TEST_F(tools_shell, DoesNotPassSecretsInTheEnvironment) {
  ::setenv("TROUPE_TEST_SECRET_KEY", "hunter2", 1);
  const std::string env = output("env");
  ::unsetenv("TROUPE_TEST_SECRET_KEY");
  EXPECT_EQ(env.find("hunter2"), std::string::npos);
  EXPECT_HAS(env, "PATH=");
}

TEST_F(tools_shell, RefusesProgramsOutsideTheAllowlist) {
  EXPECT_HAS(error_of("shell", {{"command", "rm -rf x"}}), "program 'rm' is not allowlisted");
  EXPECT_HAS(error_of("shell", {{"command", "/bin/echo hi"}}), "is a path");
  EXPECT_HAS(error_of("shell", {{"command", "./echo hi"}}), "is a path");
  EXPECT_HAS(error_of("shell", {{"command", "   "}}), "command is empty");
  EXPECT_HAS(error_of("shell", {{"command", "echo 'open"}}), "unterminated single quote");
  EXPECT_HAS(error_of("shell", {{"command", "no-such-program-troupe"}}), "not found on PATH");
}

TEST_F(tools_shell, NonZeroExitIsAnErrorWithStderr) {
  EXPECT_HAS(error_of("shell", {{"command", "false"}}), "exited with code 1");
  const std::string missing = error_of("shell", {{"command", "cat absent.txt"}});
  EXPECT_HAS(missing, "exited with code 1");
  EXPECT_HAS(missing, "absent.txt: No such file or directory");
}

TEST_F(tools_shell, KillsAfterTheTimeout) {
  ctx.shell.timeout_ms = 200;
  const std::string why = error_of("shell", {{"command", "sleep 30"}});
  EXPECT_HAS(why, "timed out after 200 ms");
}

TEST_F(tools_shell, OutputOverTheLimitIsAnError) {
  test::write_text(ctx.workspace / "big.txt", std::string(5000, 'x'));
  ctx.shell.max_output = 1000;
  EXPECT_HAS(error_of("shell", {{"command", "cat big.txt"}}), "more than max_output (1000");
  ctx.shell.max_output = 5000;
  EXPECT_EQ(output("cat big.txt").size(), 5000u);
}

TEST(shell_split_test, SplitsLikeASimpleShell) {
  const std::pair<const char*, std::vector<std::string>> cases[] = {
    {"a b\tc\n d", {"a", "b", "c", "d"}},
    {"'a b' \"c d\"", {"a b", "c d"}},
    {"x'y z'w", {"xy zw"}},
    {"'' \"\"", {"", ""}},
    {R"("a \"q\" \\ \n")", {R"(a "q" \ \n)"}},
    {R"('no \escape')", {R"(no \escape)"}},
    {R"(a\ b)", {R"(a\)", "b"}},
  };
  for (const auto& [command, expected] : cases) {
    auto r = shell_split(command);
    ASSERT_TRUE(r.ok()) << command << ": " << r.error();
    EXPECT_EQ(r.value(), expected) << command;
  }
  for (const char* bad : {"", " \t", "a 'b", "a \"b", "\"a\\\""})
    EXPECT_FALSE(shell_split(bad).ok()) << bad;
  EXPECT_FALSE(shell_split(std::string{"a\0b", 3}).ok());
}

} // namespace
} // namespace troupe::runtime
