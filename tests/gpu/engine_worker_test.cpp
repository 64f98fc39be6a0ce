// The engine on its own thread with the real stories260K model: requests
// from several threads all finish with the text the engine gives directly,
// the queue is bounded, interactive work is admitted before batch work and
// short jobs before long ones, and cancellation and shutdown end every
// request with exactly one final event.
#include "gpu/engine/engine_worker.hpp"
#include "gpu/model/model_load.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

namespace troupe::gpu {
namespace {

class engine_worker_test : public ::testing::Test {
protected:
  void SetUp() override {
    auto path = std::string(TROUPE_SOURCE_DIR) + "/../shared/models/stories260K.gguf";
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << "stories260K.gguf not found beside the repository";
    auto m = load_model(path);
    ASSERT_TRUE(m) << m.error().to_string();
    model_ = m.value();
  }

  generation_request request(const std::string& prompt, int max_tokens,
                             job_class cls = job_class::interactive) {
    generation_request r;
    r.cls = cls;
    r.prompt = model_->tok.encode(prompt, true, false);
    r.max_tokens = max_tokens;
    return r;
  }

  std::string direct(const std::string& prompt, int max_tokens) {
    engine e(model_, {});
    std::string text;
    e.submit(request(prompt, max_tokens), [&](const token_event& ev) { text += ev.text; });
    e.run();
    return text;
  }

  std::shared_ptr<const engine_model> model_;
};

// Collects one request's text and its single final event.
struct collector {
  std::mutex mu;
  std::string text;
  int finals = 0;
  finish_reason reason = finish_reason::none;
  std::promise<void> done;

  event_sink sink() {
    return [this](const token_event& ev) {
      std::lock_guard<std::mutex> lock(mu);
      text += ev.text;
      if (ev.done) {
        reason = ev.reason;
        if (++finals == 1)
          done.set_value();
      }
    };
  }
};

TEST_F(engine_worker_test, requests_from_many_threads_match_the_engine) {
  const std::vector<std::string> prompts = {"Once upon a time", "Lily and Tom", "The cat",
                                            "One day, a little bird"};
  engine_worker w(model_, {});
  std::vector<collector> results(prompts.size() * 2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] {
      EXPECT_GT(w.submit(request(prompts[i % prompts.size()], 40, job_class::interactive),
                         results[i].sink()),
                0);
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].done.get_future().wait();
    EXPECT_EQ(direct(prompts[i % prompts.size()], 40), results[i].text) << i;
    EXPECT_EQ(finish_reason::length, results[i].reason);
  }
  EXPECT_EQ(int64_t(results.size()), w.load().completed);
}

TEST_F(engine_worker_test, a_full_queue_refuses_and_counts) {
  worker_options o;
  o.queue_capacity = 2;
  o.max_running = 1;
  engine_worker w(model_, {}, o);
  collector a, b, c, d;
  // The first is admitted (or about to be); two more fill the queue; the
  // worker thread may have admitted one more meanwhile, so submit until one
  // is refused, which must happen within capacity + running + 1 tries.
  int accepted = 0;
  std::vector<collector*> cs = {&a, &b, &c, &d};
  int64_t refused_id = -1;
  for (auto* col : cs) {
    int64_t id = w.submit(request("Once upon a time", 60, job_class::batch), col->sink());
    if (id == 0) {
      refused_id = id;
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(0, refused_id) << "a bounded queue must refuse";
  EXPECT_EQ(1, w.load().refused);
  for (int i = 0; i < accepted; ++i)
    cs[size_t(i)]->done.get_future().wait();
}

TEST_F(engine_worker_test, interactive_and_short_jobs_are_admitted_first) {
  worker_options o;
  o.max_running = 1;
  engine_worker w(model_, {}, o);
  std::mutex mu;
  std::vector<std::string> order;
  auto tagged = [&](std::string tag, collector& c) {
    auto inner = c.sink();
    return [&, tag, inner](const token_event& ev) {
      if (ev.done) {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(tag);
      }
      inner(ev);
    };
  };
  collector blocker, long_batch, short_batch, inter;
  // Occupies the single running slot while the others queue up.
  w.submit(request("Once upon a time", 120, job_class::batch), tagged("blocker", blocker));
  while (w.load().running == 0) std::this_thread::yield();
  w.submit(request("Once upon a time", 100, job_class::batch), tagged("long", long_batch));
  w.submit(request("Once upon a time", 10, job_class::batch), tagged("short", short_batch));
  w.submit(request("Once upon a time", 100, job_class::interactive), tagged("inter", inter));
  for (auto* c : {&blocker, &long_batch, &short_batch, &inter})
    c->done.get_future().wait();
  EXPECT_EQ((std::vector<std::string>{"blocker", "inter", "short", "long"}), order);
}

TEST_F(engine_worker_test, cancel_and_shutdown_end_every_request_once) {
  collector running, queued, left;
  {
    worker_options o;
    o.max_running = 1;
    engine_worker w(model_, {}, o);
    int64_t r = w.submit(request("Once upon a time", 400, job_class::batch), running.sink());
    int64_t q = w.submit(request("Once upon a time", 120, job_class::batch), queued.sink());
    w.submit(request("Once upon a time", 120, job_class::batch), left.sink());
    w.cancel(q);
    w.cancel(r);
    running.done.get_future().wait();
    queued.done.get_future().wait();
  } // Shutdown cancels what is left.
  EXPECT_EQ(finish_reason::cancelled, running.reason);
  EXPECT_EQ(finish_reason::cancelled, queued.reason);
  EXPECT_EQ(1, running.finals);
  EXPECT_EQ(1, queued.finals);
  EXPECT_EQ(1, left.finals);
}

} // namespace
} // namespace troupe::gpu
