#include "actors/records.hpp"

#include "records_generated.h"

namespace troupe::actors {

namespace {

flatbuffers::Offset<fb::token_array> build_tokens(flatbuffers::FlatBufferBuilder& b,
                                                  const runtime::token_list& t) {
  auto ids = b.CreateVector(t.ids);
  auto lps = b.CreateVector(t.logprobs);
  return fb::Createtoken_array(b, ids, lps);
}

base::result<runtime::token_list, std::string> read_tokens(const fb::token_array* t) {
  runtime::token_list out;
  if (!t)
    return out;
  if (t->ids())
    out.ids.assign(t->ids()->begin(), t->ids()->end());
  if (t->logprobs())
    out.logprobs.assign(t->logprobs()->begin(), t->logprobs()->end());
  if (out.ids.size() != out.logprobs.size())
    return std::string("token ids and logprobs differ in length (")
           + std::to_string(out.ids.size()) + " and " + std::to_string(out.logprobs.size())
           + ")";
  return out;
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

} // namespace

std::vector<std::uint8_t> token_list_write(const runtime::token_list& t) {
  flatbuffers::FlatBufferBuilder b(64 + t.ids.size() * 8);
  b.Finish(build_tokens(b, t));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

base::result<runtime::token_list, std::string> token_list_read(const std::vector<std::uint8_t>& bytes) {
  flatbuffers::Verifier v(bytes.data(), bytes.size());
  if (bytes.empty() || !v.VerifyBuffer<fb::token_array>(nullptr))
    return "token array: not a valid FlatBuffer (" + std::to_string(bytes.size()) + " bytes)";
  auto r = read_tokens(flatbuffers::GetRoot<fb::token_array>(bytes.data()));
  if (!r)
    return "token array: " + r.error();
  return r;
}

std::vector<std::uint8_t> step_record_write(const runtime::step_record& r) {
  flatbuffers::FlatBufferBuilder b(256 + r.output_json.size() + r.tokens.ids.size() * 8);
  auto key = b.CreateString(r.key);
  auto out = b.CreateString(r.output_json);
  auto err = b.CreateString(r.error);
  auto model = b.CreateString(r.model);
  auto node = b.CreateString(r.node);
  auto toks = build_tokens(b, r.tokens);
  b.Finish(fb::Createstep_record(b, key, r.attempt, r.ok, out, err, r.retryable, model, node,
                                 r.prompt_tokens, r.completion_tokens, r.started_us,
                                 r.finished_us, toks));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

base::result<runtime::step_record, std::string>
step_record_read(const std::vector<std::uint8_t>& bytes) {
  flatbuffers::Verifier v(bytes.data(), bytes.size());
  if (bytes.empty() || !fb::Verifystep_recordBuffer(v))
    return "step record: not a valid FlatBuffer (" + std::to_string(bytes.size()) + " bytes)";
  const auto* r = fb::Getstep_record(bytes.data());
  if (!r->key() || r->key()->size() == 0)
    return std::string("step record: no key");
  runtime::step_record d;
  d.key = str(r->key());
  d.attempt = r->attempt();
  d.ok = r->ok();
  d.output_json = str(r->output_json());
  d.error = str(r->error());
  d.retryable = r->retryable();
  d.model = str(r->model());
  d.node = str(r->node());
  d.prompt_tokens = r->prompt_tokens();
  d.completion_tokens = r->completion_tokens();
  d.started_us = r->started_us();
  d.finished_us = r->finished_us();
  auto t = read_tokens(r->tokens());
  if (!t)
    return "step record: " + t.error();
  d.tokens = std::move(t).value();
  return d;
}

} // namespace troupe::actors
