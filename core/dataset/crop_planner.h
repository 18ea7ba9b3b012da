#pragma once
// Where the square crop goes: a pure function of the image size, the face boxes and a focal
// point, so that every rule is unit tested without images. Boxes are in displayed pixels.
//
// Rules, in priority order:
//   1. The square lies inside the image (never padded, never upscaled here).
//   2. The largest face (grown a little for detector noise) is inside, when it fits at all.
//   3. The largest face's centre sits in the middle band of the square (40-60 % by default,
//      inside the middle third), unless the image edge stops the square: then it touches it.
//   4. All faces of a similar size are inside, when they fit together with rules 1-3.
//   5. The head margin (hair above, chin below, ears beside) is inside, where it fits.
//   The square is then centred on the subject (the heads) as far as rules 1-5 allow.

#include <optional>
#include <span>
#include <string>

#include "dataset/geometry.h"

namespace kiln::dataset {

struct CropOptions {
  // 0: the largest square the image holds. > 0: a square this many times the largest face's
  // longer side, at least `min_side` (the output resolution, so that zooming never upscales)
  // and at most the image's shorter side.
  double face_zoom = 0.0;
  int min_side = 0;
  // Head margins as fractions of the face box (a face box runs from the eyebrows to the chin).
  double margin_top = 0.6;
  double margin_bottom = 0.25;
  double margin_side = 0.2;
  // Detector boxes differ from the true face (dlib's IoU with landmark boxes is 0.5-0.9): for
  // rule 2 the box is grown by this fraction per side when that still fits.
  double slack = 0.08;
  // Rule 3: the face centre stays within [band, 1 - band] of the square.
  double centre_band = 0.4;
  // Faces whose longer side is under this fraction of the largest face's do not steer the
  // crop (background people, weak detections).
  double group_min_relative = 0.3;
};

enum class CropSubject {
  Centre,         // no face, no focal point: the centred square
  FocalPoint,     // no face: centred on the focal point (saliency, corners, entropy)
  LargestFace,    // the largest face (one face, or several that do not fit together)
  AllFaces,       // every face of a similar size
  OversizedFace,  // the face is larger than the largest square: centred on it
};

const char* to_string(CropSubject subject);

struct CropPlan {
  Box crop;  // square: w == h
  CropSubject subject = CropSubject::Centre;
  // False when several similar faces were found but only the largest fits.
  bool all_faces_included = true;
  // False when the hair/chin margin of the subject does not fit.
  bool head_margin_included = true;
};

// Faces may come in any order; empty boxes are ignored and boxes are clipped to the image.
// Throws InvalidRequestError for an empty image size or impossible options.
CropPlan plan_crop(ImageSize image, std::span<const Box> faces, std::optional<Point> focal = std::nullopt,
                   const CropOptions& options = {});

// Throws InvalidRequestError unless `crop` is a non-empty square inside `image`
// (for crop boxes the user moved by hand).
void check_crop_box(ImageSize image, const Box& crop);

}  // namespace kiln::dataset
