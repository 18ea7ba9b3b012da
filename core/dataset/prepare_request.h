#pragma once
// What prepare_dataset is asked to do and what it reports per image.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dataset/crop_planner.h"
#include "dataset/face_detector.h"
#include "dataset/geometry.h"
#include "dataset/perceptual_hash.h"

namespace kiln::dataset {

enum class OutputFormat { Png, Jpeg };
const char* extension_for(OutputFormat format);  // ".png" / ".jpg"

enum class ImageStatus { Ok, Warning, Skipped };
const char* to_string(ImageStatus status);  // "ok" / "warning" / "skipped"

inline constexpr int kMinResolution = 512;
inline constexpr int kMaxResolution = 1024;
inline constexpr int kResolutionStep = 64;

struct PrepareRequest {
  // Image files and folders; folders are scanned recursively in name order, skipping hidden
  // entries and the output folder. The format is told from the content, not the extension.
  std::vector<std::filesystem::path> sources;
  std::filesystem::path output_dir;  // created when missing; must not hold the sources
  int resolution = 512;              // output side: 512..1024 in steps of 64

  // Captions: the `.txt` beside a source wins; else, with filename_captions, the file name
  // (fast-stable-diffusion's rule); then the instance token is put first when missing.
  std::string instance_token;
  bool filename_captions = false;

  bool detect_faces = true;
  FaceDetectorOptions faces;
  CropOptions crop;

  int min_source_side = 64;  // smaller images are skipped as unusable
  // Images whose crop is smaller than the resolution are upscaled (Lanczos) with a warning;
  // false skips them instead. Never silent either way.
  bool upscale_small = true;
  OutputFormat format = OutputFormat::Png;
  int jpeg_quality = 95;
  std::array<std::uint8_t, 3> background_rgb{255, 255, 255};  // under transparent pixels
  int duplicate_distance = kDefaultDuplicateDistance;         // dHash bits; < 0 turns it off
  int threads = 0;                                            // 0: the cores, at most 4
};

struct ImageResult {
  std::filesystem::path source;
  std::filesystem::path output;   // empty when skipped
  std::filesystem::path caption;  // empty when no caption was written
  std::filesystem::path sidecar;  // empty when skipped
  ImageStatus status = ImageStatus::Skipped;
  // Skipped: the one reason. Warning: each thing a person should look at. Ok: empty.
  std::vector<std::string> reasons;

  ImageSize source_size;  // displayed (EXIF applied), full size
  int orientation = 1;
  std::vector<Box> faces;  // displayed pixels, largest first
  bool landmarks = false;  // face boxes fitted with the 68-point model
  std::optional<Box> crop;
  std::optional<Point> focal;  // set when no face steered the crop
  CropSubject subject = CropSubject::Centre;
  bool upscaled = false;
  std::string caption_text;
  std::optional<std::uint64_t> dhash;
  std::optional<std::size_t> duplicate_of;  // index in PrepareResult::images

  std::string reason() const;  // reasons joined with "; "
};

struct PrepareProgress {
  std::size_t done = 0;
  std::size_t total = 0;
  const ImageResult* last = nullptr;  // the image just finished; valid during the call only
};

}  // namespace kiln::dataset
