#pragma once
// One image through the whole preparation: load (EXIF, alpha, depth), detect faces, plan the
// crop, resample, write the output, its caption and (later, by prepare_dataset) its sidecar.
// Internal to kiln_dataset and its tests: this header exposes OpenCV.

#include <opencv2/core/mat.hpp>

#include <filesystem>

#include "dataset/image_loader.h"
#include "dataset/prepare_request.h"
#include "dataset/sidecar.h"

namespace kiln::dataset {

struct OutputPaths {
  std::filesystem::path image;
  std::filesystem::path caption;
  std::filesystem::path sidecar;
};

// Problems with the source become a Skipped/Warning result; failures to write the outputs
// (disk full, permissions) throw FileError, because they would fail every other image too.
ImageResult prepare_image(const std::filesystem::path& source, const OutputPaths& out, const PrepareRequest& request,
                          FaceDetector* detector);

// The square `crop` (displayed full-size pixels) of `image`, resampled to resolution^2:
// INTER_AREA when shrinking, Lanczos when enlarging.
cv::Mat render_crop(const LoadedImage& image, const Box& crop, int resolution);

// PNG or JPEG by the file's extension, written atomically.
void write_image(const std::filesystem::path& path, const cv::Mat& bgr, int jpeg_quality = 95);

// The sidecar of a prepared result.
CropSidecar sidecar_for(const ImageResult& result, const PrepareRequest& request);

}  // namespace kiln::dataset
