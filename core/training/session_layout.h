#pragma once
// Where a training session keeps its files (internal to kiln_training; see trainer.h).

#include <filesystem>

namespace kiln::training {

// The safetensors metadata key of a training checkpoint's JSON (stage, steps, method, family).
inline constexpr const char* kCheckpointKey = "kiln_checkpoint";

inline std::filesystem::path settings_path(const std::filesystem::path& dir) { return dir / "settings.json"; }
inline std::filesystem::path checkpoint_path(const std::filesystem::path& dir) {
  return dir / "checkpoints" / "latest.safetensors";
}
inline std::filesystem::path metrics_path(const std::filesystem::path& dir) { return dir / "metrics.jsonl"; }

}  // namespace kiln::training
