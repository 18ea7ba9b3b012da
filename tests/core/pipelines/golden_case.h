#pragma once
// What every golden pipeline case (golden/pipeline, golden/pipeline_more) shares: its meta.json
// (diffusers writes DPM-Solver's lambda_min_clipped as -Infinity, which is not JSON: read as null)
// and the request its call fields describe (plain prompt syntax: diffusers passes the text as is).

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "pipelines/generation_request.h"
#include "schedulers/scheduler_kind.h"
#include "support/test_support.h"

namespace kiln::test {

inline nlohmann::json read_golden_meta(const std::filesystem::path& file) {
  std::string text = read_text(file);
  for (std::size_t at = text.find("-Infinity"); at != std::string::npos; at = text.find("-Infinity", at))
    text.replace(at, 9, "null");
  return nlohmann::json::parse(text);
}

// prompt, negative prompt, size, steps, guidance, seed, sampler; the caller adds the rest.
inline pipelines::GenerationRequest golden_request(const nlohmann::json& meta) {
  pipelines::GenerationRequest r;
  r.prompt = meta.at("prompt").get<std::string>();
  if (!meta.at("negative_prompt").is_null()) r.negative_prompt = meta.at("negative_prompt").get<std::string>();
  r.width = meta.at("width").get<std::int64_t>();
  r.height = meta.at("height").get<std::int64_t>();
  r.steps = meta.at("steps").get<std::int64_t>();
  r.guidance_scale = meta.at("guidance_scale").get<double>();
  r.seed = meta.at("seed").get<std::uint64_t>();
  r.sampler = schedulers::parse_scheduler_name(meta.at("scheduler").get<std::string>());
  r.prompt_syntax = text::PromptSyntax::Plain;
  return r;
}

}  // namespace kiln::test
