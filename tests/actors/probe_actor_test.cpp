#include "actors/probe_actor.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/message.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/messages.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::actors {
namespace {

namespace fs = std::filesystem;

struct test_config : caf::actor_system_config {
  test_config() {
    register_message_types(*this);
  }
};

class probe_actor_test : public testing::Test {
protected:
  // Sends one real request and waits for the reply.
  model_probe_reply ask(const std::string& model) {
    auto probe = probe_actor_spawn(sys_);
    caf::scoped_actor self{sys_};
    model_probe_reply result;
    self->request(probe, caf::infinite, model_probe_atom_v, model)
      .receive([&](const model_probe_reply& reply) { result = reply; },
               [&](const caf::error& err) {
                 ADD_FAILURE() << "request failed: " << sys_.render(err);
               });
    return result;
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
  test::temp_dir dir_;
};

TEST_F(probe_actor_test, probes_the_real_model) {
  const auto source = test::stories260k_source();
  if (source.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  const fs::path copy = dir_.path() / "stories260K.gguf";
  fs::copy_file(source, copy);
  const auto reply = ask(copy.string());
  ASSERT_TRUE(reply.ok) << reply.error_message;
  EXPECT_EQ(reply.path, copy.string());
  EXPECT_EQ(reply.version, 3u);
  EXPECT_EQ(reply.tensor_count, 48u);
  EXPECT_EQ(reply.file_size, fs::file_size(source));
  EXPECT_EQ(reply.architecture, "llama");
}

TEST_F(probe_actor_test, corrupt_file_replies_with_offset) {
  const auto source = test::stories260k_source();
  std::vector<char> bytes;
  if (!source.empty()) {
    bytes = test::read_bytes(source);
    bytes.resize(bytes.size() / 2); // truncated inside the tensor data
  } else {
    bytes = {'G', 'G', 'U', 'F', 9, 0, 0, 0};
    bytes.resize(64, 0);
  }
  const fs::path corrupt = dir_.path() / "corrupt.gguf";
  test::write_bytes(corrupt, bytes);
  const auto reply = ask(corrupt.string());
  EXPECT_FALSE(reply.ok);
  EXPECT_FALSE(reply.error_message.empty());
  if (!source.empty())
    EXPECT_GT(reply.error_offset, 0u) << reply.error_message;
  else
    EXPECT_EQ(reply.error_offset, 4u) << reply.error_message;
}

TEST_F(probe_actor_test, corrupt_file_reply_names_the_field) {
  // The header stops inside the tensor count (bytes 8..15).
  const fs::path corrupt = dir_.path() / "short.gguf";
  test::write_bytes(corrupt, {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1, 0, 0});
  const auto reply = ask(corrupt.string());
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.error_offset, 8u);
  EXPECT_EQ(reply.error_message.rfind("field 'tensor_count': needs 8 bytes", 0), 0u)
    << reply.error_message;
}

TEST_F(probe_actor_test, unknown_model_name_replies_with_search_list) {
  const auto reply = ask(dir_.path().string() + "/absent.gguf");
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error_message.find("absent.gguf"), std::string::npos);
}

model_probe_reply sample_reply() {
  model_probe_reply r;
  r.path = "/models/x.gguf";
  r.ok = false;
  r.version = 3;
  r.file_size = 1185376;
  r.error_offset = 14176;
  r.error_message = "tensor 'output.weight' needs 1024 bytes (truncated?)";
  return r;
}

TEST_F(probe_actor_test, reply_survives_binary_round_trip) {
  const auto original = sample_reply();
  std::vector<char> buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(original));
  ASSERT_FALSE(buf.empty());
  model_probe_reply copy;
  caf::binary_deserializer source{sys_, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy, original);
}

TEST_F(probe_actor_test, message_survives_binary_round_trip) {
  // A whole message needs the type IDs registered with the system.
  const auto original = caf::make_message(model_probe_atom_v, sample_reply());
  std::vector<char> buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(original));
  caf::message copy;
  caf::binary_deserializer source{sys_, buf};
  ASSERT_FALSE(source(copy));
  ASSERT_TRUE((copy.match_elements<model_probe_atom, model_probe_reply>()));
  EXPECT_EQ(copy.get_as<model_probe_reply>(1), sample_reply());
}

TEST(model_probe, plain_function_needs_no_actor_system) {
  test::temp_dir dir;
  const fs::path empty = dir.path() / "empty.gguf";
  test::write_bytes(empty, {});
  const auto reply = model_probe(empty.string());
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error_message.find("0 bytes"), std::string::npos)
    << reply.error_message;
}

} // namespace
} // namespace troupe::actors
