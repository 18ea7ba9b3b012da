#include "dataset/image_preparer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <new>

#include "base/error.h"
#include "dataset/captions.h"
#include "dataset/focal_point.h"
#include "io/atomic_file.h"

namespace kiln::dataset {

namespace fs = std::filesystem;

namespace {

std::string size_text(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

bool is_jpeg_name(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg";
}

ImageResult skipped(ImageResult r, std::string reason) {
  r.status = ImageStatus::Skipped;
  r.reasons = {std::move(reason)};
  return r;
}

}  // namespace

const char* extension_for(OutputFormat format) { return format == OutputFormat::Jpeg ? ".jpg" : ".png"; }

const char* to_string(ImageStatus status) {
  switch (status) {
    case ImageStatus::Ok:
      return "ok";
    case ImageStatus::Warning:
      return "warning";
    case ImageStatus::Skipped:
      return "skipped";
  }
  return "?";
}

std::string ImageResult::reason() const {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

cv::Mat render_crop(const LoadedImage& image, const Box& crop, int resolution) {
  // The crop in the decoded pixels (a reduced JPEG decode is `reduction` times smaller).
  const double r = image.reduction;
  int x = static_cast<int>(std::lround(crop.x / r));
  int y = static_cast<int>(std::lround(crop.y / r));
  int side = std::max(1, static_cast<int>(std::lround(crop.w / r)));
  side = std::min({side, image.bgr.cols, image.bgr.rows});
  x = std::clamp(x, 0, image.bgr.cols - side);
  y = std::clamp(y, 0, image.bgr.rows - side);
  const cv::Mat region = image.bgr(cv::Rect(x, y, side, side));
  cv::Mat out;
  if (side == resolution)
    region.copyTo(out);
  else
    cv::resize(region, out, cv::Size(resolution, resolution), 0, 0,
               side > resolution ? cv::INTER_AREA : cv::INTER_LANCZOS4);
  return out;
}

void write_image(const fs::path& path, const cv::Mat& bgr, int jpeg_quality) {
  std::vector<uchar> bytes;
  const bool jpeg = is_jpeg_name(path);
  const std::vector<int> params = jpeg ? std::vector<int>{cv::IMWRITE_JPEG_QUALITY, jpeg_quality}
                                       : std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 3};
  bool ok = false;
  try {
    ok = cv::imencode(jpeg ? ".jpg" : ".png", bgr, bytes, params);
  } catch (const cv::Exception& e) {
    throw FileError(std::string("cannot encode the image: ") + e.msg, path);
  }
  if (!ok) throw FileError("cannot encode the image", path);
  io::AtomicFileWriter writer(path);
  writer.write(std::as_bytes(std::span<const uchar>(bytes)));
  writer.commit();
}

CropSidecar sidecar_for(const ImageResult& r, const PrepareRequest& request) {
  CropSidecar s;
  s.source = fs::absolute(r.source);
  s.output = r.output.filename();
  s.source_size = r.source_size;
  s.orientation = r.orientation;
  s.resolution = request.resolution;
  s.crop = r.crop.value_or(Box{});
  s.faces = r.faces;
  s.focal = r.focal;
  s.subject = to_string(r.subject);
  s.status = to_string(r.status);
  s.warnings = r.reasons;
  s.dhash = r.dhash ? to_hex(*r.dhash) : std::string();
  s.background_rgb = request.background_rgb;
  return s;
}

ImageResult prepare_image(const fs::path& source, const OutputPaths& out, const PrepareRequest& request,
                          FaceDetector* detector) {
  ImageResult result;
  result.source = source;

  LoadOptions load;
  load.background_rgb = request.background_rgb;
  // The default crop is the largest square, so the decode may shrink while that square keeps
  // the output's resolution; zooming on a face needs every pixel.
  load.reduce_to_short_side = request.crop.face_zoom > 0 ? 0 : request.resolution;
  if (request.detect_faces) load.reduce_keep_long_side = request.faces.detect_max_side;
  LoadedImage image;
  try {
    image = load_image(source, load);
  } catch (const Error& e) {
    return skipped(std::move(result), e.message());
  } catch (const cv::Exception& e) {
    return skipped(std::move(result), "cannot decode: " + e.msg);
  } catch (const std::bad_alloc&) {
    return skipped(std::move(result), "not enough memory to decode the image");
  }
  result.source_size = image.displayed;
  result.orientation = image.orientation;
  const int short_side = image.displayed.short_side();
  if (short_side < request.min_source_side) {
    return skipped(std::move(result), "image too small: " + size_text(image.displayed.width, image.displayed.height) +
                                          " pixels (the minimum is " + std::to_string(request.min_source_side) + ")");
  }

  std::vector<std::string> warnings;
  if (request.detect_faces && detector != nullptr) {
    for (const DetectedFace& f : detector->detect(image.bgr, image.reduction)) {
      result.faces.push_back(f.box);
      result.landmarks = result.landmarks || f.refined;
    }
  }
  if (result.faces.empty()) result.focal = find_focal_point(image.bgr, image.displayed);

  CropOptions crop_options = request.crop;
  crop_options.min_side = std::max(crop_options.min_side, request.resolution);
  const CropPlan plan = plan_crop(image.displayed, result.faces, result.focal, crop_options);
  result.crop = plan.crop;
  result.subject = plan.subject;

  if (request.detect_faces && result.faces.empty())
    warnings.push_back("no face found: the crop follows the focal point");
  if (!plan.all_faces_included) warnings.push_back("the faces do not fit in one square: the crop holds the largest");
  if (plan.subject == CropSubject::OversizedFace) {
    warnings.push_back("the face is larger than the largest square: the crop is centred on it");
  }
  if (plan.crop.w < request.resolution) {
    if (!request.upscale_small) {
      return skipped(std::move(result), "smaller than the output: the crop is " + size_text(plan.crop.w, plan.crop.w) +
                                            " for " + size_text(request.resolution, request.resolution) +
                                            " (upscaling is off)");
    }
    result.upscaled = true;
    warnings.push_back("upscaled: the crop is " + size_text(plan.crop.w, plan.crop.w) + ", smaller than " +
                       size_text(request.resolution, request.resolution));
  }

  // Caption: the source's own .txt, else the file name rule, then the instance token.
  std::string caption;
  std::optional<CaptionText> existing;
  try {
    existing = read_caption(source);
  } catch (const Error& e) {
    warnings.push_back("caption not read: " + e.message());
  }
  if (existing) {
    caption = existing->text;
    if (existing->converted_from_latin1) warnings.push_back("caption was not UTF-8: read as Latin-1");
  } else if (request.filename_captions) {
    caption = caption_from_filename(source);
  }
  if (!request.instance_token.empty()) caption = add_instance_token(caption, request.instance_token);

  result.dhash = difference_hash(image.bgr);
  write_image(out.image, render_crop(image, plan.crop, request.resolution), request.jpeg_quality);
  result.output = out.image;
  result.sidecar = out.sidecar;
  if (!caption.empty()) {
    write_caption(out.image, caption);
    result.caption = out.caption;
  }
  result.caption_text = caption;
  result.reasons = std::move(warnings);
  result.status = result.reasons.empty() ? ImageStatus::Ok : ImageStatus::Warning;
  return result;
}

}  // namespace kiln::dataset
