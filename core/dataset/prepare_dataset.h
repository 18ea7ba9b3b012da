#pragma once
// The dataset preparation entry points: a folder (or files) of photos in, a folder of square,
// face-aware crops with captions and crop sidecars out; and the regeneration of one output
// when a person moves its crop box. Synchronous and Qt-free; run it on a worker thread.

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "dataset/prepare_request.h"
#include "dataset/sidecar.h"

namespace kiln::dataset {

struct PrepareResult {
  std::vector<ImageResult> images;  // in source order; only those reached when cancelled
  bool cancelled = false;
  bool landmarks_available = false;  // the 68-point model was found and used
  std::vector<std::string> notes;    // about the run, not one image (e.g. an unreadable landmark model)
};

// Called after each image, from worker threads but never concurrently.
using PrepareProgressCallback = std::function<void(const PrepareProgress&)>;

// Throws InvalidRequestError naming the field: resolution, empty sources, missing sources,
// an output folder that is a source folder, threads, quality.
void validate_request(const PrepareRequest& request);

// Whether the name looks like an image we read (.jpg .jpeg .png .webp .bmp .tif .tiff, any case).
bool has_image_extension(const std::filesystem::path& path);

// The images under `folder`, recursively, sorted by path; hidden files and folders and
// `exclude` (e.g. the output folder) are left out. Throws FileError when the folder is unreadable.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& folder,
                                               const std::filesystem::path& exclude = {});

// Every image of the request, each reported ok / warning / skipped with its reason; a bad file
// never stops the others. Checks `stop` between images (cancelling is an outcome: cancelled =
// true). Throws InvalidRequestError (see validate_request) before any work, and FileError when
// an output cannot be written.
PrepareResult prepare_dataset(const PrepareRequest& request, std::stop_token stop = {},
                              const PrepareProgressCallback& progress = {});

// {"images": [{"source", "output", "faces": [[x,y,w,h], ...], "crop": [x,y,w,h],
//   "status": "ok"|"warning"|"skipped", "reason"}]}, boxes in the source's displayed pixels;
// output and crop are null for skipped images, reason is "" for ok ones.
nlohmann::json report_json(const PrepareResult& result);

// Re-renders `output` from its original with `crop` (a square in the original's displayed
// pixels, e.g. moved by hand) and updates its sidecar (adjusted = true). Throws FileError /
// FormatError for a missing sidecar or original, FormatError when the original changed size,
// InvalidRequestError when the box is not a square inside the image.
CropSidecar regenerate_output(const std::filesystem::path& output, const Box& crop);

}  // namespace kiln::dataset
