// The real `troupe` binary, run as a user would: exit codes, output streams,
// files rewritten by fmt, and DOT that Graphviz accepts.
#include "tests/e2e/e2e_util.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using e2e::run;
using e2e::sample;
using e2e::scratch;
using e2e::slurp;

TEST(launcher, check_accepts_every_sample) {
  for (const auto& e : fs::directory_iterator(std::string(TROUPE_SOURCE_DIR) + "/workflows")) {
    if (e.path().extension() != ".wf")
      continue;
    auto r = run("check " + e.path().string());
    EXPECT_EQ(0, r.status) << e.path() << "\n" << r.out;
    EXPECT_NE(r.out.find(": ok ("), std::string::npos) << r.out;
  }
}

TEST(launcher, check_reports_all_errors_and_exits_1) {
  auto path = scratch("bad.wf", "workflow w {\n  output a: text = x\n  output b: text = y\n}\n");
  auto r = run("check " + path);
  EXPECT_EQ(1, r.status);
  EXPECT_NE(r.out.find("bad.wf:2:20: error[E020]: undefined name 'x'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.wf:3:20: error[E020]: undefined name 'y'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST(launcher, check_ir_prints_the_graph) {
  auto r = run("check --ir " + sample("hello.wf"));
  EXPECT_EQ(0, r.status);
  EXPECT_NE(r.out.find("order: [first_story, second_story, together]"), std::string::npos) << r.out;
}

TEST(launcher, fmt_rewrites_in_place_and_check_mode_reports) {
  auto path = scratch("messy.wf", "workflow w { input a: text\n output o: text = a }\n");
  auto r = run("fmt --check " + path);
  EXPECT_EQ(1, r.status);
  EXPECT_NE(r.out.find("not formatted"), std::string::npos) << r.out;
  EXPECT_EQ("workflow w { input a: text\n output o: text = a }\n", slurp(path));
  r = run("fmt " + path);
  EXPECT_EQ(0, r.status) << r.out;
  EXPECT_EQ("workflow w {\n  input a: text\n  output o: text = a\n}\n", slurp(path));
  r = run("fmt --check " + path);
  EXPECT_EQ(0, r.status) << r.out;
  EXPECT_FALSE(fs::exists(path + ".troupe-fmt.tmp"));
}

TEST(launcher, fmt_refuses_files_with_syntax_errors) {
  std::string text = "workflow w {\n  input a: text\n";
  auto path = scratch("broken.wf", text);
  auto r = run("fmt " + path);
  EXPECT_EQ(1, r.status);
  EXPECT_NE(r.out.find("error[E001]"), std::string::npos) << r.out;
  EXPECT_EQ(text, slurp(path));
}

TEST(launcher, graph_output_is_accepted_by_graphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Graphviz 'dot' is not installed";
  for (auto name : {"hello.wf", "qa_triage.wf", "summarize.wf", "supply_chain.wf", "plan_verify.wf"}) {
    auto svg = scratch(std::string(name) + ".svg", "");
    std::string cmd = std::string(TROUPE_BIN) + " graph " + sample(name) + " | dot -Tsvg -o " + svg;
    ASSERT_EQ(0, std::system(cmd.c_str())) << name;
    auto out = slurp(svg);
    EXPECT_NE(out.find("<svg"), std::string::npos) << name;
  }
  auto r = run("graph " + sample("hello.wf"));
  EXPECT_NE(r.out.find("\"hello/step/first_story\" -> \"hello/step/together\""), std::string::npos) << r.out;
}

TEST(launcher, usage_errors_exit_2) {
  EXPECT_EQ(2, run("").status);
  EXPECT_EQ(2, run("frobnicate").status);
  EXPECT_EQ(2, run("check --no-such-flag " + sample("hello.wf")).status);
  EXPECT_EQ(2, run("check /no/such/file.wf").status);
}

TEST(launcher, help_and_version) {
  auto h = run("--help");
  EXPECT_EQ(0, h.status);
  EXPECT_NE(h.out.find("check"), std::string::npos);
  EXPECT_NE(h.out.find("fmt"), std::string::npos);
  EXPECT_NE(h.out.find("graph"), std::string::npos);
  auto v = run("--version");
  EXPECT_EQ(0, v.status);
  EXPECT_EQ(0u, v.out.rfind("troupe ", 0)) << v.out;
}

// The shared stories260K.gguf (beside the repository, or in models/ after
// scripts/setup), or "" when neither exists.
std::string stories260k() {
  for (auto rel : {"/../shared/models/stories260K.gguf", "/models/stories260K.gguf"}) {
    std::string path = std::string(TROUPE_SOURCE_DIR) + rel;
    if (fs::is_regular_file(path))
      return path;
  }
  return "";
}

TEST(launcher, model_info_prints_header_metadata_and_tensors) {
  const auto model = stories260k();
  if (model.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  auto r = run("model info " + model);
  EXPECT_EQ(0, r.status) << r.out;
  for (const char* expected :
       {"GGUF version: 3\n", "architecture: llama\n",
        "size: 1185376 bytes; alignment 32; tensor data from byte 14176\n",
        "metadata: 19 keys\n",
        "tokenizer.ggml.tokens                   [string; 512] \"<unk>\", \"<s>\", \"</s>\",",
        "llama.block_count                       u32 5\n",
        "llama.attention.layer_norm_rms_epsilon  f32 1e-05\n",
        "tensors: 48, 1171200 bytes of data\n",
        "  token_embd.weight         F32     [64, 512]  131072        14176\n",
        "  output_norm.weight        F32     [64]       256           145248\n"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
}

TEST(launcher, model_info_on_a_truncated_copy_reports_the_field_and_exits_1) {
  const auto model = stories260k();
  if (model.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  const std::string bytes = slurp(model);
  // Cut inside the vocabulary, and inside the last tensor's data.
  auto head = scratch("head.gguf", bytes.substr(0, 5000));
  auto r = run("model info " + head);
  EXPECT_EQ(1, r.status) << r.out;
  EXPECT_EQ(r.out, head + ": byte 4996: field 'tokenizer.ggml.tokens[370]': needs 8 bytes"
                          " from byte 4996 but the file ends at byte 5000 (truncated?)\n");
  auto tail = scratch("tail.gguf", bytes.substr(0, bytes.size() - 1));
  r = run("model info " + tail);
  EXPECT_EQ(1, r.status) << r.out;
  EXPECT_EQ(0u, r.out.rfind(tail + ": byte ", 0)) << r.out;
  EXPECT_NE(r.out.find(":data': needs "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("GGUF version"), std::string::npos) << r.out;
}

TEST(launcher, model_needs_a_subcommand_and_a_file) {
  EXPECT_EQ(2, run("model").status);
  EXPECT_EQ(2, run("model info").status);
  EXPECT_EQ(1, run("model info /no/such/model.gguf").status);
}

TEST(launcher, generate_prints_only_the_continuation) {
  const auto model = stories260k();
  if (model.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  auto r = run("generate -m " + model + " -p 'Once upon a time' -n 24", true);
  ASSERT_EQ(0, r.status);
  // llama.cpp's greedy continuation of this prompt begins so.
  const std::string expected = ", there was a little girl named Lily.";
  EXPECT_EQ(0u, r.out.rfind(expected, 0)) << r.out;
  EXPECT_EQ(std::string::npos, r.out.find("Once upon")) << "the prompt was echoed";
  auto all = run("generate -m " + model + " -p 'Once upon a time' -n 8 -t 2");
  EXPECT_NE(std::string::npos, all.out.find("tokens/s")) << all.out;
}

TEST(launcher, synthesized_models_load_and_generate) {
  auto path = scratch("synth-tiny.gguf", "");
  auto w = run("model synth --shape tiny --type q8_0 -o " + path);
  ASSERT_EQ(0, w.status) << w.out;
  auto info = run("model info " + path);
  EXPECT_EQ(0, info.status) << info.out;
  EXPECT_NE(std::string::npos, info.out.find("blk.1.ffn_down.weight")) << info.out;
  auto g = run("generate -m " + path + " -p 'hello' -n 5 --temp 0.8 --seed 3");
  EXPECT_EQ(0, g.status) << g.out;
  EXPECT_EQ(1, run("model synth --shape huge --type q8_0 -o " + path).status);
}

TEST(launcher, generate_reports_a_missing_or_corrupt_model) {
  auto r = run("generate -m no-such-model.gguf -p hi");
  EXPECT_EQ(1, r.status);
  EXPECT_NE(std::string::npos, r.out.find("no-such-model.gguf")) << r.out;
  auto bad = scratch("bad.gguf", "GGUF\x03 definitely not a model");
  r = run("generate -m " + bad + " -p hi");
  EXPECT_EQ(1, r.status);
  EXPECT_NE(std::string::npos, r.out.find("byte")) << r.out;
}

TEST(launcher, generate_chooses_its_device) {
  const auto model = stories260k();
  if (model.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  auto cpu = run("generate -m " + model + " -p 'Once upon a time' -n 4 --device cpu");
  ASSERT_EQ(0, cpu.status) << cpu.out;
  EXPECT_NE(std::string::npos, cpu.out.find("device: cpu")) << cpu.out;
  auto bad = run("generate -m " + model + " -p hi --device gpu");
  EXPECT_EQ(1, bad.status);
  EXPECT_NE(std::string::npos, bad.out.find("unknown device 'gpu'")) << bad.out;
  // Without a usable device, asking for CUDA is an error and auto says why
  // it stayed on the CPU; with one, both run there.
  auto cuda = run("generate -m " + model + " -p 'Once upon a time' -n 4 --device cuda");
  auto automatic = run("generate -m " + model + " -p 'Once upon a time' -n 4");
  ASSERT_EQ(0, automatic.status) << automatic.out;
  if (cuda.status == 0) {
    EXPECT_NE(std::string::npos, cuda.out.find("device: cuda")) << cuda.out;
    EXPECT_NE(std::string::npos, automatic.out.find("device: cuda")) << automatic.out;
  } else {
    EXPECT_EQ(1, cuda.status);
    EXPECT_NE(std::string::npos, cuda.out.find("cannot run on CUDA")) << cuda.out;
    EXPECT_NE(std::string::npos, automatic.out.find("device: cpu")) << automatic.out;
  }
}

} // namespace
