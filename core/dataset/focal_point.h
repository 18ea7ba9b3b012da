#pragma once
// Where the eye goes in a picture without a face, for placing the crop: a blend of spectral
// residual saliency (Hou & Zhang, CVPR 2007), corner density and local entropy, computed on a
// 256 px copy, with a mild pull towards the centre. Internal: this header exposes OpenCV.

#include <opencv2/core/mat.hpp>

#include "dataset/geometry.h"

namespace kiln::dataset {

struct FocalMaps {
  cv::Mat saliency, corners, entropy, combined;  // CV_32F on the small copy, each scaled to 0..1
};

// `bgr`: upright CV_8UC3 at any scale; the point comes back in `displayed` pixels.
Point find_focal_point(const cv::Mat& bgr, ImageSize displayed, FocalMaps* maps = nullptr);

}  // namespace kiln::dataset
